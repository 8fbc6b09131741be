#include "eventstore.h"

#include "jsonvalue.h"
#include "keyset.h"
#include "timestamp.h"
#include "workspace.h"

#include <QSqlDriver>
#include <QSqlError>

#include <libpq-fe.h>
#include <sqlite3.h>

namespace meterdesk {

QByteArray StoredEvent::toJson() const
{
    QByteArray out;
    out.reserve(dataJson.size() + 160);
    out += "{\"id\":" + QByteArray::number(id) + ",\"customer_id\":";
    appendJsonString(out, customerId.toUtf8());
    out += ",\"timestamp\":\"" + Timestamp::toIso(timestampUs).toLatin1() + "\",\"data\":" + dataJson
        + ",\"received_at\":\"" + Timestamp::toIso(receivedAtUs).toLatin1() + "\",\"source\":";
    appendJsonString(out, source.toUtf8());
    out += ",\"edited\":" + QByteArray(edited ? "true" : "false") + "}";
    return out;
}

EventStore::Statements::~Statements()
{
    sqlite3_finalize(nativeInsert);
    sqlite3_finalize(nativeFind);
    // The group statements live on the connection: let them go while it can still run a
    // command (not inside a failed transaction, not after the server went away).
    if (pg && PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) != PQTRANS_INERROR
        && PQtransactionStatus(pg) != PQTRANS_ACTIVE) {
        for (const QByteArray &name : {pgInsert, pgFind, pgIds})
            if (!name.isEmpty())
                PQclear(PQexec(pg, QByteArray("DEALLOCATE " + name).constData()));
    }
}

EventStore::~EventStore() = default;

namespace {

sqlite3 *sqliteHandle(const QSqlDatabase &db)
{
    const QVariant v = db.driver()->handle();
    if (v.isValid() && qstrcmp(v.typeName(), "sqlite3*") == 0)
        return *static_cast<sqlite3 *const *>(v.constData());
    return nullptr;
}

int bindVariant(sqlite3_stmt *stmt, int index, const QVariant &v)
{
    if (v.isNull())
        return sqlite3_bind_null(stmt, index);
    switch (v.typeId()) {
    case QMetaType::LongLong:
    case QMetaType::Int:
        return sqlite3_bind_int64(stmt, index, v.toLongLong());
    case QMetaType::Bool:
        return sqlite3_bind_int(stmt, index, v.toBool() ? 1 : 0);
    case QMetaType::Double:
        return sqlite3_bind_double(stmt, index, v.toDouble());
    default: {
        const QByteArray utf8 = v.toString().toUtf8();
        return sqlite3_bind_text(stmt, index, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
    }
    }
}

int bindUtf8(sqlite3_stmt *stmt, int index, const QByteArray &utf8)
{
    return sqlite3_bind_text(stmt, index, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
}

} // namespace

StoreResult EventStore::storeNative(Statements &s, const ValidatedEvent &e, const QByteArray &sourceUtf8,
                                    qint64 receivedAtUs, QString *stored)
{
    StoreResult result;
    sqlite3_stmt *ins = s.nativeInsert;
    int i = 1;
    bindUtf8(ins, i++, e.customerId.toUtf8());
    sqlite3_bind_int64(ins, i++, e.timestampUs);
    for (const QVariant &v : e.values)
        bindVariant(ins, i++, v);
    bindUtf8(ins, i++, e.dataJson);
    sqlite3_bind_int64(ins, i++, receivedAtUs);
    bindUtf8(ins, i++, sourceUtf8);
    // The native statement has no RETURNING (SQLite would stage its rows in a
    // temporary table): a row changed means inserted, and its id is the last rowid.
    int rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (rc != SQLITE_DONE) {
        result.error = QString::fromUtf8(sqlite3_errstr(rc));
        return result;
    }
    sqlite3 *db = sqlite3_db_handle(ins);
    if (sqlite3_changes(db) == 1) {
        result.rowId = sqlite3_last_insert_rowid(db);
        result.outcome = StoreOutcome::Inserted;
        return result;
    }
    sqlite3_stmt *find = s.nativeFind;
    bindUtf8(find, 1, e.customerId.toUtf8());
    sqlite3_bind_int64(find, 2, e.timestampUs);
    rc = sqlite3_step(find);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(find);
        result.error = QString::fromUtf8(sqlite3_errstr(rc));
        return result;
    }
    result.rowId = sqlite3_column_int64(find, 0);
    *stored = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(find, 1)),
                                sqlite3_column_bytes(find, 1));
    sqlite3_reset(find);
    result.outcome = StoreOutcome::Duplicate; // refined by the caller
    return result;
}

