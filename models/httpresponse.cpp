#include "httpresponse.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace meterdesk {

QByteArray HttpResponse::header(const QByteArray &name) const
{
    for (const auto &h : headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    return {};
}

bool HttpResponse::isProblem() const
{
    return header("Content-Type").trimmed().toLower().startsWith("application/problem+json");
}

QList<HttpResponse::Problem> HttpResponse::problems() const
{
    QList<Problem> out;
    if (!isProblem())
        return out;
    const QJsonArray errors = QJsonDocument::fromJson(body).object().value(QLatin1String("errors")).toArray();
    for (const QJsonValue &e : errors) {
        const QJsonObject o = e.toObject();
        out.append({o.value(QLatin1String("pointer")).toString(), o.value(QLatin1String("detail")).toString()});
    }
    return out;
}

QString HttpResponse::problemDetail() const
{
    if (!isProblem())
        return {};
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    const QString detail = o.value(QLatin1String("detail")).toString();
    return detail.isEmpty() ? o.value(QLatin1String("title")).toString() : detail;
}

} // namespace meterdesk
