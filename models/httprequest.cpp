#include "httprequest.h"

#include <QRegularExpression>

namespace meterdesk {

QString HttpRequest::expandVariables(const QString &text, const QHash<QString, QString> &variables,
                                     QStringList *unresolved)
{
    static const QRegularExpression pattern(QStringLiteral("\\{\\{\\s*([A-Za-z0-9_.-]+)\\s*\\}\\}"));
    QString out;
    qsizetype last = 0;
    auto it = pattern.globalMatch(text);
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        out += QStringView(text).mid(last, m.capturedStart() - last);
        const QString name = m.captured(1);
        if (const auto found = variables.constFind(name); found != variables.cend()) {
            out += *found;
        } else {
            out += m.captured();
            if (unresolved && !unresolved->contains(name))
                unresolved->append(name);
        }
        last = m.capturedEnd();
    }
    out += QStringView(text).mid(last);
    return out;
}

HttpRequest HttpRequest::withVariables(const QHash<QString, QString> &variables, QStringList *unresolved) const
{
    HttpRequest r = *this;
    r.url = expandVariables(url, variables, unresolved);
    for (HttpHeader &h : r.headers) {
        if (!h.enabled)
            continue;
        h.name = expandVariables(h.name, variables, unresolved);
        h.value = expandVariables(h.value, variables, unresolved);
    }
    r.body = expandVariables(body, variables, unresolved);
    return r;
}

} // namespace meterdesk