EventStore::Statements *EventStore::statementsFor(const UsageEventDefinition &d, QString *error)
{
    QStringList columns;
    for (const SchemaField &f : d.schema.fields)
        columns.append(SqlDialect::quote(f.columnName()));
    const QString key = d.tableName() + u'|' + columns.join(u',');
    if (auto it = m_statements.find(key); it != m_statements.end())
        return it->second.get();

    const QString table = SqlDialect::quote(d.tableName());
    const SqlDialect &dialect = m_workspace.dialect();
    QString placeholders;
    for (const SchemaField &f : d.schema.fields)
        placeholders += QStringLiteral(", ") + dialect.placeholder(f.type);
    auto owned = std::unique_ptr<Statements>(
        new Statements{QSqlQuery(m_workspace.database()), QSqlQuery(m_workspace.database()), QSqlQuery(m_workspace.database()), nullptr, nullptr, nullptr, {}, {}, {}, {}, {}, {}, {}, {}});
    Statements &s = *owned;
    const QString dataColumns = columns.isEmpty() ? QString() : QStringLiteral(", ") + columns.join(QStringLiteral(", "));
    bool ok = s.insert.prepare(
        QStringLiteral("INSERT INTO %1 (customer_id, \"timestamp\"%2, data, received_at, source) VALUES (?, ?%3, ?, ?, ?) "
                       "ON CONFLICT (customer_id, \"timestamp\") DO NOTHING RETURNING id")
            .arg(table, dataColumns, placeholders));
    ok = ok && s.find.prepare(QStringLiteral("SELECT id, data FROM %1 WHERE customer_id = ? AND \"timestamp\" = ?").arg(table));
    QString sets;
    for (qsizetype i = 0; i < columns.size(); ++i)
        sets += columns[i] + QStringLiteral(" = ") + dialect.placeholder(d.schema.fields[i].type) + QStringLiteral(", ");
    ok = ok && s.overwrite.prepare(
        QStringLiteral("UPDATE %1 SET %2data = ?, received_at = ?, source = ? WHERE id = ?").arg(table, sets));
    if (!ok) {
        *error = s.insert.lastError().text() + s.find.lastError().text() + s.overwrite.lastError().text();
        return nullptr;
    }
    s.insert.setForwardOnly(true);
    s.find.setForwardOnly(true);
    if (sqlite3 *db = sqliteHandle(m_workspace.database())) {
        QByteArray insertSql = s.insert.lastQuery().toUtf8();
        insertSql.chop(qstrlen(" RETURNING id"));
        const QByteArray findSql = s.find.lastQuery().toUtf8();
        if (sqlite3_prepare_v3(db, insertSql.constData(), -1, SQLITE_PREPARE_PERSISTENT, &s.nativeInsert, nullptr) != SQLITE_OK
            || sqlite3_prepare_v3(db, findSql.constData(), -1, SQLITE_PREPARE_PERSISTENT, &s.nativeFind, nullptr) != SQLITE_OK) {
            sqlite3_finalize(s.nativeInsert);
            sqlite3_finalize(s.nativeFind);
            s.nativeInsert = s.nativeFind = nullptr;
        }
    }
    if (storesGroups()) {
        QStringList types;
        for (const SchemaField &f : d.schema.fields)
            types.append(dialect.columnType(f.type));
        if (!s.prepareGroup(m_workspace.database(), d.tableName(), columns, types, error))
            return nullptr;
    }
    Statements *raw = owned.get();
    m_statements[key] = std::move(owned);
    return raw;
}

