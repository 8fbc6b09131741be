#pragma once

#include "dataschema.h"
#include "usageevent.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <atomic>
#include <functional>
#include <optional>

class QIODevice;

namespace meterdesk {

class Workspace;

enum class ImportFormat { Csv, Ndjson };

struct ImportProgress
{
    qint64 rows = 0;       // data rows read so far
    qint64 bytesRead = 0;
    qint64 totalBytes = 0; // -1 when the device does not know its size (a pipe)
};

struct ImportOptions
{
    ImportFormat format = ImportFormat::Csv;
    // File column -> customer_id, timestamp or a field path ("" skips the column).
    QHash<QString, QString> mapping;
    int batchSize = 5000;                                  // rows per transaction
    std::function<void(const ImportProgress &)> progress;  // after each transaction
    const std::atomic_bool *cancel = nullptr;              // checked before each row
    // Rejected rows as CSV, written as they are found: the file's columns (for
    // NDJSON: `event`, the line as read), then `line` and `reason`.
    QIODevice *rejects = nullptr;
    int keepRejected = 1000; // rejected rows kept in the summary (the counts are always exact)
};

struct RejectedRow
{
    qint64 line = 0;
    QString reason;
};

struct ImportSummary
{
    qint64 rows = 0;        // data rows read (blank lines are not rows)
    qint64 stored = 0;
    qint64 duplicates = 0;  // same customer_id, timestamp and data as a stored event: nothing written
    qint64 conflicts = 0;   // same customer_id and timestamp, other data (policy reject): not stored
    qint64 overwritten = 0; // same, under the overwrite policy: the stored row replaced (audited)
    qint64 rejected = 0;    // refused by the validator (or malformed)
    bool cancelled = false;
    QString error;                 // fatal: unreadable file, header, database; rows before it are counted
    QList<RejectedRow> problemRows; // rejected and conflicting rows, by line, up to keepRejected

    // True when every row was stored or was a duplicate.
    bool clean() const { return error.isEmpty() && !cancelled && rejected == 0 && conflicts == 0; }
    // "12 rows: 9 stored, 1 duplicate, 1 conflict, 1 rejected" and a line per problem row.
    QString text() const;
};

struct PreviewRow
{
    qint64 line = 0;
    QStringList cells; // one per column
    QString reason;    // empty when the row would be accepted (duplicates are not checked here)
};

struct ImportPreview
{
    QStringList columns; // the file's header (NDJSON: customer_id, timestamp, the schema's fields)
    QList<PreviewRow> rows;
    QString error;       // the header cannot be used as it is (a mapping is needed)
};

// The import/export door of Zenskar-format files (issue 5): reads CSV or NDJSON
// record by record, validates each row with the one Validator and stores the good
// ones through EventStore in transactions. Runs on the thread that owns the
// workspace it is given (the CLI's main thread, a GUI worker with its own Workspace).
class EventImporter
{
public:
    // From the file name's extension: .csv or .ndjson/.jsonl.
    static std::optional<ImportFormat> formatOf(const QString &fileName);
    static QString sourceName(ImportFormat format) { return format == ImportFormat::Csv ? QStringLiteral("csv") : QStringLiteral("ndjson"); }

    static ImportSummary run(Workspace &workspace, const UsageEventDefinition &definition, QIODevice &input,
                             const ImportOptions &options);

    // The first `rows` rows with what the validator says about each.
    static ImportPreview preview(const DataSchema &schema, QIODevice &input, ImportFormat format,
                                 const QHash<QString, QString> &mapping, int rows);
};

} // namespace meterdesk
