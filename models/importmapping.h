#pragma once

#include "csvreader.h"
#include "dataschema.h"
#include "jsonvalue.h"
#include "problem.h"

#include <QHash>
#include <QStringList>

#include <optional>

namespace meterdesk {

// Where each column of an import file lands: customer_id, timestamp, a schema
// field, or nowhere (mapped to ""). Built once from a CSV header and the user's
// mapping (file column -> field); it turns a row into the event envelope the
// validator reads, and the validator's JSON pointers back into column names.
// For NDJSON the "columns" are the root fields and the schema's field paths.
// A plain value: any thread.
class ImportMapping
{
public:
    static std::optional<ImportMapping> fromHeader(const DataSchema &schema, const QStringList &header,
                                                   const QHash<QString, QString> &mapping, QString *error);
    static ImportMapping forEvents(const DataSchema &schema);

    qsizetype columnCount() const { return m_columns.size(); }
    QStringList columnNames() const;

    // {"customer_id":..,"timestamp":..,"data":{..}} from one CSV row of columnCount()
    // cells. An unquoted empty cell is an absent value; `""` is an empty string.
    JsonValue envelope(const QList<CsvRecord::Cell> &cells) const;

    // The cells a preview shows for an NDJSON event, one per column.
    QStringList cellsOf(const JsonValue &event) const;

    // The validator's problems as one line, pointers replaced by column names:
    // "timestamp: timestamp must be …; cpu_hours: expected a number …".
    QString reason(const Problems &problems) const;

private:
    enum class Kind { Ignored, CustomerId, Timestamp, Field };
    struct Column
    {
        QString name;
        Kind kind = Kind::Ignored;
        QString path; // the field's path for Kind::Field
        FieldType type = FieldType::String;
        QList<QByteArray> segments;
    };
    void index(const Column &column);

    QList<Column> m_columns;
    QHash<QString, qsizetype> m_columnOfPointer; // "/data/usage/cpu" -> column index
};

} // namespace meterdesk
