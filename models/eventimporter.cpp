#include "eventimporter.h"

#include "csvreader.h"
#include "csvwriter.h"
#include "eventstore.h"
#include "importmapping.h"
#include "validator.h"
#include "workspace.h"

#include <QFileInfo>
#include <QIODevice>
#include <QSqlError>

#include <algorithm>

namespace meterdesk {

namespace {

constexpr qsizetype MaxEventLine = qsizetype(1024) * 1024; // the endpoint's limit for one event

// One row of input, whatever the format.
struct InputRow
{
    qint64 line = 0;
    QList<CsvRecord::Cell> cells; // CSV
    QByteArray json;              // NDJSON: the line as read (without its line break)
    QString error;                // malformed before any validation
};

// Yields rows one at a time: CSV records after the header, or NDJSON lines.
class RowSource
{
public:
    RowSource(QIODevice &device, ImportFormat format) : m_device(device), m_format(format), m_csv(device) {}

    // CSV: reads the header row. False (with a message) when there is none.
    bool readHeader(QStringList *header, QString *error)
    {
        CsvRecord record;
        if (!m_csv.next(record)) {
            *error = m_csv.fatalError().isEmpty()
                ? QStringLiteral("the file is empty; a header row with customer_id, timestamp and the data fields "
                                 "was expected")
                : m_csv.fatalError();
            return false;
        }
        if (!record.error.isEmpty()) {
            *error = QStringLiteral("line %1: the header row is malformed: %2").arg(record.line).arg(record.error);
            return false;
        }
        for (const CsvRecord::Cell &cell : std::as_const(record.cells))
            header->append(QString::fromUtf8(cell.text).trimmed());
        return true;
    }

    bool next(InputRow &row)
    {
        row.cells.clear();
        row.json.clear();
        row.error.clear();
        if (m_format == ImportFormat::Csv) {
            CsvRecord record;
            while (m_csv.next(record)) {
                if (record.cells.size() == 1 && record.cells.first().text.isEmpty() && !record.cells.first().quoted
                    && record.error.isEmpty())
                    continue; // a blank line
                row.line = record.line;
                row.cells = std::move(record.cells);
                row.error = record.error;
                return true;
            }
            return false;
        }
        // One buffer for every line (readLine(qint64) would allocate its maximum each time).
        if (m_lineBuffer.isEmpty())
            m_lineBuffer.resize(MaxEventLine + 3);
        while (!m_device.atEnd()) {
            qint64 got = m_device.readLine(m_lineBuffer.data(), m_lineBuffer.size());
            if (got < 0)
                break;
            QByteArray line(m_lineBuffer.constData(), got);
            m_bytes += got;
            row.line = ++m_line;
            if (m_line == 1 && line.startsWith("\xEF\xBB\xBF"))
                line.remove(0, 3);
            bool whole = line.endsWith('\n') || m_device.atEnd();
            while (!whole) { // longer than an event may be: skip the rest of it
                got = m_device.readLine(m_lineBuffer.data(), m_lineBuffer.size());
                m_bytes += qMax<qint64>(0, got);
                whole = got <= 0 || m_lineBuffer[got - 1] == '\n';
                row.error = QStringLiteral("the line is longer than %1 bytes, the limit for one event").arg(MaxEventLine);
            }
            while (line.endsWith('\n') || line.endsWith('\r'))
                line.chop(1);
            if (!row.error.isEmpty()) {
                row.json = line.left(200);
                return true;
            }
            if (line.trimmed().isEmpty())
                continue;
            row.json = std::move(line);
            return true;
        }
        return false;
    }

    qint64 bytesRead() const { return m_format == ImportFormat::Csv ? m_csv.bytesRead() : m_bytes; }
    QString fatalError() const { return m_format == ImportFormat::Csv ? m_csv.fatalError() : QString(); }

private:
    QIODevice &m_device;
    ImportFormat m_format;
    CsvReader m_csv;
    qint64 m_bytes = 0;
    qint64 m_line = 0;
    QByteArray m_lineBuffer;
};

// The one path from a row to a validated event, shared by import and preview.
std::optional<ValidatedEvent> validateRow(const DataSchema &schema, const ImportMapping &mapping, const InputRow &row,
                                          QString *reason)
{
    if (!row.error.isEmpty()) {
        *reason = row.error;
        return std::nullopt;
    }
    Validation v;
    if (row.cells.isEmpty()) { // NDJSON (a CSV record always has a cell)
        const JsonValue::ParseResult parsed = JsonValue::parse(row.json);
        if (!parsed.ok) {
            *reason = QStringLiteral("not a JSON event: %1").arg(parsed.error);
            return std::nullopt;
        }
        v = Validator::validateEvent(schema, parsed.value);
    } else {
        if (row.cells.size() != mapping.columnCount()) {
            *reason = QStringLiteral("the row has %1 cells; the header has %2").arg(row.cells.size()).arg(mapping.columnCount());
            if (row.cells.size() > mapping.columnCount()) {
                QStringList extra;
                for (qsizetype i = mapping.columnCount(); i < row.cells.size(); ++i)
                    extra.append(QString::fromUtf8(row.cells[i].text));
                *reason += QStringLiteral(" (the cells past the header: %1)").arg(extra.join(QStringLiteral(", ")));
            }
            return std::nullopt;
        }
        for (const CsvRecord::Cell &cell : row.cells) {
            if (!cell.text.isValidUtf8()) {
                *reason = QStringLiteral("the row is not valid UTF-8");
                return std::nullopt;
            }
        }
        v = Validator::validateEvent(schema, mapping.envelope(row.cells));
    }
    if (!v.event)
        *reason = mapping.reason(v.problems);
    return std::move(v.event);
}

class ImportRun
{
public:
    ImportRun(Workspace &workspace, const UsageEventDefinition &definition, const ImportOptions &options)
        : m_workspace(workspace), m_definition(definition), m_options(options), m_store(workspace),
          m_source(EventImporter::sourceName(options.format))
    {
    }

