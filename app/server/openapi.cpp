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

QJsonObject queryParameter(const char *name, const QJsonObject &schema, const QString &description, bool required = false)
{
    return QJsonObject{{QStringLiteral("name"), QLatin1String(name)},
                       {QStringLiteral("in"), QStringLiteral("query")},
                       {QStringLiteral("required"), required},
                       {QStringLiteral("description"), description},
                       {QStringLiteral("schema"), schema}};
}

// GET /usage/{slug}/aggregate (docs/METERS.md).
QJsonObject aggregateOperation(const UsageEventDefinition &d, const QJsonArray &security, const QJsonObject &organisation)
{
    QJsonArray fields;
    for (const SchemaField &f : d.schema.fields)
        fields.append(f.path);
    const QJsonObject string{{QStringLiteral("type"), QStringLiteral("string")}};
    QJsonObject fieldSchema = string;
    if (!fields.isEmpty())
        fieldSchema[u"enum"] = fields;
    auto oneOf = [](std::initializer_list<const char *> names, const char *fallback) {
        QJsonArray values;
        for (const char *n : names)
            values.append(QLatin1String(n));
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                           {QStringLiteral("enum"), values},
                           {QStringLiteral("default"), QLatin1String(fallback)}};
    };
    const QJsonArray parameters{
        organisation,
        queryParameter("field", fieldSchema, QStringLiteral("A data field; absent: COUNT of rows")),
        queryParameter("fn", oneOf({"sum", "count", "min", "max", "avg", "unique_count", "latest"}, "sum"),
                       QStringLiteral("Numbers take all; other fields count, unique_count, latest")),
        queryParameter("window", oneOf({"hour", "day", "month"}, "day"), QStringLiteral("Calendar windows in tz")),
        queryParameter("from", string, QStringLiteral("Inclusive: a timestamp form, a date, or Unix seconds"), true),
        queryParameter("to", string, QStringLiteral("Exclusive"), true),
        queryParameter("tz", QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}, {QStringLiteral("default"), QStringLiteral("UTC")}},
                       QStringLiteral("IANA time zone (DST-aware windows)")),
        QJsonObject{{QStringLiteral("name"), QStringLiteral("customer_id")},
                    {QStringLiteral("in"), QStringLiteral("query")},
                    {QStringLiteral("description"), QStringLiteral("Only these customers (repeat the parameter)")},
                    {QStringLiteral("schema"), QJsonObject{{QStringLiteral("type"), QStringLiteral("array")}, {QStringLiteral("items"), string}}},
                    {QStringLiteral("style"), QStringLiteral("form")},
                    {QStringLiteral("explode"), true}},
        queryParameter("top", QJsonObject{{QStringLiteral("type"), QStringLiteral("integer")}, {QStringLiteral("minimum"), 1}},
                       QStringLiteral("Only the N customers with the largest total"))};
    QJsonObject responses{{QStringLiteral("200"), QJsonObject{{QStringLiteral("description"),
                                                               QStringLiteral("{slug, field, fn, window, tz, from, to, windows, customers, "
                                                                              "results: [{customer_id, window_start, value, rows}]}")}}}};
    for (const char *status : {"400", "401", "403", "404", "429", "503"})
        responses[QLatin1String(status)] = ref("responses/problem");
    return QJsonObject{{QStringLiteral("summary"), QStringLiteral("Aggregate %1 events per customer and window").arg(d.name)},
                       {QStringLiteral("security"), security},
                       {QStringLiteral("parameters"), parameters},
                       {QStringLiteral("responses"), responses}};
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
        paths[QStringLiteral("/usage/") + d.slug + QStringLiteral("/aggregate")] =
            QJsonObject{{QStringLiteral("get"), aggregateOperation(d, security, ref("parameters/organisation"))}};
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
