// EventStore on PostgreSQL: a group of events in one statement, not one per event.
// Each statement is a round trip to the server, so the writer's group (the events of
// every request that arrived while the last commit ran) goes in as
//   INSERT … SELECT * FROM unnest($1::text[], $2::bigint[], …) ON CONFLICT DO NOTHING
//   RETURNING id, customer_id, "timestamp"
// and a big group (a batch) is COPYed into a temporary staging table first and goes in
// with one INSERT … SELECT from it. The events whose key was already stored are then
// read back with one query and sorted into exact duplicates, conflicts and overwrites
// by the same rule as store(). Events that repeat a key of the same group, or carry a
// NUL character (libpq passes text as C strings), take store()'s path, in order, after
// the rest: the outcome of every event is what storing them one by one would give.
#include "eventstore.h"
#include "pghandle.h"

#include "workspace.h"

#include <QAtomicInteger>
#include <QHash>
#include <QLocale>
#include <QSqlDriver>

#include <libpq-fe.h>

namespace meterdesk {

namespace {

// Batches from this many events go through COPY; fewer travel as array parameters.
constexpr size_t CopyFrom = 512;
constexpr qsizetype CopyChunkBytes = 1 << 20;

QAtomicInteger<quint64> statementSerial;

// A value in PostgreSQL's text form; false for NULL.
bool valueText(const QVariant &v, QByteArray *text)
{
    if (v.isNull())
        return false;
    switch (v.typeId()) {
    case QMetaType::LongLong:
    case QMetaType::Int:
        text->setNum(v.toLongLong());
        break;
    case QMetaType::Double:
        *text = QByteArray::number(v.toDouble(), 'g', QLocale::FloatingPointShortest);
        break;
    case QMetaType::Bool:
        *text = v.toBool() ? QByteArrayLiteral("t") : QByteArrayLiteral("f");
        break;
    default:
        *text = v.toString().toUtf8();
    }
    return true;
}

// An element of an array literal: always quoted, `"` and `\` escaped.
void appendElement(QByteArray &array, const QByteArray *text)
{
    if (array.size() > 1)
        array += ',';
    if (!text) {
        array += "NULL";
        return;
    }
    array += '"';
    for (const char c : *text) {
        if (c == '"' || c == '\\')
            array += '\\';
        array += c;
    }
    array += '"';
}

// A field of COPY's text format: runs without a special byte go in at once.
void appendCopyField(QByteArray &row, const QByteArray *text)
{
    if (!row.isEmpty() && row.back() != '\n')
        row += '\t';
    if (!text) {
        row += "\\N";
        return;
    }
    const char *p = text->constData();
    const char *const end = p + text->size();
    while (p < end) {
        const char *run = p;
        while (p < end && *p != '\\' && *p != '\t' && *p != '\n' && *p != '\r')
            ++p;
        row.append(run, p - run);
        if (p == end)
            break;
        switch (*p++) {
        case '\\': row += "\\\\"; break;
        case '\t': row += "\\t"; break;
        case '\n': row += "\\n"; break;
        default: row += "\\r"; break;
        }
    }
}

struct EventTexts
{
    QByteArray customer;
    QByteArray timestamp;
    QList<QByteArray> values;
    QList<bool> present;
    QByteArray received;
    bool hasNul = false;
};

EventTexts textsOf(const EventStore::GroupItem &item, const QByteArray &source)
{
    EventTexts t;
    t.customer = item.event->customerId.toUtf8();
    t.timestamp.setNum(item.event->timestampUs);
    t.values.resize(item.event->values.size());
    t.present.resize(item.event->values.size());
    for (qsizetype i = 0; i < item.event->values.size(); ++i) {
        t.present[i] = valueText(item.event->values[i], &t.values[i]);
        t.hasNul = t.hasNul || t.values[i].contains('\0');
    }
    t.received.setNum(item.receivedAtUs);
    t.hasNul = t.hasNul || t.customer.contains('\0') || item.event->dataJson.contains('\0') || source.contains('\0');
    return t;
}

QString errorOf(PGresult *r, PGconn *conn, QString *sqlState)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    *sqlState = state ? QString::fromLatin1(state) : QString();
    const QString message = QString::fromUtf8(r ? PQresultErrorMessage(r) : PQerrorMessage(conn)).trimmed();
    return message.isEmpty() ? QString::fromUtf8(PQerrorMessage(conn)).trimmed() : message;
}

using Key = QPair<QString, qint64>;

// A command without rows (SAVEPOINT, RELEASE, ROLLBACK TO); true when it succeeded.
bool pgCommand(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
}

} // namespace

