#include "openapi.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace meterdesk::OpenApi {

namespace {
QJsonObject ref(const char *name)
{
    return QJsonObject{{QStringLiteral("$ref"), QString(QStringLiteral("#/components/") + QLatin1String(name))}};
}

QJsonObject envelope(const UsageEventDefinition &d)
{
    QJsonObject data = d.schema.toJsonSchema();
    data.remove(u"$schema");
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), QJsonArray{QStringLiteral("data"), QStringLiteral("timestamp"), QStringLiteral("customer_id")}},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("data"), data},
                     {QStringLiteral("timestamp"),
                      QJsonObject{{QStringLiteral("description"),
                                   QStringLiteral("\"YYYY-MM-DD HH:MM:SS[.ffffff]\" (UTC), RFC 3339, or Unix seconds")},
                                  {QStringLiteral("type"), QJsonArray{QStringLiteral("string"), QStringLiteral("number")}}}},
                     {QStringLiteral("customer_id"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}}}};
}
} // namespace

QByteArray document(const QList<UsageEventDefinition> &definitions)
{
    QJsonObject paths;
    const QJsonArray security{QJsonObject{{QStringLiteral("bearer"), QJsonArray{}}},
                              QJsonObject{{QStringLiteral("apiKey"), QJsonArray{}}}};
    const QJsonArray params{ref("parameters/organisation")};
    for (const UsageEventDefinition &d : definitions) {
        const QJsonObject body = envelope(d);
        const QJsonObject errors{{QStringLiteral("400"), ref("responses/problem")}, {QStringLiteral("401"), ref("responses/problem")},
                                 {QStringLiteral("403"), ref("responses/problem")}, {QStringLiteral("409"), ref("responses/problem")},
                                 {QStringLiteral("413"), ref("responses/problem")}, {QStringLiteral("422"), ref("responses/problem")},
                                 {QStringLiteral("429"), ref("responses/problem")}};
        QJsonObject single = errors;
        single[u"201"] = QJsonObject{{QStringLiteral("description"), QStringLiteral("Stored")}};
        single[u"200"] = QJsonObject{{QStringLiteral("description"), QStringLiteral("Exact duplicate, not stored twice")}};
        paths[QStringLiteral("/usage/") + d.slug] = QJsonObject{
            {QStringLiteral("post"),
             QJsonObject{{QStringLiteral("summary"), QStringLiteral("Send one %1 event").arg(d.name)},
                         {QStringLiteral("security"), security},
                         {QStringLiteral("parameters"), params},
                         {QStringLiteral("requestBody"),
                          QJsonObject{{QStringLiteral("required"), true},
                                      {QStringLiteral("content"),
                                       QJsonObject{{QStringLiteral("application/json"), QJsonObject{{QStringLiteral("schema"), body}}}}}}},
                         {QStringLiteral("responses"), single}}},
            {QStringLiteral("get"),
             QJsonObject{{QStringLiteral("summary"), QStringLiteral("List stored %1 events, newest first").arg(d.name)},
                         {QStringLiteral("security"), security},
                         {QStringLiteral("parameters"), params},
                         {QStringLiteral("responses"), QJsonObject{{QStringLiteral("200"), QJsonObject{{QStringLiteral("description"), QStringLiteral("A page of events")}}}}}}}};
        QJsonObject batchResponses = errors;
        batchResponses[u"201"] = QJsonObject{{QStringLiteral("description"), QStringLiteral("Stored")}};
        paths[QStringLiteral("/usage/") + d.slug + QStringLiteral("/batch")] = QJsonObject{
            {QStringLiteral("post"),
             QJsonObject{{QStringLiteral("summary"), QStringLiteral("Send up to 10,000 %1 events (JSON array or NDJSON)").arg(d.name)},
                         {QStringLiteral("security"), security},
                         {QStringLiteral("parameters"), params},
                         {QStringLiteral("requestBody"),
                          QJsonObject{{QStringLiteral("content"),
                                       QJsonObject{{QStringLiteral("application/json"),
                                                    QJsonObject{{QStringLiteral("schema"),
                                                                 QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                                                             {QStringLiteral("items"), body}}}}}}}}},
                         {QStringLiteral("responses"), batchResponses}}}};
    }
    const QJsonObject components{
        {QStringLiteral("securitySchemes"),
         QJsonObject{{QStringLiteral("bearer"), QJsonObject{{QStringLiteral("type"), QStringLiteral("http")}, {QStringLiteral("scheme"), QStringLiteral("bearer")}}},
                     {QStringLiteral("apiKey"), QJsonObject{{QStringLiteral("type"), QStringLiteral("apiKey")}, {QStringLiteral("in"), QStringLiteral("header")}, {QStringLiteral("name"), QStringLiteral("x-api-key")}}}}},
        {QStringLiteral("parameters"),
         QJsonObject{{QStringLiteral("organisation"),
                      QJsonObject{{QStringLiteral("name"), QStringLiteral("organisation")}, {QStringLiteral("in"), QStringLiteral("header")},
                                  {QStringLiteral("required"), true},
                                  {QStringLiteral("schema"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}, {QStringLiteral("format"), QStringLiteral("uuid")}}}}}}},
        {QStringLiteral("responses"),
         QJsonObject{{QStringLiteral("problem"),
                      QJsonObject{{QStringLiteral("description"), QStringLiteral("RFC 9457 problem details")},
                                  {QStringLiteral("content"), QJsonObject{{QStringLiteral("application/problem+json"), QJsonObject{}}}}}}}}};
    const QJsonObject root{{QStringLiteral("openapi"), QStringLiteral("3.1.0")},
                           {QStringLiteral("info"), QJsonObject{{QStringLiteral("title"), QStringLiteral("Meterdesk ingestion API")},
                                                                {QStringLiteral("version"), QStringLiteral(MDK_VERSION)}}},
                           {QStringLiteral("paths"), paths},
                           {QStringLiteral("components"), components}};
    return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

} // namespace meterdesk::OpenApi
