#pragma once

#include "columnfilter.h"
#include "usageevent.h"

#include <QHash>
#include <QVariantList>

#include <optional>

namespace meterdesk {

class Workspace;

// What the Rows tab shows: a filter and a sort over one usage event's table.
struct RowsQuery
{
    UsageEventDefinition definition;
    QString customerId;               // exact match when set
    std::optional<qint64> fromUs;     // inclusive
    std::optional<qint64> toUs;       // exclusive
    QHash<int, QString> columnFilters; // column -> DB4S-style filter text
    int sortColumn = 1;               // RowStore column index (1 = timestamp)
    bool descending = true;           // newest first: Zenskar's "order by timestamp"
};

struct StoredRow
{
    qint64 id = 0;
    QVariantList values; // one per RowStore column
    QByteArray data;     // the stored `data` JSON
    bool edited = false;
};

struct RowsPage
{
    QList<StoredRow> rows;
    bool more = false;
    QString error;
};

struct AuditEntry
{
    qint64 atUs = 0;
    QString action;
    QString before;
    QString after;
    QString actor;
};

// Reads and edits the rows of usage event tables: keyset pages (never deep OFFSET),
// DB4S-style column filters, counts, and audited edits, deletes and restores.
// Synchronous; used on one worker thread with that thread's own Workspace.
class RowStore
{
public:
    struct Column
    {
        QString title;
        QString sqlName;          // unquoted
        ColumnFilter::Kind kind;
        bool sortable = false;
        int fieldIndex = -1;      // index into the schema for data fields
    };
    // customer_id, timestamp, each schema field, received_at, source, edited.
    static QList<Column> columns(const UsageEventDefinition &definition);
    static constexpr int CustomerColumn = 0;
    static constexpr int TimestampColumn = 1;

    explicit RowStore(Workspace &workspace) : m_workspace(workspace) {}

    RowsPage page(const RowsQuery &query, const StoredRow *after, int limit);
    std::optional<qint64> count(const RowsQuery &query, QString *error);
    // Rows committed after `afterId` (by arrival) that match the query: the live feed.
    QList<StoredRow> arrivedAfter(const RowsQuery &query, qint64 afterId, int limit, QString *error);
    qint64 maxId(const UsageEventDefinition &definition);

    // Edits one data field with the endpoint's validator; audited; marks the row edited.
    std::optional<StoredRow> editField(const UsageEventDefinition &definition, qint64 rowId, int column,
                                       const QString &text, QString *error);
    bool removeRows(const UsageEventDefinition &definition, const QList<qint64> &ids, QList<StoredRow> *removed,
                    QString *error);
    bool restoreRows(const UsageEventDefinition &definition, const QList<StoredRow> &rows, QString *error);
    QList<AuditEntry> history(const UsageEventDefinition &definition, qint64 rowId);

    static QString rowJson(const UsageEventDefinition &definition, const StoredRow &row);

private:
    QString whereClause(const RowsQuery &query, QVariantList *binds, QString *error) const;
    std::optional<StoredRow> fetch(const UsageEventDefinition &definition, qint64 id);
    QString selectList(const UsageEventDefinition &definition) const;

    Workspace &m_workspace;
};

} // namespace meterdesk