bool EventStore::storesGroups() const
{
    return m_workspace.dialect().kind() == SqlDialect::Kind::PostgreSQL && pgHandle(m_workspace.database());
}

bool EventStore::Statements::prepareGroup(const QSqlDatabase &db, const QString &table, const QStringList &columns,
                                          const QStringList &types, QString *error)
{
    pg = pgHandle(db);
    if (!pg) {
        *error = QStringLiteral("no PostgreSQL connection handle");
        return false;
    }
    const QByteArray n = QByteArray::number(statementSerial.fetchAndAddRelaxed(1) + 1);
    pgInsert = "mdk_group_insert_" + n;
    pgFind = "mdk_group_find_" + n;
    pgStage = "mdk_stage_" + n;
    pgColumns = "customer_id, \"timestamp\"";
    QByteArray arrays = "$1::text[], $2::bigint[]";
    pgStageColumns = "customer_id TEXT, \"timestamp\" BIGINT";
    pgStageSelect = "customer_id, \"timestamp\"";
    int p = 3;
    for (qsizetype i = 0; i < columns.size(); ++i) {
        pgColumns += ", " + columns[i].toUtf8();
        arrays += ", $" + QByteArray::number(p++) + "::" + types[i].toUtf8() + "[]";
        pgStageColumns += ", c" + QByteArray::number(i) + ' ' + types[i].toUtf8();
        pgStageSelect += ", c" + QByteArray::number(i);
    }
    pgColumns += ", data, received_at, source";
    arrays += ", $" + QByteArray::number(p) + "::text[], $" + QByteArray::number(p + 1) + "::bigint[], $"
        + QByteArray::number(p + 2) + "::text[]";
    pgStageColumns += ", data TEXT, received_at BIGINT, source TEXT";
    pgStageSelect += ", data, received_at, source";
    pgTable = SqlDialect::quote(table).toUtf8();
    const QByteArray insertSql = "INSERT INTO " + pgTable + " (" + pgColumns + ") SELECT * FROM unnest(" + arrays
        + ") ON CONFLICT (customer_id, \"timestamp\") DO NOTHING RETURNING id, customer_id, \"timestamp\"";
    const QByteArray findSql = "SELECT t.id, t.customer_id, t.\"timestamp\", t.data FROM " + pgTable
        + " t JOIN unnest($1::text[], $2::bigint[]) AS k(c, ts) ON t.customer_id = k.c AND t.\"timestamp\" = k.ts";
    // The identity's sequence: a big group takes its ids up front and is COPYed straight in.
    const QByteArray idsSql = [&] {
        const QByteArray quoted = SqlDialect::quote(table).toUtf8();
        const char *param[] = {quoted.constData()};
        PGresult *r = PQexecParams(pg, "SELECT pg_get_serial_sequence($1, 'id')", 1, nullptr, param, nullptr, nullptr, 0);
        QByteArray sql;
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
            // A literal: quotes doubled (standard_conforming_strings is on since PostgreSQL 9.1).
            const QByteArray sequence = QByteArray(PQgetvalue(r, 0, 0)).replace('\'', "''");
            sql = "SELECT nextval('" + sequence + "'::regclass) FROM generate_series(1, $1::integer)";
            pgIds = "mdk_group_ids_" + n;
        }
        PQclear(r);
        return sql;
    }();
    for (const auto &[name, sql] : {std::pair{&pgInsert, &insertSql}, std::pair{&pgFind, &findSql}, std::pair{&pgIds, &idsSql}}) {
        if (name->isEmpty())
            continue;
        PGresult *r = PQprepare(pg, name->constData(), sql->constData(), 0, nullptr);
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) {
            QString state;
            *error = errorOf(r, pg, &state);
            PQclear(r);
            name->clear();
            return false;
        }
        PQclear(r);
    }
    return true;
}

