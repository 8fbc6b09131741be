#pragma once

#include "problem.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace meterdesk {

// Zenskar's column types, plus `array` (kept as JSON text, DESIGN.md §1).
enum class FieldType { String, Integer, Float, Decimal, Boolean, Date, DateTime, Uuid, Array };

namespace FieldTypes {
QString name(FieldType type);                       // "decimal"
std::optional<FieldType> fromName(QStringView name); // "decimal" -> Decimal
QList<FieldType> all();
} // namespace FieldTypes

// One field of a usage event's data schema. `path` is dotted for nested objects
// ("usage.cpu" is data.usage.cpu); its column is "data.<path>".
struct SchemaField
{
    QString path;
    FieldType type = FieldType::String;
    bool required = false;
    QString description;

    QString columnName() const { return QStringLiteral("data.") + path; }
    QStringList segments() const { return path.split(u'.'); }
    bool operator==(const SchemaField &) const = default;
};

// The shape of `data`: an ordered list of fields. A plain value: any thread.
class DataSchema
{
public:
    static constexpr int MaxPathLength = 58; // column "data.<path>" fits PostgreSQL's 63 bytes
    static constexpr int MaxFields = 500;

    QList<SchemaField> fields;

    const SchemaField *field(const QString &path) const;
    bool operator==(const DataSchema &) const = default;

    // Every problem with the field list: bad paths, root fields, duplicates,
    // a path that is both a value and an object.
    Problems validate() const;
    static std::optional<Problem> validatePath(const QString &path, const QString &pointer);

    // JSON Schema (the subset documented in docs/SCHEMA.md).
    QJsonObject toJsonSchema() const;
    static std::optional<DataSchema> fromJsonSchema(const QJsonObject &schema, Problems *problems);

    // Types every member of a sample `data` object (or of a whole event envelope).
    static DataSchema infer(const QJsonObject &sample);
};

} // namespace meterdesk
