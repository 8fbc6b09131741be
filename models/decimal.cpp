#include "decimal.h"

#include <limits>

namespace meterdesk::Decimal {

std::optional<QByteArray> canonical(QByteArrayView t)
{
    qsizetype pos = 0;
    bool negative = false;
    if (pos < t.size() && (t[pos] == '-' || t[pos] == '+'))
        negative = t[pos++] == '-';
    QByteArray digits;
    qint64 pointShift = 0;
    bool any = false;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
        digits.append(t[pos++]);
        any = true;
    }
    if (pos < t.size() && t[pos] == '.') {
        ++pos;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
            digits.append(t[pos++]);
            ++pointShift;
            any = true;
        }
    }
    if (!any)
        return std::nullopt;
    qint64 exponent = 0;
    if (pos < t.size() && (t[pos] == 'e' || t[pos] == 'E')) {
        ++pos;
        bool expNegative = false;
        if (pos < t.size() && (t[pos] == '+' || t[pos] == '-'))
            expNegative = t[pos++] == '-';
        int n = 0;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
            if (++n > 4)
                return std::nullopt; // exponents past 9999 are not billing numbers
            exponent = exponent * 10 + (t[pos++] - '0');
        }
        if (n == 0)
            return std::nullopt;
        if (expNegative)
            exponent = -exponent;
    }
    if (pos != t.size())
        return std::nullopt;

    // value = digits * 10^(exponent - pointShift)
    qint64 scale = exponent - pointShift;
    qsizetype lead = 0;
    while (lead < digits.size() && digits[lead] == '0')
        ++lead;
    digits = digits.mid(lead);
    while (!digits.isEmpty() && digits.endsWith('0')) {
        digits.chop(1);
        ++scale;
    }
    if (digits.isEmpty())
        return QByteArray("0");
    if (digits.size() > MaxDigits)
        return std::nullopt;
    QByteArray out;
    if (negative)
        out.append('-');
    if (scale >= 0) {
        if (digits.size() + scale > MaxDigits)
            return std::nullopt;
        out.append(digits);
        out.append(QByteArray(scale, '0'));
    } else {
        const qint64 fracDigits = -scale;
        if (fracDigits > MaxDigits)
            return std::nullopt;
        if (fracDigits >= digits.size()) {
            out.append("0.");
            out.append(QByteArray(fracDigits - digits.size(), '0'));
            out.append(digits);
        } else {
            out.append(digits.left(digits.size() - fracDigits));
            out.append('.');
            out.append(digits.right(fracDigits));
        }
    }
    return out;
}

std::optional<qint64> toInt64(QByteArrayView c)
{
    if (c.contains('.'))
        return std::nullopt;
    bool ok = false;
    const qint64 v = QByteArray(c.data(), c.size()).toLongLong(&ok);
    if (!ok)
        return std::nullopt;
    return v;
}

} // namespace meterdesk::Decimal
