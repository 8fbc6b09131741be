#include "consolehistory.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace meterdesk {

namespace {
QJsonObject requestToJson(const HttpRequest &r)
{
    QJsonArray headers;
    for (const HttpHeader &h : r.headers)
        headers.append(QJsonObject{{QStringLiteral("name"), h.name}, {QStringLiteral("value"), h.value},
                                   {QStringLiteral("enabled"), h.enabled}});
    return {{QStringLiteral("method"), r.method}, {QStringLiteral("url"), r.url},
            {QStringLiteral("headers"), headers}, {QStringLiteral("body"), r.body}};
}

HttpRequest requestFromJson(const QJsonObject &o)
{
    HttpRequest r;
    r.method = o.value(QLatin1String("method")).toString(QStringLiteral("GET"));
    r.url = o.value(QLatin1String("url")).toString();
    for (const QJsonValue &v : o.value(QLatin1String("headers")).toArray()) {
        const QJsonObject h = v.toObject();
        r.headers.append({h.value(QLatin1String("name")).toString(), h.value(QLatin1String("value")).toString(),
                          h.value(QLatin1String("enabled")).toBool(true)});
    }
    r.body = o.value(QLatin1String("body")).toString();
    return r;
}
} // namespace

void ConsoleHistory::add(HistoryEntry entry)
{
    if (entry.response.body.size() > MaxBodyBytes)
        entry.response.body.truncate(MaxBodyBytes);
    m_entries.prepend(std::move(entry));
    if (m_entries.size() > MaxEntries)
        m_entries.resize(MaxEntries);
}

QList<qsizetype> ConsoleHistory::search(const QString &text) const
{
    QList<qsizetype> out;
    const QString needle = text.trimmed();
    for (qsizetype i = 0; i < m_entries.size(); ++i)
        if (needle.isEmpty() || m_entries[i].request.url.contains(needle, Qt::CaseInsensitive))
            out.append(i);
    return out;
}

QByteArray ConsoleHistory::toJson() const
{
    QJsonArray entries;
    for (const HistoryEntry &e : m_entries) {
        QJsonArray headers;
        for (const auto &[name, value] : e.response.headers)
            headers.append(QJsonArray{QString::fromUtf8(name), QString::fromUtf8(value)});
        const QJsonObject response{{QStringLiteral("status"), e.response.status},
                                   {QStringLiteral("reason"), e.response.reason},
                                   {QStringLiteral("elapsedMs"), e.response.elapsedMs},
                                   {QStringLiteral("error"), e.response.error},
                                   {QStringLiteral("headers"), headers},
                                   {QStringLiteral("body"), QString::fromUtf8(e.response.body)}};
        entries.append(QJsonObject{{QStringLiteral("sentAt"), e.sentAt.toUTC().toString(Qt::ISODateWithMs)},
                                   {QStringLiteral("request"), requestToJson(e.request)},
                                   {QStringLiteral("response"), response}});
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("version"), 1}, {QStringLiteral("entries"), entries}}).toJson(QJsonDocument::Compact);
}

std::optional<ConsoleHistory> ConsoleHistory::fromJson(const QByteArray &json, QString *error)
{
    QJsonParseError parseError;
    const QJsonObject root = QJsonDocument::fromJson(json, &parseError).object();
    if (parseError.error != QJsonParseError::NoError || root.value(QLatin1String("version")).toInt() != 1) {
        *error = QStringLiteral("not a console history file (version 1)");
        return std::nullopt;
    }
    ConsoleHistory history;
    for (const QJsonValue &v : root.value(QLatin1String("entries")).toArray()) {
        const QJsonObject o = v.toObject();
        HistoryEntry e;
        e.sentAt = QDateTime::fromString(o.value(QLatin1String("sentAt")).toString(), Qt::ISODateWithMs);
        e.request = requestFromJson(o.value(QLatin1String("request")).toObject());
        const QJsonObject r = o.value(QLatin1String("response")).toObject();
        e.response.status = r.value(QLatin1String("status")).toInt();
        e.response.reason = r.value(QLatin1String("reason")).toString();
        e.response.elapsedMs = r.value(QLatin1String("elapsedMs")).toInteger();
        e.response.error = r.value(QLatin1String("error")).toString();
        for (const QJsonValue &h : r.value(QLatin1String("headers")).toArray())
            e.response.headers.append({h.toArray().at(0).toString().toUtf8(), h.toArray().at(1).toString().toUtf8()});
        e.response.body = r.value(QLatin1String("body")).toString().toUtf8();
        history.m_entries.append(std::move(e));
        if (history.m_entries.size() == MaxEntries)
            break;
    }
    return history;
}

} // namespace meterdesk