namespace {
// The months of these timestamps; most events of a group share one, so the last
// month's bounds are checked before anything is computed.
template<typename Timestamps>
QSet<int> monthsOf(const Timestamps &timestamps)
{
    QSet<int> months;
    qint64 from = 1, to = 0;
    for (const qint64 ts : timestamps) {
        if (ts >= from && ts < to)
            continue;
        const int month = MonthPartitions::monthOf(ts);
        months.insert(month);
        from = MonthPartitions::monthStartUs(month);
        to = MonthPartitions::monthStartUs(month + 1);
    }
    return months;
}
} // namespace

void EventStore::preparePartitions(const UsageEventDefinition &d, const QList<ValidatedEvent> &events)
{
    if (m_workspace.dialect().kind() != SqlDialect::Kind::PostgreSQL || events.isEmpty())
        return;
    QList<qint64> timestamps;
    timestamps.reserve(events.size());
    for (const ValidatedEvent &e : events)
        timestamps.append(e.timestampUs);
    m_partitions.ensure(m_workspace, d.tableName(), monthsOf(timestamps));
}

bool EventStore::storeGroup(const UsageEventDefinition &d, const std::vector<GroupItem> &items)
{
    if (items.empty())
        return true;
    if (storesGroups()) {
        StoreResult failed;
        Statements *s = statementsFor(d, &failed.error);
        if (!s) {
            *items.front().result = failed;
            return false;
        }
        return storeGroupPg(d, *s, items);
    }
    for (const GroupItem &item : items) {
        *item.result = store(d, *item.event, *item.source, item.receivedAtUs);
        if (item.result->outcome == StoreOutcome::Failed)
            return false;
    }
    return true;
}

