#include "decimal.h"

#include <limits>
#include <string>

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

namespace {

// A canonical text split: sign, integer digits, fraction digits (views into the text).
struct Parts
{
    bool negative = false;
    QByteArrayView intDigits;
    QByteArrayView fracDigits;
};

Parts split(QByteArrayView t)
{
    Parts p;
    if (!t.isEmpty() && t[0] == '-') {
        p.negative = true;
        t = t.sliced(1);
    }
    qsizetype dot = 0;
    while (dot < t.size() && t[dot] != '.')
        ++dot;
    p.intDigits = t.first(dot);
    p.fracDigits = dot < t.size() ? t.sliced(dot + 1) : QByteArrayView();
    if (p.intDigits.isEmpty())
        p.intDigits = QByteArrayView("0");
    return p;
}

// |x| * 10^fracLength as a string of exactly `length` digits (zeros on the left).
std::string aligned(const Parts &p, qsizetype fracLength, qsizetype length)
{
    std::string out(size_t(length), '0');
    const qsizetype intEnd = length - fracLength;
    for (qsizetype i = 0; i < p.intDigits.size(); ++i)
        out[size_t(intEnd - p.intDigits.size() + i)] = p.intDigits[i];
    for (qsizetype i = 0; i < p.fracDigits.size(); ++i)
        out[size_t(intEnd + i)] = p.fracDigits[i];
    return out;
}

// Digits with `fracLength` of them after the point -> canonical text.
QByteArray format(bool negative, const std::string &digits, qsizetype fracLength)
{
    const qsizetype intLength = qsizetype(digits.size()) - fracLength;
    qsizetype first = 0;
    while (first < intLength - 1 && digits[size_t(first)] == '0')
        ++first;
    qsizetype last = qsizetype(digits.size());
    while (last > intLength && digits[size_t(last - 1)] == '0')
        --last;
    QByteArray out;
    out.reserve(last - first + 3);
    if (intLength <= 0) {
        out.append('0');
    } else {
        out.append(digits.data() + first, intLength - first);
    }
    if (last > qMax(intLength, qsizetype(0))) {
        out.append('.');
        if (intLength < 0)
            out.append(QByteArray(-intLength, '0'));
        const qsizetype from = qMax(intLength, qsizetype(0));
        out.append(digits.data() + from, last - from);
    }
    if (out == "0")
        return out;
    if (negative)
        out.prepend('-');
    return out;
}

} // namespace

QByteArray add(QByteArrayView a, QByteArrayView b)
{
    if (a.isEmpty())
        return b.isEmpty() ? QByteArray("0") : b.toByteArray();
    if (b.isEmpty())
        return a.toByteArray();
    const Parts x = split(a), y = split(b);
    const qsizetype frac = qMax(x.fracDigits.size(), y.fracDigits.size());
    const qsizetype length = qMax(x.intDigits.size(), y.intDigits.size()) + frac + 1; // room for a carry
    std::string dx = aligned(x, frac, length), dy = aligned(y, frac, length);
    if (x.negative == y.negative) {
        int carry = 0;
        for (qsizetype i = length - 1; i >= 0; --i) {
            const int d = (dx[size_t(i)] - '0') + (dy[size_t(i)] - '0') + carry;
            dx[size_t(i)] = char('0' + d % 10);
            carry = d / 10;
        }
        return format(x.negative, dx, frac);
    }
    // Different signs: the larger magnitude minus the smaller, with the larger's sign.
    bool negative = x.negative;
    if (dx < dy) {
        std::swap(dx, dy);
        negative = y.negative;
    }
    int borrow = 0;
    for (qsizetype i = length - 1; i >= 0; --i) {
        int d = (dx[size_t(i)] - '0') - (dy[size_t(i)] - '0') - borrow;
        borrow = d < 0;
        if (d < 0)
            d += 10;
        dx[size_t(i)] = char('0' + d);
    }
    return format(negative, dx, frac);
}

