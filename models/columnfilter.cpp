#include "columnfilter.h"

#include "decimal.h"
#include "timestamp.h"

namespace meterdesk::ColumnFilter {

namespace {

// The value of one operand in the column's own terms.
std::optional<QVariant> operand(Kind kind, const QString &text, QString *error)
{
    const QString t = text.trimmed();
    switch (kind) {
    case Kind::Text:
        return QVariant(t);
    case Kind::Integer: {
        bool ok = false;
        const qint64 v = t.toLongLong(&ok);
        if (ok)
            return QVariant(v);
        *error = QStringLiteral("“%1” is not a whole number.").arg(t);
        return std::nullopt;
    }
    case Kind::Real:
    case Kind::Decimal: {
        bool ok = false;
        const double v = t.toDouble(&ok);
        if (ok)
            return QVariant(v);
        *error = QStringLiteral("“%1” is not a number.").arg(t);
        return std::nullopt;
    }
    case Kind::Time: {
        const Timestamp::Parsed p = Timestamp::fromUserInput(t);
        if (p.micros)
            return QVariant(*p.micros);
        *error = p.error;
        return std::nullopt;
    }
    }
    return std::nullopt;
}

QString likeEscaped(const QString &text)
{
    QString s = text;
    s.replace(u'\\', QStringLiteral("\\\\"));
    s.replace(u'%', QStringLiteral("\\%"));
    s.replace(u'_', QStringLiteral("\\_"));
    return u'%' + s + u'%';
}

} // namespace

std::optional<Condition> toSql(const QString &lhs, Kind kind, const QString &input, QString *error)
{
    const QString text = input.trimmed();
    if (text.isEmpty())
        return std::nullopt;
    static const QStringList ops = {QStringLiteral(">="), QStringLiteral("<="), QStringLiteral("<>"),
                                    QStringLiteral("!="), QStringLiteral(">"),  QStringLiteral("<"),
                                    QStringLiteral("=")};
    for (const QString &op : ops) {
        if (!text.startsWith(op))
            continue;
        const auto v = operand(kind, text.mid(op.size()), error);
        if (!v)
            return std::nullopt;
        const QString sqlOp = op == QLatin1String("!=") ? QStringLiteral("<>") : op;
        return Condition{QStringLiteral("%1 %2 ?").arg(lhs, sqlOp), {*v}};
    }
    const qsizetype tilde = text.indexOf(u'~');
    if (tilde > 0 && kind != Kind::Text) {
        const auto lo = operand(kind, text.left(tilde), error);
        const auto hi = lo ? operand(kind, text.mid(tilde + 1), error) : std::nullopt;
        if (!lo || !hi)
            return std::nullopt;
        return Condition{QStringLiteral("%1 BETWEEN ? AND ?").arg(lhs), {*lo, *hi}};
    }
    if (kind == Kind::Text)
        return Condition{QStringLiteral("%1 LIKE ? ESCAPE '\\'").arg(lhs), {likeEscaped(text)}};
    const auto v = operand(kind, text, error);
    if (!v)
        return std::nullopt;
    return Condition{QStringLiteral("%1 = ?").arg(lhs), {*v}};
}

} // namespace meterdesk::ColumnFilter