bool EventStore::storeGroupPg(const UsageEventDefinition &d, Statements &s, const std::vector<GroupItem> &items)
{
    {
        QList<qint64> timestamps;
        timestamps.reserve(qsizetype(items.size()));
        for (const GroupItem &item : items)
            timestamps.append(item.event->timestampUs);
        m_partitions.ensure(m_workspace, d.tableName(), monthsOf(timestamps));
    }
    // The first event of each key goes in with the group; the others after it, one by one.
    QHash<Key, int> firstOfKey;
    firstOfKey.reserve(qsizetype(items.size()));
    std::vector<int> together, oneByOne;
    together.reserve(items.size());
    std::vector<EventTexts> texts(items.size());
    QHash<const QString *, QByteArray> sources;
    for (size_t i = 0; i < items.size(); ++i) {
        const GroupItem &item = items[i];
        auto source = sources.find(item.source);
        if (source == sources.end())
            source = sources.insert(item.source, item.source->toUtf8());
        texts[i] = textsOf(item, *source);
        const Key key{item.event->customerId, item.event->timestampUs};
        if (texts[i].hasNul || firstOfKey.contains(key)) {
            oneByOne.push_back(int(i));
            continue;
        }
        firstOfKey.insert(key, int(i));
        together.push_back(int(i));
        *item.result = StoreResult{};
    }

    QString error, sqlState;
    auto fail = [&](const GroupItem &item) {
        item.result->outcome = StoreOutcome::Failed;
        item.result->error = error.isEmpty() ? QStringLiteral("the database refused the group") : error;
        item.result->sqlState = sqlState;
        return false;
    };
    if (!together.empty()) {
        // 1. Insert; the rows that went in come back with their ids.
        PGconn *conn = s.pg;
        const bool copy = together.size() >= CopyFrom;
        PGresult *r = nullptr;
        const qsizetype fields = d.schema.fields.size();
        // COPY's rows: the group's events (with the ids taken for them, when given).
        auto copyRows = [&](const QByteArray &copySql, const std::vector<qint64> *ids) {
            PGresult *c = PQexec(conn, copySql.constData());
            if (PQresultStatus(c) != PGRES_COPY_IN) {
                error = errorOf(c, conn, &sqlState);
                PQclear(c);
                return false;
            }
            PQclear(c);
            QByteArray chunk, id;
            chunk.reserve(CopyChunkBytes + 4096);
            bool sent = true;
            for (size_t n = 0; n < together.size(); ++n) {
                const int i = together[n];
                const EventTexts &t = texts[size_t(i)];
                if (ids) {
                    id.setNum((*ids)[n]);
                    appendCopyField(chunk, &id);
                }
                appendCopyField(chunk, &t.customer);
                appendCopyField(chunk, &t.timestamp);
                for (qsizetype f = 0; f < fields; ++f)
                    appendCopyField(chunk, t.present[f] ? &t.values[f] : nullptr);
                appendCopyField(chunk, &items[size_t(i)].event->dataJson);
                appendCopyField(chunk, &t.received);
                appendCopyField(chunk, &sources[items[size_t(i)].source]);
                chunk += '\n';
                if (chunk.size() >= CopyChunkBytes) {
                    sent = sent && PQputCopyData(conn, chunk.constData(), int(chunk.size())) == 1;
                    chunk.clear();
                }
            }
            if (!chunk.isEmpty())
                sent = sent && PQputCopyData(conn, chunk.constData(), int(chunk.size())) == 1;
            sent = PQputCopyEnd(conn, sent ? nullptr : "the data could not be sent") == 1 && sent;
            c = PQgetResult(conn);
            const bool copied = PQresultStatus(c) == PGRES_COMMAND_OK;
            if (!copied)
                error = errorOf(c, conn, &sqlState);
            PQclear(c);
            while ((c = PQgetResult(conn)))
                PQclear(c);
            return copied && sent;
        };
        bool direct = false;
        if (copy && !s.pgIds.isEmpty()) {
            // Straight into the usage table: ids taken first, then one COPY, which PostgreSQL
            // inserts in multi-row chunks without ON CONFLICT's second probe of the unique
            // index. A key that is there already (a retried batch, another node) makes it
            // fail as a whole: back to the savepoint, and the staging path below sorts it out.
            const QByteArray count = QByteArray::number(qulonglong(together.size()));
            const char *param[] = {count.constData()};
            r = PQexecPrepared(conn, s.pgIds.constData(), 1, param, nullptr, nullptr, 0);
            std::vector<qint64> ids;
            if (PQresultStatus(r) == PGRES_TUPLES_OK && size_t(PQntuples(r)) == together.size()) {
                ids.reserve(together.size());
                for (int row = 0; row < PQntuples(r); ++row)
                    ids.push_back(QByteArray(PQgetvalue(r, row, 0)).toLongLong());
            }
            PQclear(r);
            r = nullptr;
            const bool guarded = PQtransactionStatus(conn) == PQTRANS_INTRANS;
            if (!ids.empty() && (!guarded || pgCommand(conn, "SAVEPOINT mdk_copy"))) {
                direct = copyRows("COPY " + s.pgTable + " (id, " + s.pgColumns + ") FROM STDIN", &ids);
                if (guarded)
                    pgCommand(conn, direct ? "RELEASE SAVEPOINT mdk_copy" : "ROLLBACK TO SAVEPOINT mdk_copy");
                if (direct) {
                    for (size_t n = 0; n < together.size(); ++n) {
                        StoreResult &result = *items[size_t(together[n])].result;
                        result.outcome = StoreOutcome::Inserted;
                        result.rowId = ids[n];
                    }
                } else if (!guarded) {
                    return fail(items[size_t(together.front())]); // no savepoint to go back to
                }
                error.clear();
                sqlState.clear();
            }
        }
        if (direct) {
            // every row went in
        } else if (copy) {
            // Its column types are the usage table's own: COPY parses each value once.
            const QByteArray create = "SET LOCAL client_min_messages TO warning; CREATE TEMPORARY TABLE IF NOT EXISTS "
                + s.pgStage + " (" + s.pgStageColumns + ") ON COMMIT DELETE ROWS; TRUNCATE " + s.pgStage;
            r = PQexec(conn, create.constData());
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                error = errorOf(r, conn, &sqlState);
                PQclear(r);
                return fail(items[size_t(together.front())]);
            }
            PQclear(r);
            if (!copyRows("COPY " + s.pgStage + " FROM STDIN", nullptr))
                return fail(items[size_t(together.front())]);
            r = PQexec(conn, QByteArray("INSERT INTO " + s.pgTable + " (" + s.pgColumns + ") SELECT " + s.pgStageSelect + " FROM "
                              + s.pgStage + " ON CONFLICT (customer_id, \"timestamp\") DO NOTHING RETURNING id, customer_id, \"timestamp\"")
                                 .constData());
        } else {
            std::vector<QByteArray> arrays(size_t(fields) + 5, QByteArrayLiteral("{"));
            for (const int i : together) {
                const EventTexts &t = texts[size_t(i)];
                size_t a = 0;
                appendElement(arrays[a++], &t.customer);
                appendElement(arrays[a++], &t.timestamp);
                for (qsizetype f = 0; f < fields; ++f)
                    appendElement(arrays[a++], t.present[f] ? &t.values[f] : nullptr);
                appendElement(arrays[a++], &items[size_t(i)].event->dataJson);
                appendElement(arrays[a++], &t.received);
                appendElement(arrays[a++], &sources[items[size_t(i)].source]);
            }
            std::vector<const char *> values;
            values.reserve(arrays.size());
            for (QByteArray &array : arrays) {
                array += '}';
                values.push_back(array.constData());
            }
            r = PQexecPrepared(conn, s.pgInsert.constData(), int(values.size()), values.data(), nullptr, nullptr, 0);
        }
        if (!direct) {
            if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                error = errorOf(r, conn, &sqlState);
                PQclear(r);
                return fail(items[size_t(together.front())]);
            }
            for (int row = 0; row < PQntuples(r); ++row) {
                const Key key{QString::fromUtf8(PQgetvalue(r, row, 1), PQgetlength(r, row, 1)),
                              QByteArray(PQgetvalue(r, row, 2)).toLongLong()};
                const int i = firstOfKey.value(key, -1);
                if (i < 0)
                    continue;
                StoreResult &result = *items[size_t(i)].result;
                result.outcome = StoreOutcome::Inserted;
                result.rowId = QByteArray(PQgetvalue(r, row, 0)).toLongLong();
            }
            PQclear(r);
        }

        // 2. The keys that were there already: their stored rows in one query.
        QByteArray customers = "{", stamps = "{";
        int pending = 0;
        for (const int i : together) {
            if (items[size_t(i)].result->outcome == StoreOutcome::Inserted)
                continue;
            appendElement(customers, &texts[size_t(i)].customer);
            appendElement(stamps, &texts[size_t(i)].timestamp);
            ++pending;
        }
        if (pending > 0) {
            customers += '}';
            stamps += '}';
            const char *keys[] = {customers.constData(), stamps.constData()};
            r = PQexecPrepared(conn, s.pgFind.constData(), 2, keys, nullptr, nullptr, 0);
            if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                error = errorOf(r, conn, &sqlState);
                PQclear(r);
                return fail(items[size_t(together.front())]);
            }
            QHash<int, QPair<qint64, QString>> stored;
            for (int row = 0; row < PQntuples(r); ++row) {
                const Key key{QString::fromUtf8(PQgetvalue(r, row, 1), PQgetlength(r, row, 1)),
                              QByteArray(PQgetvalue(r, row, 2)).toLongLong()};
                const int i = firstOfKey.value(key, -1);
                if (i >= 0)
                    stored.insert(i, {QByteArray(PQgetvalue(r, row, 0)).toLongLong(),
                                      QString::fromUtf8(PQgetvalue(r, row, 3), PQgetlength(r, row, 3))});
            }
            PQclear(r);
            // 3. Each of them by store()'s rule, in the group's order.
            for (const int i : together) {
                const GroupItem &item = items[size_t(i)];
                if (item.result->outcome == StoreOutcome::Inserted)
                    continue;
                const auto row = stored.constFind(i);
                if (row == stored.cend()) {
                    // Gone again since the insert saw it (deleted meanwhile): store it anew.
                    *item.result = storeWith(d, s, *item.event, *item.source, sources[item.source], item.receivedAtUs);
                } else {
                    *item.result = resolveExisting(d, s, *item.event, *item.source, item.receivedAtUs, row->first, row->second);
                }
                if (item.result->outcome == StoreOutcome::Failed)
                    return false;
            }
        }
    }
    // 4. Keys repeated within the group, and text libpq cannot carry: one by one, after.
    for (const int i : oneByOne) {
        const GroupItem &item = items[size_t(i)];
        *item.result = storeWith(d, s, *item.event, *item.source, sources[item.source], item.receivedAtUs);
        if (item.result->outcome == StoreOutcome::Failed)
            return false;
    }
    return true;
}

} // namespace meterdesk
