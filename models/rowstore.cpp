#include "rowstore.h"

#include "jsonvalue.h"
#include "keyset.h"
#include "timestamp.h"
#include "validator.h"
#include "workspace.h"

#include <QSqlError>
#include <QSqlQuery>

namespace meterdesk {

namespace {
ColumnFilter::Kind kindOf(FieldType type)
{
    switch (type) {
    case FieldType::Integer:
    case FieldType::Boolean: return ColumnFilter::Kind::Integer;
    case FieldType::Float: return ColumnFilter::Kind::Real;
    case FieldType::Decimal: return ColumnFilter::Kind::Decimal;
    case FieldType::DateTime: return ColumnFilter::Kind::Time;
    default: return ColumnFilter::Kind::Text;
    }
}

StoredRow rowFrom(const QSqlQuery &q, int valueCount)
{
    StoredRow r;
    r.id = q.value(0).toLongLong();
    for (int i = 0; i < valueCount; ++i)
        r.values.append(q.value(1 + i));
    r.edited = q.value(1 + valueCount - 1).toInt() != 0;
    r.data = q.value(1 + valueCount).toString().toUtf8();
    return r;
}
} // namespace

QList<RowStore::Column> RowStore::columns(const UsageEventDefinition &d)
{
    QList<Column> c;
    c.append({QStringLiteral("customer_id"), QStringLiteral("customer_id"), ColumnFilter::Kind::Text, true, -1});
    c.append({QStringLiteral("timestamp"), QStringLiteral("timestamp"), ColumnFilter::Kind::Time, true, -1});
    for (qsizetype i = 0; i < d.schema.fields.size(); ++i) {
        const SchemaField &f = d.schema.fields[i];
        c.append({f.path, f.columnName(), kindOf(f.type), false, int(i)});
    }
    c.append({QStringLiteral("received_at"), QStringLiteral("received_at"), ColumnFilter::Kind::Time, true, -1});
    c.append({QStringLiteral("source"), QStringLiteral("source"), ColumnFilter::Kind::Text, true, -1});
    c.append({QStringLiteral("edited"), QStringLiteral("edited"), ColumnFilter::Kind::Integer, false, -1});
    return c;
}

QString RowStore::selectList(const UsageEventDefinition &d) const
{
    QStringList names{QStringLiteral("id")};
    for (const Column &c : columns(d))
        names.append(SqlDialect::quote(c.sqlName));
    names.append(QStringLiteral("data"));
    return names.join(QStringLiteral(", "));
}

QString RowStore::whereClause(const RowsQuery &q, QVariantList *binds, QString *error) const
{
    QStringList where;
    if (!q.customerId.isEmpty()) {
        where.append(QStringLiteral("customer_id = ?"));
        binds->append(q.customerId);
    }
    if (q.fromUs) {
        where.append(QStringLiteral("\"timestamp\" >= ?"));
        binds->append(*q.fromUs);
    }
    if (q.toUs) {
        where.append(QStringLiteral("\"timestamp\" < ?"));
        binds->append(*q.toUs);
    }
    const QList<Column> cols = columns(q.definition);
    for (auto it = q.columnFilters.cbegin(); it != q.columnFilters.cend(); ++it) {
        if (it.key() < 0 || it.key() >= cols.size())
            continue;
        const Column &c = cols[it.key()];
        const QString operand = c.fieldIndex >= 0
            ? m_workspace.dialect().filterOperand(SqlDialect::quote(c.sqlName), q.definition.schema.fields[c.fieldIndex].type)
            : SqlDialect::quote(c.sqlName);
        QString why;
        const auto cond = ColumnFilter::toSql(operand, c.kind, it.value(), &why);
        if (!cond) {
            if (!why.isEmpty()) {
                *error = QStringLiteral("%1: %2").arg(cols[it.key()].title, why);
                return {};
            }
            continue;
        }
        where.append(cond->sql);
        *binds += cond->binds;
    }
    return where.isEmpty() ? QString() : QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
}

RowsPage RowStore::page(const RowsQuery &q, const StoredRow *after, int limit)
{
    RowsPage page;
    const QList<Column> cols = columns(q.definition);
    const int sortColumn = q.sortColumn >= 0 && q.sortColumn < cols.size() && cols[q.sortColumn].sortable
        ? q.sortColumn : TimestampColumn;
    QVariantList binds;
    QString where = whereClause(q, &binds, &page.error);
    if (!page.error.isEmpty())
        return page;
    const QString key = SqlDialect::quote(cols[sortColumn].sqlName);
    if (after) {
        // Keyset: strictly after the last row shown, in (sort value, id) order.
        where += (where.isEmpty() ? QStringLiteral(" WHERE ") : QStringLiteral(" AND ")) + Keyset::after(key, q.descending);
        binds << after->values.value(sortColumn) << after->values.value(sortColumn) << after->id;
    }
    const QString dir = q.descending ? QStringLiteral("DESC") : QStringLiteral("ASC");
    QSqlQuery sql(m_workspace.database());
    sql.setForwardOnly(true);
    sql.prepare(QStringLiteral("SELECT %1 FROM %2%3 ORDER BY %4 %5, id %5 LIMIT %6")
                    .arg(selectList(q.definition), SqlDialect::quote(q.definition.tableName()), where, key, dir)
                    .arg(limit + 1));
    for (const QVariant &b : std::as_const(binds))
        sql.addBindValue(b);
    if (!sql.exec()) {
        page.error = sql.lastError().text();
        return page;
    }
    while (sql.next()) {
        if (page.rows.size() == limit) {
            page.more = true;
            break;
        }
        page.rows.append(rowFrom(sql, int(cols.size())));
    }
    return page;
}

std::optional<qint64> RowStore::count(const RowsQuery &q, QString *error)
{
    QVariantList binds;
    const QString where = whereClause(q, &binds, error);
    if (!error->isEmpty())
        return std::nullopt;
    QSqlQuery sql(m_workspace.database());
    sql.prepare(QStringLiteral("SELECT count(*) FROM %1%2").arg(SqlDialect::quote(q.definition.tableName()), where));
    for (const QVariant &b : std::as_const(binds))
        sql.addBindValue(b);
    if (!sql.exec() || !sql.next()) {
        *error = sql.lastError().text();
        return std::nullopt;
    }
    return sql.value(0).toLongLong();
}

qint64 RowStore::maxId(const UsageEventDefinition &d)
{
    QSqlQuery sql(m_workspace.database());
    if (sql.exec(QStringLiteral("SELECT coalesce(max(id), 0) FROM %1").arg(SqlDialect::quote(d.tableName()))) && sql.next())
        return sql.value(0).toLongLong();
    return 0;
}

QList<StoredRow> RowStore::arrivedAfter(const RowsQuery &q, qint64 afterId, int limit, QString *error)
{
    QList<StoredRow> rows;
    QVariantList binds;
    QString where = whereClause(q, &binds, error);
    if (!error->isEmpty())
        return rows;
    where += (where.isEmpty() ? QStringLiteral(" WHERE ") : QStringLiteral(" AND ")) + QStringLiteral("id > ?");
    binds.append(afterId);
    QSqlQuery sql(m_workspace.database());
    sql.setForwardOnly(true);
    sql.prepare(QStringLiteral("SELECT %1 FROM %2%3 ORDER BY id LIMIT %4")
                    .arg(selectList(q.definition), SqlDialect::quote(q.definition.tableName()), where)
                    .arg(limit));
    for (const QVariant &b : std::as_const(binds))
        sql.addBindValue(b);
    if (!sql.exec()) {
        *error = sql.lastError().text();
        return rows;
    }
    const int n = int(columns(q.definition).size());
    while (sql.next())
        rows.append(rowFrom(sql, n));
    return rows;
}

std::optional<StoredRow> RowStore::fetch(const UsageEventDefinition &d, qint64 id)
{
    QSqlQuery sql(m_workspace.database());
    sql.prepare(QStringLiteral("SELECT %1 FROM %2 WHERE id = ?").arg(selectList(d), SqlDialect::quote(d.tableName())));
    sql.addBindValue(id);
    if (sql.exec() && sql.next())
        return rowFrom(sql, int(columns(d).size()));
    return std::nullopt;
}

QString RowStore::rowJson(const UsageEventDefinition &d, const StoredRow &row)
{
    QByteArray out = "{\"id\":" + QByteArray::number(row.id) + ",\"customer_id\":";
    appendJsonString(out, row.values.value(CustomerColumn).toString().toUtf8());
    out += ",\"timestamp\":\"" + Timestamp::toIso(row.values.value(TimestampColumn).toLongLong()).toLatin1()
        + "\",\"data\":" + (row.data.isEmpty() ? QByteArray("{}") : row.data) + ",\"edited\":"
        + (row.edited ? "true" : "false") + '}';
    Q_UNUSED(d);
    return QString::fromUtf8(out);
}

std::optional<StoredRow> RowStore::editField(const UsageEventDefinition &d, qint64 rowId, int column,
                                             const QString &text, QString *error)
{
    const QList<Column> cols = columns(d);
    if (column < 0 || column >= cols.size() || cols[column].fieldIndex < 0) {
        *error = QStringLiteral("Only data fields can be edited; customer_id and timestamp identify the event.");
        return std::nullopt;
    }
    const SchemaField &field = d.schema.fields[cols[column].fieldIndex];
    const auto before = fetch(d, rowId);
    if (!before) {
        *error = QStringLiteral("Row %1 no longer exists.").arg(rowId);
        return std::nullopt;
    }
    // What the user typed, read as JSON when it is JSON ("5", "true", "\"x\""), else as text.
    JsonValue typed;
    const QString trimmed = text.trimmed();
    QVariant value;
    if (!trimmed.isEmpty()) {
        JsonValue::ParseResult parsed = JsonValue::parse(trimmed.toUtf8());
        typed = parsed.ok && !parsed.value.isObject() ? std::move(parsed.value) : JsonValue::makeString(text.toUtf8());
        QString why;
        const auto converted = Validator::convert(field.type, typed, &why);
        if (!converted) {
            *error = QStringLiteral("%1: %2.").arg(field.path, why);
            return std::nullopt;
        }
        value = *converted;
    } else if (field.required) {
        *error = QStringLiteral("%1 is required.").arg(field.path);
        return std::nullopt;
    }
    JsonValue::ParseResult data = JsonValue::parse(before->data);
    if (!data.ok || !data.value.isObject() || !data.value.setPath(field.segments(), std::move(typed))) {
        *error = QStringLiteral("The stored data of row %1 cannot hold %2.").arg(rowId).arg(field.path);
        return std::nullopt;
    }
    QSqlQuery sql(m_workspace.database());
    if (!sql.exec(m_workspace.dialect().beginWrite())) {
        *error = sql.lastError().text();
        return std::nullopt;
    }
    sql.prepare(QStringLiteral("UPDATE %1 SET %2 = %3, data = ?, edited = 1 WHERE id = ?")
                    .arg(SqlDialect::quote(d.tableName()), SqlDialect::quote(field.columnName()),
                         m_workspace.dialect().placeholder(field.type)));
    sql.addBindValue(value.isValid() ? value : QVariant(QMetaType::fromType<QString>()));
    sql.addBindValue(QString::fromUtf8(data.value.toJson(true)));
    sql.addBindValue(rowId);
    if (!sql.exec()) {
        *error = sql.lastError().text();
        QSqlQuery(m_workspace.database()).exec(QStringLiteral("ROLLBACK"));
        return std::nullopt;
    }
    auto after = fetch(d, rowId);
    m_workspace.audit(d.slug, rowId, QStringLiteral("edit"), rowJson(d, *before), rowJson(d, *after), QStringLiteral("local"));
    QSqlQuery(m_workspace.database()).exec(QStringLiteral("COMMIT"));
    return after;
}

bool RowStore::removeRows(const UsageEventDefinition &d, const QList<qint64> &ids, QList<StoredRow> *removed,
                          QString *error)
{
    QSqlQuery sql(m_workspace.database());
    if (!sql.exec(m_workspace.dialect().beginWrite())) {
        *error = sql.lastError().text();
        return false;
    }
    sql.prepare(QStringLiteral("DELETE FROM %1 WHERE id = ?").arg(SqlDialect::quote(d.tableName())));
    for (const qint64 id : ids) {
        const auto row = fetch(d, id);
        if (!row)
            continue;
        sql.bindValue(0, id);
        if (!sql.exec()) {
            *error = sql.lastError().text();
            QSqlQuery(m_workspace.database()).exec(QStringLiteral("ROLLBACK"));
            return false;
        }
        m_workspace.audit(d.slug, id, QStringLiteral("delete"), rowJson(d, *row), QString(), QStringLiteral("local"));
        removed->append(*row);
    }
    return QSqlQuery(m_workspace.database()).exec(QStringLiteral("COMMIT"));
}

bool RowStore::restoreRows(const UsageEventDefinition &d, const QList<StoredRow> &rows, QString *error)
{
    const QList<Column> cols = columns(d);
    QStringList names{QStringLiteral("id")};
    QStringList marks{QStringLiteral("?")};
    for (const Column &c : cols) {
        names.append(SqlDialect::quote(c.sqlName));
        marks.append(c.fieldIndex >= 0 ? m_workspace.dialect().placeholder(d.schema.fields[c.fieldIndex].type)
                                       : QStringLiteral("?"));
    }
    names.append(QStringLiteral("data"));
    marks.append(QStringLiteral("?"));
    QSqlQuery sql(m_workspace.database());
    if (!sql.exec(m_workspace.dialect().beginWrite())) {
        *error = sql.lastError().text();
        return false;
    }
    sql.prepare(QStringLiteral("INSERT INTO %1 (%2) VALUES (%3)")
                    .arg(SqlDialect::quote(d.tableName()), names.join(u','), marks.join(u',')));
    for (const StoredRow &r : rows) {
        sql.addBindValue(r.id);
        for (const QVariant &v : r.values)
            sql.addBindValue(v);
        sql.addBindValue(QString::fromUtf8(r.data));
        if (!sql.exec()) {
            *error = sql.lastError().text();
            QSqlQuery(m_workspace.database()).exec(QStringLiteral("ROLLBACK"));
            return false;
        }
        m_workspace.audit(d.slug, r.id, QStringLiteral("restore"), QString(), rowJson(d, r), QStringLiteral("local"));
    }
    return QSqlQuery(m_workspace.database()).exec(QStringLiteral("COMMIT"));
}

QList<AuditEntry> RowStore::history(const UsageEventDefinition &d, qint64 rowId)
{
    QList<AuditEntry> out;
    QSqlQuery sql(m_workspace.database());
    sql.prepare(QStringLiteral("SELECT at, action, before_json, after_json, actor FROM audit_log "
                               "WHERE slug = ? AND row_id = ? ORDER BY id"));
    sql.addBindValue(d.slug);
    sql.addBindValue(rowId);
    if (!sql.exec())
        return out;
    while (sql.next())
        out.append({sql.value(0).toLongLong(), sql.value(1).toString(), sql.value(2).toString(),
                    sql.value(3).toString(), sql.value(4).toString()});
    return out;
}

} // namespace meterdesk
