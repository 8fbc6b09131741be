#include "eventexporter.h"

#include "keyset.h"

#include "csvwriter.h"
#include "jsonvalue.h"
#include "timestamp.h"
#include "workspace.h"

#include <QIODevice>
#include <QSqlError>
#include <QSqlQuery>

namespace meterdesk {

namespace {

// A stored data value as a CSV cell (what the importer turns back into the same value).
CsvWriter::Cell cellOf(const JsonValue *value)
{
    if (!value || value->isNull())
        return {QByteArray(), true};
    switch (value->type()) {
    case JsonValue::Type::String:
    case JsonValue::Type::Number: return {value->text()};
    case JsonValue::Type::Bool: return {value->toBool() ? QByteArrayLiteral("true") : QByteArrayLiteral("false")};
    default: return {value->toJson()};
    }
}

} // namespace

std::optional<ExportFormat> EventExporter::formatFromName(QStringView name)
{
    if (name.compare(QLatin1String("csv"), Qt::CaseInsensitive) == 0)
        return ExportFormat::Csv;
    if (name.compare(QLatin1String("ndjson"), Qt::CaseInsensitive) == 0)
        return ExportFormat::Ndjson;
    return std::nullopt;
}

ExportResult EventExporter::run(const Workspace &workspace, const UsageEventDefinition &d, QIODevice &output,
                                const ExportOptions &o)
{
    ExportResult result;
    QList<QList<QByteArray>> paths; // each field's path segments
    for (const SchemaField &f : d.schema.fields) {
        QList<QByteArray> segments;
        for (const QString &s : f.segments())
            segments.append(s.toUtf8());
        paths.append(segments);
    }
    auto write = [&](const QByteArray &bytes) {
        if (output.write(bytes) != bytes.size()) {
            result.error = QStringLiteral("cannot write: %1").arg(output.errorString());
            return false;
        }
        return true;
    };
    if (o.format == ExportFormat::Csv) {
        QList<QByteArray> header{QByteArrayLiteral("customer_id"), QByteArrayLiteral("timestamp")};
        for (const SchemaField &f : d.schema.fields)
            header.append(f.path.toUtf8());
        if (!write(CsvWriter::record(header)))
            return result;
    }

    QStringList where;
    QVariantList binds;
    if (!o.customerId.isEmpty()) {
        where.append(QStringLiteral("customer_id = ?"));
        binds.append(o.customerId);
    }
    if (o.fromUs) {
        where.append(QStringLiteral("\"timestamp\" >= ?"));
        binds.append(*o.fromUs);
    }
    if (o.toUs) {
        where.append(QStringLiteral("\"timestamp\" < ?"));
        binds.append(*o.toUs);
    }
    const QString select = QStringLiteral("SELECT id, customer_id, \"timestamp\", data FROM %1 WHERE %2 "
                                          "ORDER BY \"timestamp\", id LIMIT %3")
                               .arg(SqlDialect::quote(d.tableName()));
    const QString filter = where.isEmpty() ? QString() : where.join(QStringLiteral(" AND ")) + QStringLiteral(" AND ");
    const int pageSize = qBound(1, o.pageSize, 100000);
    QSqlQuery first(workspace.database());
    QSqlQuery after(workspace.database());
    first.setForwardOnly(true);
    after.setForwardOnly(true);
    if (!first.prepare(select.arg(filter + QStringLiteral("1 = 1")).arg(pageSize))
        || !after.prepare(select.arg(filter + Keyset::after(QStringLiteral("\"timestamp\""), false))
                              .arg(pageSize))) {
        result.error = first.lastError().text() + after.lastError().text();
        return result;
    }
    std::optional<QPair<qint64, qint64>> last; // keyset cursor: (timestamp, id) of the last row written
    while (true) {
        if (o.cancel && o.cancel->load()) {
            result.cancelled = true;
            return result;
        }
        QSqlQuery &q = last ? after : first;
        for (qsizetype i = 0; i < binds.size(); ++i)
            q.bindValue(int(i), binds[i]);
        if (last) {
            q.bindValue(int(binds.size()), last->first);
            q.bindValue(int(binds.size()) + 1, last->first);
            q.bindValue(int(binds.size()) + 2, last->second);
        }
        if (!q.exec()) {
            result.error = q.lastError().text();
            return result;
        }
        QByteArray page;
        int rows = 0;
        while (q.next()) {
            ++rows;
            const qint64 id = q.value(0).toLongLong();
            const QByteArray customer = q.value(1).toString().toUtf8();
            const qint64 timestamp = q.value(2).toLongLong();
            const QByteArray data = q.value(3).toString().toUtf8();
            const QByteArray iso = Timestamp::toIso(timestamp).toLatin1();
            last = qMakePair(timestamp, id);
            if (o.format == ExportFormat::Ndjson) {
                page += "{\"data\":" + data + ",\"timestamp\":\"" + iso + "\",\"customer_id\":";
                appendJsonString(page, customer);
                page += "}\n";
                continue;
            }
            const JsonValue::ParseResult parsed = JsonValue::parse(data);
            QList<CsvWriter::Cell> cells{{customer}, {iso}};
            for (const QList<QByteArray> &path : std::as_const(paths)) {
                const JsonValue *v = parsed.ok ? &parsed.value : nullptr;
                for (const QByteArray &segment : path)
                    v = v ? v->member(segment) : nullptr;
                cells.append(cellOf(v));
            }
            page += CsvWriter::record(cells);
        }
        q.finish();
        if (rows > 0 && !write(page))
            return result;
        result.rows += rows;
        if (o.progress)
            o.progress(result.rows);
        if (rows < pageSize)
            return result;
    }
}

} // namespace meterdesk
