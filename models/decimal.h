#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

namespace meterdesk {

// Exact decimal numbers as text: the `decimal` type never passes through a double.
namespace Decimal {

inline constexpr int MaxDigits = 38; // what PostgreSQL NUMERIC(38, s) and most billing systems hold

// "0012.500" -> "12.5", "1e3" -> "1000", "-0.0" -> "0". Accepts a JSON number token
// or a numeric string (surrounding spaces not allowed). Empty when not a number or
// when it needs more than MaxDigits significant digits.
std::optional<QByteArray> canonical(QByteArrayView text);

// The canonical text as int64 when it is an integer in range.
std::optional<qint64> toInt64(QByteArrayView canonicalText);

} // namespace Decimal
} // namespace meterdesk