StoreResult EventStore::store(const UsageEventDefinition &d, const ValidatedEvent &e, const QString &source,
                              qint64 receivedAtUs)
{
    StoreResult result;
    Statements *s = statementsFor(d, &result.error);
    if (!s)
        return result;
    if (storesGroups())
        preparePartitions(d, {e}); // the importer's and the tests' path: their months get partitions too
    return storeWith(d, *s, e, source, source.toUtf8(), receivedAtUs);
}

QList<StoreResult> EventStore::storeMany(const UsageEventDefinition &d, const QList<ValidatedEvent> &events,
                                         const QString &source, qint64 receivedAtUs)
{
    QList<StoreResult> results;
    results.reserve(events.size());
    StoreResult failed;
    Statements *s = statementsFor(d, &failed.error);
    if (!s) {
        results.append(failed);
        return results;
    }
    if (storesGroups())
        preparePartitions(d, events);
    const QByteArray sourceUtf8 = source.toUtf8();
    for (const ValidatedEvent &e : events) {
        results.append(storeWith(d, *s, e, source, sourceUtf8, receivedAtUs));
        if (results.last().outcome == StoreOutcome::Failed)
            break;
    }
    return results;
}

StoreResult EventStore::storeWith(const UsageEventDefinition &d, Statements &statements, const ValidatedEvent &e,
                                  const QString &source, const QByteArray &sourceUtf8, qint64 receivedAtUs)
{
    StoreResult result;
    Statements *s = &statements;
    if (s->nativeInsert) {
        QString existing;
        result = storeNative(*s, e, sourceUtf8, receivedAtUs, &existing);
        if (result.outcome != StoreOutcome::Duplicate || !result.error.isEmpty())
            return result;
        return resolveExisting(d, *s, e, source, receivedAtUs, result.rowId, existing);
    }
    const QString data = QString::fromUtf8(e.dataJson);
    int i = 0;
    s->insert.bindValue(i++, e.customerId);
    s->insert.bindValue(i++, e.timestampUs);
    for (const QVariant &v : e.values)
        s->insert.bindValue(i++, v);
    s->insert.bindValue(i++, data);
    s->insert.bindValue(i++, receivedAtUs);
    s->insert.bindValue(i++, source);
    if (!s->insert.exec()) {
        result.error = s->insert.lastError().text();
        result.sqlState = s->insert.lastError().nativeErrorCode();
        return result;
    }
    if (s->insert.next()) {
        result.rowId = s->insert.value(0).toLongLong();
        result.outcome = StoreOutcome::Inserted;
        s->insert.finish();
        return result;
    }
    s->insert.finish();

    s->find.bindValue(0, e.customerId);
    s->find.bindValue(1, e.timestampUs);
    if (!s->find.exec() || !s->find.next()) {
        result.error = s->find.lastError().text();
        result.sqlState = s->find.lastError().nativeErrorCode();
        return result;
    }
    const qint64 rowId = s->find.value(0).toLongLong();
    const QString stored = s->find.value(1).toString();
    s->find.finish();
    return resolveExisting(d, *s, e, source, receivedAtUs, rowId, stored);
}

