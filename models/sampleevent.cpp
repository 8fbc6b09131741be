#include "sampleevent.h"

#include "timestamp.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace meterdesk::SampleEvent {

namespace {
QJsonValue sampleValue(FieldType type, qint64 timestampUs)
{
    switch (type) {
    case FieldType::String: return QStringLiteral("example");
    case FieldType::Integer: return 5;
    case FieldType::Float: return 5.5;
    case FieldType::Decimal: return QStringLiteral("12.50");
    case FieldType::Boolean: return true;
    case FieldType::Date: return Timestamp::toIso(timestampUs).left(10);
    case FieldType::DateTime: return Timestamp::toIso(timestampUs);
    case FieldType::Uuid: return QStringLiteral("23507783-d5b4-4854-b012-2bf4ea922205");
    case FieldType::Array: return QJsonArray{1, 2, 3};
    }
    return {};
}

void insertPath(QJsonObject &object, const QStringList &segments, qsizetype i, const QJsonValue &value)
{
    if (i + 1 == segments.size()) {
        object[segments[i]] = value;
        return;
    }
    QJsonObject child = object.value(segments[i]).toObject();
    insertPath(child, segments, i + 1, value);
    object[segments[i]] = child;
}
} // namespace

QByteArray forDefinition(const UsageEventDefinition &definition, qint64 timestampUs)
{
    QJsonObject data;
    for (const SchemaField &f : definition.schema.fields)
        insertPath(data, f.segments(), 0, sampleValue(f.type, timestampUs));
    // The seed's own form: "YYYY-MM-DD HH:MM:SS.fff" in UTC.
    QString ts = Timestamp::toIso(timestampUs);
    ts.replace(u'T', u' ');
    ts.chop(1);
    const QJsonObject event{{QStringLiteral("data"), data},
                            {QStringLiteral("timestamp"), ts},
                            {QStringLiteral("customer_id"), QStringLiteral("customer@example.com")}};
    return QJsonDocument(event).toJson(QJsonDocument::Indented);
}

QString curlCommand(const QString &url, const QString &organisation, const QString &apiKey, const QByteArray &body)
{
    QString compact = QString::fromUtf8(QJsonDocument::fromJson(body).toJson(QJsonDocument::Compact));
    compact.replace(u'\'', QStringLiteral("'\\''"));
    return QStringLiteral("curl --location --request POST '%1' \\\n"
                          "-H 'organisation: %2' \\\n"
                          "-H 'authorization: Bearer %3' \\\n"
                          "-H 'Content-Type: application/json' \\\n"
                          "--data-raw '%4'")
        .arg(url, organisation, apiKey, compact);
}

} // namespace meterdesk::SampleEvent