QByteArray negate(QByteArrayView a)
{
    if (a.isEmpty() || a == QByteArrayView("0"))
        return QByteArray("0");
    if (a[0] == '-')
        return a.sliced(1).toByteArray();
    QByteArray out;
    out.reserve(a.size() + 1);
    out.append('-');
    out.append(a);
    return out;
}

int compare(QByteArrayView a, QByteArrayView b)
{
    const Parts x = split(a.isEmpty() ? QByteArrayView("0") : a), y = split(b.isEmpty() ? QByteArrayView("0") : b);
    if (x.negative != y.negative)
        return x.negative ? -1 : 1;
    int magnitude = 0;
    if (x.intDigits.size() != y.intDigits.size()) {
        magnitude = x.intDigits.size() < y.intDigits.size() ? -1 : 1;
    } else {
        const qsizetype frac = qMax(x.fracDigits.size(), y.fracDigits.size());
        const qsizetype length = x.intDigits.size() + frac;
        const int c = aligned(x, frac, length).compare(aligned(y, frac, length));
        magnitude = c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    return x.negative ? -magnitude : magnitude;
}

QByteArray divide(QByteArrayView a, qint64 divisor, int fractionDigits)
{
    Q_ASSERT(divisor != 0 && fractionDigits >= 0);
    const Parts x = split(a.isEmpty() ? QByteArrayView("0") : a);
    const bool negative = x.negative != (divisor < 0);
    const unsigned __int128 n = divisor < 0 ? (unsigned __int128)(-(__int128)divisor) : (unsigned __int128)divisor;
    // q, r = |a| * 10^frac / n, with frac >= fractionDigits: then round away the
    // k = frac - fractionDigits extra digits (and the remainder) half-even.
    const qsizetype frac = qMax(x.fracDigits.size(), qsizetype(fractionDigits));
    const std::string numerator = aligned(x, frac, x.intDigits.size() + frac);
    std::string q(numerator.size(), '0');
    unsigned __int128 r = 0;
    for (size_t i = 0; i < numerator.size(); ++i) {
        r = r * 10 + unsigned(numerator[i] - '0');
        q[i] = char('0' + int(r / n));
        r %= n;
    }
    const qsizetype k = frac - fractionDigits;
    std::string high = q.substr(0, q.size() - size_t(k));
    const std::string low = q.substr(q.size() - size_t(k));
    int vsHalf = 0; // the dropped part (low + r/n) / 10^k against 1/2
    if (k == 0) {
        const unsigned __int128 twice = r * 2;
        vsHalf = twice < n ? -1 : (twice > n ? 1 : 0);
    } else {
        std::string half(size_t(k), '0');
        half[0] = '5';
        const int c = low.compare(half);
        vsHalf = c < 0 ? -1 : (c > 0 ? 1 : (r > 0 ? 1 : 0));
    }
    const bool odd = !high.empty() && ((high.back() - '0') % 2 == 1);
    if (vsHalf > 0 || (vsHalf == 0 && odd)) {
        qsizetype i = qsizetype(high.size()) - 1;
        while (i >= 0 && high[size_t(i)] == '9')
            high[size_t(i--)] = '0';
        if (i >= 0)
            high[size_t(i)] = char(high[size_t(i)] + 1);
        else
            high.insert(high.begin(), '1');
    }
    return format(negative, high, fractionDigits);
}

QByteArray fromInt128(__int128 value)
{
    if (value == 0)
        return QByteArray("0");
    const bool negative = value < 0;
    unsigned __int128 m = negative ? (unsigned __int128)0 - (unsigned __int128)value : (unsigned __int128)value;
    char buffer[48];
    int pos = sizeof(buffer);
    while (m) {
        buffer[--pos] = char('0' + int(m % 10));
        m /= 10;
    }
    if (negative)
        buffer[--pos] = '-';
    return QByteArray(buffer + pos, qsizetype(sizeof(buffer)) - pos);
}

} // namespace meterdesk::Decimal
