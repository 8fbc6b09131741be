#pragma once

#include <QByteArrayView>
#include <QString>

#include <optional>

namespace meterdesk {

// The one timestamp rule (DESIGN.md §1). Everything that reads a time from the
// outside — the endpoint, the importers, the form, the console — calls this.
// Times are stored as INTEGER microseconds since the Unix epoch, UTC.
namespace Timestamp {

inline constexpr qint64 MinMicros = -62135596800LL * 1000000;          // 0001-01-01T00:00:00Z
inline constexpr qint64 MaxMicros = 253402300799LL * 1000000 + 999999; // 9999-12-31T23:59:59.999999Z

struct Parsed
{
    std::optional<qint64> micros;
    QString error; // set when micros is empty
};

// "2023-05-21 09:30:38.731" (UTC), "2023-05-21T09:30:38Z", "...+05:30", 0-9 fraction
// digits (rounded to the microsecond).
Parsed fromText(QStringView text);

// A JSON number token taken as Unix seconds, fraction and exponent allowed,
// converted exactly (never through a double).
Parsed fromEpochSeconds(QByteArrayView numberToken);

// What a person types in a filter or a query parameter: any fromText() form, a
// bare date "YYYY-MM-DD" (its midnight, UTC) or Unix seconds as a plain number.
Parsed fromUserInput(QStringView text);

// "2023-05-21T09:30:38.731Z": canonical RFC 3339, UTC, 3 or 6 fraction digits.
QString toIso(qint64 micros);

// A calendar date "YYYY-MM-DD" -> days since 1970-01-01, for the `date` type.
std::optional<qint64> daysFromDateText(QStringView text);

// The sentence every timestamp error ends with: the accepted forms.
QString acceptedForms();

} // namespace Timestamp
} // namespace meterdesk
