#include "slug.h"

namespace meterdesk::Slug {

namespace {
bool isSlugChar(QChar c)
{
    const char16_t u = c.unicode();
    return (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9')
        || u == u'_' || u == u'-';
}
} // namespace

QString derive(const QString &name)
{
    // NFKD splits "é" into "e" + a combining accent, which then falls out as "other".
    const QString decomposed = name.normalized(QString::NormalizationForm_KD).toLower();
    QString out;
    out.reserve(decomposed.size());
    bool pendingSeparator = false;
    for (const QChar c : decomposed) {
        const char16_t u = c.unicode();
        if (c.category() == QChar::Mark_NonSpacing)
            continue;
        if ((u >= u'a' && u <= u'z') || (u >= u'0' && u <= u'9')) {
            if (pendingSeparator && !out.isEmpty())
                out.append(u'_');
            pendingSeparator = false;
            out.append(c);
        } else {
            pendingSeparator = true;
        }
        if (out.size() >= MaxLength)
            break;
    }
    // The cut may fall just after a separator: trim it, as at the start.
    out.truncate(MaxLength);
    while (out.endsWith(u'_'))
        out.chop(1);
    return out;
}

std::optional<Problem> validate(const QString &slug)
{
    if (slug.isEmpty())
        return Problem{ProblemCode::InvalidName, QStringLiteral("slug"),
                       QStringLiteral("The API slug is empty: give the usage event a name or type a slug.")};
    if (slug.size() > MaxLength)
        return Problem{ProblemCode::InvalidName, QStringLiteral("slug"),
                       QStringLiteral("The API slug is %1 characters long; at most %2 are allowed.")
                           .arg(slug.size()).arg(MaxLength)};
    for (const QChar c : slug) {
        if (!isSlugChar(c)) {
            const QString shown = c.isPrint() && !c.isSpace() ? QString(c)
                                                              : QStringLiteral("U+%1").arg(c.unicode(), 4, 16, QLatin1Char('0'));
            return Problem{ProblemCode::InvalidName, QStringLiteral("slug"),
                           QStringLiteral("The API slug may contain only letters, digits, underscores and dashes; “%1” is not allowed.")
                               .arg(shown)};
        }
    }
    return std::nullopt;
}

} // namespace meterdesk::Slug