    ImportSummary run(QIODevice &input)
    {
        RowSource rows(input, m_options.format);
        QStringList header;
        std::optional<ImportMapping> mapping;
        if (m_options.format == ImportFormat::Csv) {
            if (!rows.readHeader(&header, &m_summary.error))
                return m_summary;
            mapping = ImportMapping::fromHeader(m_definition.schema, header, m_options.mapping, &m_summary.error);
            if (!mapping)
                return m_summary;
            m_width = header.size();
        } else {
            mapping = ImportMapping::forEvents(m_definition.schema);
            header = QStringList{QStringLiteral("event")};
        }
        if (m_options.rejects)
            m_options.rejects->write(CsvWriter::record(toUtf8(header + QStringList{QStringLiteral("line"), QStringLiteral("reason")})));

        const qint64 total = input.isSequential() ? -1 : input.size();
        const int batchSize = qMax(1, m_options.batchSize);
        InputRow row;
        while (true) {
            if (m_options.cancel && m_options.cancel->load()) {
                m_summary.cancelled = true;
                break;
            }
            if (!rows.next(row))
                break;
            ++m_summary.rows;
            QString reason;
            if (auto event = validateRow(m_definition.schema, *mapping, row, &reason)) {
                m_batch.append(std::move(*event));
                m_batchRows.append(std::move(row));
                row = {};
            } else {
                ++m_summary.rejected;
                m_rejects.append({std::move(row), reason});
                row = {};
            }
            if (m_batch.size() + m_rejects.size() >= batchSize) {
                if (!flush())
                    return m_summary;
                report(rows.bytesRead(), total);
            }
        }
        if (m_summary.error.isEmpty())
            m_summary.error = rows.fatalError();
        if (flush())
            report(rows.bytesRead(), total);
        return m_summary;
    }

private:
    static QList<QByteArray> toUtf8(const QStringList &texts)
    {
        QList<QByteArray> out;
        for (const QString &t : texts)
            out.append(t.toUtf8());
        return out;
    }

    void report(qint64 bytes, qint64 total)
    {
        if (m_reported == m_summary.rows && m_reported > 0)
            return;
        m_reported = m_summary.rows;
        if (m_options.progress)
            m_options.progress(ImportProgress{m_summary.rows, bytes, total});
    }

    // Problem rows of the current batch are written in line order once it is stored.
    struct Rejected
    {
        InputRow row;
        QString reason;
    };

    void record(const InputRow &row, const QString &reason)
    {
        if (m_summary.problemRows.size() < m_options.keepRejected)
            m_summary.problemRows.append({row.line, reason});
        if (!m_options.rejects)
            return;
        QList<CsvWriter::Cell> cells;
        if (m_options.format == ImportFormat::Csv) {
            for (qsizetype i = 0; i < m_width; ++i) {
                const CsvRecord::Cell cell = row.cells.value(i);
                cells.append({cell.text, cell.text.isEmpty() && !cell.quoted});
            }
        } else {
            cells.append({row.json});
        }
        cells.append({QByteArray::number(row.line)});
        cells.append({reason.toUtf8()});
        m_options.rejects->write(CsvWriter::record(cells));
    }

    // Stores the pending rows in one transaction.
    bool flush()
    {
        if (!m_batch.isEmpty() && !store())
            return false;
        std::stable_sort(m_rejects.begin(), m_rejects.end(),
                         [](const Rejected &a, const Rejected &b) { return a.row.line < b.row.line; });
        for (const Rejected &r : std::as_const(m_rejects))
            record(r.row, r.reason);
        m_rejects.clear();
        return true;
    }

