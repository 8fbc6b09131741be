#pragma once

#include "monthpartitions.h"
#include "usageevent.h"
#include "validator.h"

#include <map>
#include <memory>
#include <QSqlQuery>

#include <optional>
#include <vector>

struct sqlite3_stmt;
struct pg_conn;

namespace meterdesk {

class Workspace;

enum class StoreOutcome { Inserted, Duplicate, Conflict, Overwritten, Failed };

struct StoreResult
{
    StoreOutcome outcome = StoreOutcome::Failed;
    qint64 rowId = 0;
    QString error;
    QString sqlState; // of a Failed result, when the database gave one (PostgreSQL: 40P01, 08006, ...)
};

// A stored row as the read API and exports show it.
struct StoredEvent
{
    qint64 id = 0;
    QString customerId;
    qint64 timestampUs = 0;
    QByteArray dataJson;
    qint64 receivedAtUs = 0;
    QString source;
    bool edited = false;

    // {"id":..,"customer_id":..,"timestamp":"..Z","data":{..},"received_at":"..Z","source":..}
    QByteArray toJson() const;
};

struct EventFilter
{
    QString customerId;               // exact match when set
    std::optional<qint64> fromUs;     // inclusive
    std::optional<qint64> toUs;       // exclusive
    // Keyset cursor: rows strictly older than (timestamp, id) in newest-first order.
    std::optional<QPair<qint64, qint64>> before;
    int limit = 100;
};

// Writes events into their usage event's table with the dedupe rule
// (customer_id + timestamp identify an event). Used by exactly one writer: it keeps
// prepared statements, so it lives on the thread that owns `workspace`.
class EventStore
{
public:
    explicit EventStore(Workspace &workspace) : m_workspace(workspace) {}
    ~EventStore();

    // Call inside a transaction. Inserted, Duplicate (same key, same data: nothing
    // written), Conflict (same key, other data, policy reject) or Overwritten.
    StoreResult store(const UsageEventDefinition &definition, const ValidatedEvent &event, const QString &source,
                      qint64 receivedAtUs);

    // The same for many events of one usage event (a request's batch): statements
    // are looked up once. Stops at the first Failed result.
    QList<StoreResult> storeMany(const UsageEventDefinition &definition, const QList<ValidatedEvent> &events,
                                 const QString &source, qint64 receivedAtUs);

    // One event of a group (storeGroup) and where its result goes.
    struct GroupItem
    {
        const ValidatedEvent *event = nullptr;
        const QString *source = nullptr;
        qint64 receivedAtUs = 0;
        StoreResult *result = nullptr;
    };

    // Whether storeGroup() does better than store() per event: PostgreSQL, where each
    // statement is a round trip (eventstore_pg.cpp).
    bool storesGroups() const;

    // Call inside a transaction. Events of one usage event, from one request or many,
    // each with the result it would have had stored one after another in this order.
    // On PostgreSQL: one statement for the group (COPY into a staging table for a big
    // one), then one query for those whose key was already there; elsewhere store() for
    // each. False at the first Failed result (the transaction must roll back).
    bool storeGroup(const UsageEventDefinition &definition, const std::vector<GroupItem> &items);

    // PostgreSQL: creates the month partitions these events need, best before the
    // group's transaction (a partition made there stays even if the group rolls back).
    void preparePartitions(const UsageEventDefinition &definition, const QList<ValidatedEvent> &events);

    // Undoes inserts of this transaction (an atomic batch that met a conflict).
    bool removeInserted(const UsageEventDefinition &definition, const QList<qint64> &rowIds, QString *error);

    // Drop cached statements (a definition changed or was removed, a group rolled back).
    void forgetStatements();

    static QList<StoredEvent> list(const Workspace &workspace, const UsageEventDefinition &definition,
                                   const EventFilter &filter, QString *error);

private:
    struct Statements
    {
        QSqlQuery insert;
        QSqlQuery find;
        QSqlQuery overwrite;
        // SQLite fast path: the same statements through the C API of the very
        // connection Qt opened (QSqlDriver::handle()), without a QVariant per value.
        sqlite3_stmt *nativeInsert = nullptr;
        sqlite3_stmt *nativeFind = nullptr;
        // PostgreSQL group path: statements prepared through libpq on QPSQL's connection.
        pg_conn *pg = nullptr;
        QByteArray pgInsert;       // name: INSERT … SELECT FROM unnest(arrays) … RETURNING
        QByteArray pgFind;         // name: the stored rows of many keys
        QByteArray pgTable;        // the usage table, quoted
        QByteArray pgColumns;      // its columns, in the order the others follow
        QByteArray pgStage;        // the temporary table a big group is COPYed into
        QByteArray pgStageColumns; // … its columns with their types
        QByteArray pgStageSelect;  // … and their names
        QByteArray pgIds;          // name: $1 fresh ids of the table's identity (empty: none)
        bool prepareGroup(const QSqlDatabase &db, const QString &table, const QStringList &columns,
                          const QStringList &types, QString *error);
        ~Statements();
    };
    bool storeGroupPg(const UsageEventDefinition &definition, Statements &s, const std::vector<GroupItem> &items);
    StoreResult resolveExisting(const UsageEventDefinition &definition, Statements &s, const ValidatedEvent &event,
                                const QString &source, qint64 receivedAtUs, qint64 rowId, const QString &stored);
    StoreResult storeWith(const UsageEventDefinition &definition, Statements &s, const ValidatedEvent &event,
                          const QString &source, const QByteArray &sourceUtf8, qint64 receivedAtUs);
    StoreResult storeNative(Statements &s, const ValidatedEvent &event, const QByteArray &sourceUtf8,
                            qint64 receivedAtUs, QString *stored);
    Statements *statementsFor(const UsageEventDefinition &definition, QString *error);

    Workspace &m_workspace;
    std::map<QString, std::unique_ptr<Statements>> m_statements;
    MonthPartitions m_partitions;
};

} // namespace meterdesk
