#include "timestamp.h"

#include <cstdio>

namespace meterdesk::Timestamp {

namespace {

// Howard Hinnant's days_from_civil: proleptic Gregorian, exact for our range.
qint64 daysFromCivil(qint64 y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const qint64 era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = unsigned(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + qint64(doe) - 719468;
}

void civilFromDays(qint64 z, qint64 &y, unsigned &m, unsigned &d)
{
    z += 719468;
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = unsigned(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = qint64(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

bool isLeap(qint64 y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned daysInMonth(qint64 y, unsigned m)
{
    static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && isLeap(y) ? 29 : days[m - 1];
}

// Reads exactly n digits at pos; -1 when they are not all digits.
int digits(QStringView s, qsizetype pos, int n)
{
    if (pos + n > s.size())
        return -1;
    int v = 0;
    for (int i = 0; i < n; ++i) {
        const char16_t c = s[pos + i].unicode();
        if (c < u'0' || c > u'9')
            return -1;
        v = v * 10 + (c - u'0');
    }
    return v;
}

Parsed fail(const QString &why)
{
    return Parsed{std::nullopt, why + QStringLiteral(" ") + acceptedForms()};
}

struct DateParts
{
    int year, month, day;
};

std::optional<DateParts> readDate(QStringView s, QString *why)
{
    const int y = digits(s, 0, 4), m = digits(s, 5, 2), d = digits(s, 8, 2);
    if (y < 0 || m < 0 || d < 0 || s.size() < 10 || s[4] != u'-' || s[7] != u'-') {
        *why = QStringLiteral("The date must be written YYYY-MM-DD.");
        return std::nullopt;
    }
    if (y < 1 || m < 1 || m > 12 || d < 1 || unsigned(d) > daysInMonth(y, unsigned(m))) {
        *why = QStringLiteral("%1 is not a date in the calendar.").arg(s.left(10));
        return std::nullopt;
    }
    return DateParts{y, m, d};
}

} // namespace

QString acceptedForms()
{
    return QStringLiteral("Accepted forms: \"YYYY-MM-DD HH:MM:SS[.ffffff]\" (UTC), ISO 8601 / RFC 3339 with "
                          "T and Z or an offset (\"2023-05-21T09:30:38.731+05:30\"), or Unix seconds as a "
                          "JSON number (1684661438.731).");
}

std::optional<qint64> daysFromDateText(QStringView text)
{
    QString why;
    if (text.size() != 10)
        return std::nullopt;
    const auto date = readDate(text, &why);
    if (!date)
        return std::nullopt;
    return daysFromCivil(date->year, unsigned(date->month), unsigned(date->day));
}

Parsed fromText(QStringView s)
{
    QString why;
    if (s.size() < 19)
        return fail(QStringLiteral("\"%1\" is not a timestamp.").arg(s.left(64)));
    const auto date = readDate(s, &why);
    if (!date)
        return fail(why);
    if (s[10] != u' ' && s[10] != u'T' && s[10] != u't')
        return fail(QStringLiteral("The date and time must be separated by a space or T."));
    const int hh = digits(s, 11, 2), mm = digits(s, 14, 2), ss = digits(s, 17, 2);
    if (hh < 0 || mm < 0 || ss < 0 || s[13] != u':' || s[16] != u':')
        return fail(QStringLiteral("The time must be written HH:MM:SS."));
    if (hh > 23 || mm > 59 || ss > 59)
        return fail(QStringLiteral("%1 is not a time of day.").arg(s.mid(11, 8)));

    qsizetype pos = 19;
    qint64 micros = 0;
    if (pos < s.size() && s[pos] == u'.') {
        ++pos;
        int n = 0;
        int roundDigit = 0;
        while (pos < s.size() && s[pos].isDigit() && s[pos].unicode() < 128) {
            const int dgt = s[pos].unicode() - u'0';
            if (n < 6)
                micros = micros * 10 + dgt;
            else if (n == 6)
                roundDigit = dgt;
            ++n;
            ++pos;
        }
        if (n == 0 || n > 9)
            return fail(QStringLiteral("A fraction of a second needs 1 to 9 digits."));
        for (int i = n; i < 6; ++i)
            micros *= 10;
        if (roundDigit >= 5)
            ++micros;
    }

    qint64 offsetSeconds = 0;
    if (pos < s.size()) {
        const QChar c = s[pos];
        if ((c == u'Z' || c == u'z') && pos + 1 == s.size()) {
            // The designator ends the text: nothing left to read.
        } else if (c == u'+' || c == u'-') {
            const QStringView rest = s.mid(pos + 1);
            int oh = -1, om = 0;
            if (rest.size() == 5 && rest[2] == u':') {
                oh = digits(rest, 0, 2);
                om = digits(rest, 3, 2);
            } else if (rest.size() == 4) {
                oh = digits(rest, 0, 2);
                om = digits(rest, 2, 2);
            } else if (rest.size() == 2) {
                oh = digits(rest, 0, 2);
            }
            if (oh < 0 || om < 0 || oh > 23 || om > 59)
                return fail(QStringLiteral("The UTC offset must be written ±HH:MM."));
            offsetSeconds = (qint64(oh) * 3600 + qint64(om) * 60) * (c == u'-' ? -1 : 1);
        } else {
            return fail(QStringLiteral("Unexpected \"%1\" after the time.").arg(s.mid(pos).left(32)));
        }
    }

    const qint64 days = daysFromCivil(date->year, unsigned(date->month), unsigned(date->day));
    const qint64 seconds = days * 86400 + qint64(hh) * 3600 + qint64(mm) * 60 + ss - offsetSeconds;
    const qint64 result = seconds * 1000000 + micros;
    if (result < MinMicros || result > MaxMicros)
        return fail(QStringLiteral("The time falls outside the years 0001 to 9999 in UTC."));
    return Parsed{result, {}};
}

Parsed fromEpochSeconds(QByteArrayView t)
{
    // Grammar of a JSON number: -?int(.frac)?([eE][+-]?exp)?
    qsizetype pos = 0;
    const bool negative = pos < t.size() && t[pos] == '-';
    if (negative)
        ++pos;
    QByteArray mantissa; // all significant digits, int then frac
    qint64 pointShift = 0; // digits after the point
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9')
        mantissa.append(t[pos++]);
    if (mantissa.isEmpty())
        return fail(QStringLiteral("\"%1\" is not a number of seconds.").arg(QString::fromUtf8(t.first(qMin<qsizetype>(64, t.size())))));
    if (pos < t.size() && t[pos] == '.') {
        ++pos;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
            mantissa.append(t[pos++]);
            ++pointShift;
        }
    }
    qint64 exponent = 0;
    if (pos < t.size() && (t[pos] == 'e' || t[pos] == 'E')) {
        ++pos;
        bool expNegative = false;
        if (pos < t.size() && (t[pos] == '+' || t[pos] == '-'))
            expNegative = t[pos++] == '-';
        // Saturate rather than drop digits: "1e0000001" is 10 s, and any exponent past
        // 10^6 is far outside the range checked below either way.
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
            exponent = qMin<qint64>(exponent * 10 + (t[pos] - '0'), 1000000);
            ++pos;
        }
        if (expNegative)
            exponent = -exponent;
    }
    if (pos != t.size())
        return fail(QStringLiteral("\"%1\" is not a number of seconds.").arg(QString::fromUtf8(t.first(qMin<qsizetype>(64, t.size())))));

    // value = mantissa * 10^(exponent - pointShift) seconds; we want micros = value * 10^6.
    qint64 scale = exponent - pointShift + 6;
    // Strip leading zeros so the length check below means magnitude.
    qsizetype lead = 0;
    while (lead < mantissa.size() - 1 && mantissa[lead] == '0')
        ++lead;
    mantissa = mantissa.mid(lead);
    const bool isZero = mantissa == "0";
    if (!isZero && qint64(mantissa.size()) + scale > 18)
        return fail(QStringLiteral("%1 seconds after 1970 is past the year 9999 (milliseconds sent as seconds?).")
                        .arg(QString::fromUtf8(t.first(qMin<qsizetype>(32, t.size())))));
    qint64 micros = 0;
    int roundDigit = 0;
    if (scale >= 0) {
        for (char c : std::as_const(mantissa))
            micros = micros * 10 + (c - '0');
        for (qint64 i = 0; i < scale && !isZero; ++i)
            micros *= 10;
    } else {
        const qsizetype keep = mantissa.size() + scale; // digits that stay whole micros
        for (qsizetype i = 0; i < keep; ++i)
            micros = micros * 10 + (mantissa[i] - '0');
        if (keep >= 0 && keep < mantissa.size())
            roundDigit = mantissa[keep] - '0';
    }
    if (roundDigit >= 5)
        ++micros;
    if (negative)
        micros = -micros;
    if (micros < MinMicros || micros > MaxMicros)
        return fail(QStringLiteral("%1 seconds is outside the years 0001 to 9999 (milliseconds sent as seconds?).")
                        .arg(QString::fromUtf8(t.first(qMin<qsizetype>(32, t.size())))));
    return Parsed{micros, {}};
}

Parsed fromUserInput(QStringView input)
{
    const QStringView t = input.trimmed();
    if (const auto days = daysFromDateText(t))
        return Parsed{*days * 86400LL * 1000000, {}};
    const bool number = !t.isEmpty() && !t.contains(u':') && t.lastIndexOf(u'-') <= 0;
    return number ? fromEpochSeconds(t.toLatin1()) : fromText(t);
}

QString toIso(qint64 micros)
{
    qint64 seconds = micros / 1000000;
    qint64 frac = micros % 1000000;
    if (frac < 0) {
        frac += 1000000;
        --seconds;
    }
    qint64 days = seconds / 86400;
    qint64 sod = seconds % 86400;
    if (sod < 0) {
        sod += 86400;
        --days;
    }
    qint64 y;
    unsigned m, d;
    civilFromDays(days, y, m, d);
    // snprintf into a small buffer: this runs for every answer the endpoint gives.
    char buf[40];
    int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y), m, d,
                          static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                          static_cast<long long>(sod % 60));
    if (frac % 1000 == 0)
        n += std::snprintf(buf + n, sizeof buf - size_t(n), ".%03lldZ", static_cast<long long>(frac / 1000));
    else
        n += std::snprintf(buf + n, sizeof buf - size_t(n), ".%06lldZ", static_cast<long long>(frac));
    return QString::fromLatin1(buf, n);
}

} // namespace meterdesk::Timestamp
