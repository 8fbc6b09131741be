#include "eventstore.h"

#include "jsonvalue.h"
#include "timestamp.h"
#include "workspace.h"

#include <QSqlError>

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

EventStore::Statements *EventStore::statementsFor(const UsageEventDefinition &d, QString *error)
{
    QStringList columns;
    for (const SchemaField &f : d.schema.fields)
        columns.append(SqlDialect::quote(f.columnName()));
    const QString key = d.tableName() + u'|' + columns.join(u',');
    if (auto it = m_statements.find(key); it != m_statements.end())
        return it->second.get();

    const QString table = SqlDialect::quote(d.tableName());
    QString placeholders;
    for (qsizetype i = 0; i < columns.size(); ++i)
        placeholders += QStringLiteral(", ?");
    auto owned = std::unique_ptr<Statements>(
        new Statements{QSqlQuery(m_workspace.database()), QSqlQuery(m_workspace.database()), QSqlQuery(m_workspace.database())});
    Statements &s = *owned;
    const QString dataColumns = columns.isEmpty() ? QString() : QStringLiteral(", ") + columns.join(QStringLiteral(", "));
    bool ok = s.insert.prepare(
        QStringLiteral("INSERT INTO %1 (customer_id, \"timestamp\"%2, data, received_at, source) VALUES (?, ?%3, ?, ?, ?) "
                       "ON CONFLICT (customer_id, \"timestamp\") DO NOTHING RETURNING id")
            .arg(table, dataColumns, placeholders));
    ok = ok && s.find.prepare(QStringLiteral("SELECT id, data FROM %1 WHERE customer_id = ? AND \"timestamp\" = ?").arg(table));
    QString sets;
    for (const QString &c : std::as_const(columns))
        sets += c + QStringLiteral(" = ?, ");
    ok = ok && s.overwrite.prepare(
        QStringLiteral("UPDATE %1 SET %2data = ?, received_at = ?, source = ? WHERE id = ?").arg(table, sets));
    if (!ok) {
        *error = s.insert.lastError().text() + s.find.lastError().text() + s.overwrite.lastError().text();
        return nullptr;
    }
    s.insert.setForwardOnly(true);
    s.find.setForwardOnly(true);
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
        return result;
    }
    result.rowId = s->find.value(0).toLongLong();
    const QString stored = s->find.value(1).toString();
    s->find.finish();
    if (stored == data) {
        result.outcome = StoreOutcome::Duplicate;
        return result;
    }
    if (d.policy == DuplicatePolicy::Reject) {
        result.outcome = StoreOutcome::Conflict;
        return result;
    }
    i = 0;
    for (const QVariant &v : e.values)
        s->overwrite.bindValue(i++, v);
    s->overwrite.bindValue(i++, data);
    s->overwrite.bindValue(i++, receivedAtUs);
    s->overwrite.bindValue(i++, source);
    s->overwrite.bindValue(i++, result.rowId);
    if (!s->overwrite.exec()) {
        result.error = s->overwrite.lastError().text();
        return result;
    }
    m_workspace.audit(d.slug, result.rowId, QStringLiteral("overwrite"), stored, data, source);
    result.outcome = StoreOutcome::Overwritten;
    return result;
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
        where.append(QStringLiteral("(\"timestamp\" < ? OR (\"timestamp\" = ? AND id < ?))"));
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
