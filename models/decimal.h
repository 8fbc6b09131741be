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

// Exact arithmetic on canonical texts (as canonical() gives them; empty counts as 0).
// Results are canonical and have no digit limit: a sum of many 38-digit values may
// need more digits than MaxDigits, and is still exact.
QByteArray add(QByteArrayView a, QByteArrayView b);
QByteArray negate(QByteArrayView a);
int compare(QByteArrayView a, QByteArrayView b); // -1, 0, 1
// a / divisor (divisor != 0), rounded half-even to `fractionDigits` fraction digits,
// canonical (trailing zeros dropped): divide("2", 3, 12) == "0.666666666667".
QByteArray divide(QByteArrayView a, qint64 divisor, int fractionDigits);
// A 128-bit integer as canonical text (exact integer sums beyond int64).
QByteArray fromInt128(__int128 value);

} // namespace Decimal
} // namespace meterdesk