    bool store()
    {
        QSqlDatabase db = m_workspace.database();
        if (!db.transaction()) {
            m_summary.error = QStringLiteral("cannot start a transaction: %1").arg(db.lastError().text());
            return false;
        }
        const QList<StoreResult> results = m_store.storeMany(m_definition, m_batch, m_source, Workspace::nowUs());
        if (results.size() != m_batch.size() || results.last().outcome == StoreOutcome::Failed) {
            db.rollback();
            m_summary.error = QStringLiteral("line %1: the database refused the row: %2")
                                  .arg(m_batchRows.value(results.size() - 1).line)
                                  .arg(results.isEmpty() ? QString() : results.last().error);
            return false;
        }
        if (!db.commit()) {
            m_summary.error = QStringLiteral("cannot commit: %1").arg(db.lastError().text());
            db.rollback();
            return false;
        }
        for (qsizetype i = 0; i < results.size(); ++i) {
            switch (results[i].outcome) {
            case StoreOutcome::Inserted: ++m_summary.stored; break;
            case StoreOutcome::Duplicate: ++m_summary.duplicates; break;
            case StoreOutcome::Overwritten: ++m_summary.overwritten; break;
            case StoreOutcome::Conflict:
                ++m_summary.conflicts;
                m_rejects.append({m_batchRows[i], QStringLiteral("conflict: an event with this customer_id and timestamp is "
                                                      "already stored with other data")});
                break;
            case StoreOutcome::Failed: break;
            }
        }
        m_batch.clear();
        m_batchRows.clear();
        return true;
    }

    Workspace &m_workspace;
    const UsageEventDefinition &m_definition;
    const ImportOptions &m_options;
    EventStore m_store;
    QString m_source;
    ImportSummary m_summary;
    qsizetype m_width = 0;
    qint64 m_reported = 0; // rows at the last progress report
    QList<ValidatedEvent> m_batch;
    QList<InputRow> m_batchRows;
    QList<Rejected> m_rejects;
};

} // namespace

QString ImportSummary::text() const
{
    auto count = [](qint64 n, const char *one, const char *many) {
        return QStringLiteral("%1 %2").arg(n).arg(QLatin1String(n == 1 ? one : many));
    };
    QString out = QStringLiteral("%1: %2 stored, %3, %4, %5 rejected")
                      .arg(count(rows, "row", "rows"))
                      .arg(stored)
                      .arg(count(duplicates, "duplicate", "duplicates"), count(conflicts, "conflict", "conflicts"))
                      .arg(rejected);
    if (overwritten > 0)
        out += QStringLiteral(", %1 overwritten").arg(overwritten);
    if (cancelled)
        out += QStringLiteral(" (cancelled: the rest of the file was not read)");
    for (const RejectedRow &r : problemRows)
        out += QStringLiteral("\nline %1: %2").arg(r.line).arg(r.reason);
    const qint64 more = rejected + conflicts - problemRows.size();
    if (more > 0)
        out += QStringLiteral("\n… and %1 more").arg(more);
    if (!error.isEmpty())
        out += QStringLiteral("\nstopped: %1").arg(error);
    return out;
}

std::optional<ImportFormat> EventImporter::formatOf(const QString &fileName)
{
    const QString suffix = QFileInfo(fileName).suffix().toLower();
    if (suffix == QLatin1String("csv"))
        return ImportFormat::Csv;
    if (suffix == QLatin1String("ndjson") || suffix == QLatin1String("jsonl"))
        return ImportFormat::Ndjson;
    return std::nullopt;
}

ImportSummary EventImporter::run(Workspace &workspace, const UsageEventDefinition &definition, QIODevice &input,
                                 const ImportOptions &options)
{
    return ImportRun(workspace, definition, options).run(input);
}

ImportPreview EventImporter::preview(const DataSchema &schema, QIODevice &input, ImportFormat format,
                                     const QHash<QString, QString> &mapping, int rows)
{
    ImportPreview preview;
    RowSource source(input, format);
    std::optional<ImportMapping> columns;
    if (format == ImportFormat::Csv) {
        if (!source.readHeader(&preview.columns, &preview.error))
            return preview;
        columns = ImportMapping::fromHeader(schema, preview.columns, mapping, &preview.error);
    } else {
        columns = ImportMapping::forEvents(schema);
        preview.columns = columns->columnNames();
    }
    InputRow row;
    while (preview.rows.size() < rows && source.next(row)) {
        PreviewRow p;
        p.line = row.line;
        if (format == ImportFormat::Csv) {
            for (const CsvRecord::Cell &cell : std::as_const(row.cells))
                p.cells.append(QString::fromUtf8(cell.text));
        } else if (row.error.isEmpty()) {
            const JsonValue::ParseResult parsed = JsonValue::parse(row.json);
            p.cells = parsed.ok ? columns->cellsOf(parsed.value) : QStringList{};
        }
        if (columns)
            validateRow(schema, *columns, row, &p.reason);
        preview.rows.append(std::move(p));
    }
    if (preview.error.isEmpty())
        preview.error = source.fatalError();
    return preview;
}

} // namespace meterdesk