StoreResult EventStore::resolveExisting(const UsageEventDefinition &d, Statements &s, const ValidatedEvent &e,
                                        const QString &source, qint64 receivedAtUs, qint64 rowId, const QString &stored)
{
    StoreResult result;
    result.rowId = rowId;
    const QString data = QString::fromUtf8(e.dataJson);
    if (stored == data) {
        result.outcome = StoreOutcome::Duplicate;
        return result;
    }
    if (d.policy == DuplicatePolicy::Reject) {
        result.outcome = StoreOutcome::Conflict;
        return result;
    }
    int i = 0;
    for (const QVariant &v : e.values)
        s.overwrite.bindValue(i++, v);
    s.overwrite.bindValue(i++, data);
    s.overwrite.bindValue(i++, receivedAtUs);
    s.overwrite.bindValue(i++, source);
    s.overwrite.bindValue(i++, result.rowId);
    if (!s.overwrite.exec()) {
        result.error = s.overwrite.lastError().text();
        result.sqlState = s.overwrite.lastError().nativeErrorCode();
        return result;
    }
    m_workspace.audit(d.slug, result.rowId, QStringLiteral("overwrite"), stored, data, source);
    result.outcome = StoreOutcome::Overwritten;
    return result;
}

void EventStore::forgetStatements()
{
    m_statements.clear();
    m_partitions.clear();
}

bool EventStore::removeInserted(const UsageEventDefinition &d, const QList<qint64> &rowIds, QString *error)
{
    if (m_workspace.dialect().kind() == SqlDialect::Kind::PostgreSQL) {
        // One statement for the whole batch, not one per row.
        QStringList ids;
        ids.reserve(rowIds.size());
        for (const qint64 id : rowIds)
            ids.append(QString::number(id));
        QSqlQuery q(m_workspace.database());
        q.prepare(QStringLiteral("DELETE FROM %1 WHERE id = ANY(CAST(? AS BIGINT[]))").arg(SqlDialect::quote(d.tableName())));
        q.addBindValue(QString(u'{' + ids.join(u',') + u'}'));
        if (!q.exec()) {
            *error = q.lastError().text();
            return false;
        }
        return true;
    }
    QSqlQuery q(m_workspace.database());
    if (!q.prepare(QStringLiteral("DELETE FROM %1 WHERE id = ?").arg(SqlDialect::quote(d.tableName())))) {
        *error = q.lastError().text();
        return false;
    }
    for (const qint64 id : rowIds) {
        q.bindValue(0, id);
        if (!q.exec()) {
            *error = q.lastError().text();
            return false;
        }
    }
    return true;
}

QList<StoredEvent> EventStore::list(const Workspace &ws, const UsageEventDefinition &d, const EventFilter &f,
                                    QString *error)
{
    QStringList where;
    QVariantList binds;
    if (!f.customerId.isEmpty()) {
        where.append(QStringLiteral("customer_id = ?"));
        binds.append(f.customerId);
    }
    if (f.fromUs) {
        where.append(QStringLiteral("\"timestamp\" >= ?"));
        binds.append(*f.fromUs);
    }
    if (f.toUs) {
        where.append(QStringLiteral("\"timestamp\" < ?"));
        binds.append(*f.toUs);
    }
    if (f.before) {
        where.append(Keyset::after(QStringLiteral("\"timestamp\""), true));
        binds << f.before->first << f.before->first << f.before->second;
    }
    QSqlQuery q(ws.database());
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT id, customer_id, \"timestamp\", data, received_at, source, edited FROM %1%2 "
                             "ORDER BY \"timestamp\" DESC, id DESC LIMIT %3")
                  .arg(SqlDialect::quote(d.tableName()),
                       where.isEmpty() ? QString() : QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND ")))
                  .arg(qBound(1, f.limit, 10000)));
    for (const QVariant &b : std::as_const(binds))
        q.addBindValue(b);
    QList<StoredEvent> rows;
    if (!q.exec()) {
        *error = q.lastError().text();
        return rows;
    }
    while (q.next()) {
        StoredEvent e;
        e.id = q.value(0).toLongLong();
        e.customerId = q.value(1).toString();
        e.timestampUs = q.value(2).toLongLong();
        e.dataJson = q.value(3).toString().toUtf8();
        e.receivedAtUs = q.value(4).toLongLong();
        e.source = q.value(5).toString();
        e.edited = q.value(6).toInt() != 0;
        rows.append(std::move(e));
    }
    return rows;
}

} // namespace meterdesk
