#include "sqldialect.h"

namespace meterdesk {

QString SqlDialect::driverName() const
{
    return m_kind == Kind::SQLite ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL");
}

QString SqlDialect::quote(const QString &identifier)
{
    QString s = identifier;
    s.replace(u'"', QStringLiteral("\"\""));
    return u'"' + s + u'"';
}

QString SqlDialect::columnType(FieldType type) const
{
    const bool pg = m_kind == Kind::PostgreSQL;
    switch (type) {
    case FieldType::String: return QStringLiteral("TEXT");
    case FieldType::Integer: return bigint();
    case FieldType::Float: return pg ? QStringLiteral("DOUBLE PRECISION") : QStringLiteral("REAL");
    case FieldType::Decimal: return pg ? QStringLiteral("NUMERIC") : QStringLiteral("TEXT"); // exact, never REAL
    case FieldType::Boolean: return pg ? QStringLiteral("BOOLEAN") : QStringLiteral("INTEGER");
    case FieldType::Date: return pg ? QStringLiteral("DATE") : QStringLiteral("TEXT");
    case FieldType::DateTime: return bigint(); // microseconds since the epoch, UTC
    case FieldType::Uuid: return pg ? QStringLiteral("UUID") : QStringLiteral("TEXT");
    case FieldType::Array: return pg ? QStringLiteral("JSONB") : QStringLiteral("TEXT");
    }
    return QStringLiteral("TEXT");
}

QString SqlDialect::idColumn() const
{
    return m_kind == Kind::SQLite ? QStringLiteral("id INTEGER PRIMARY KEY")
                                  : QStringLiteral("id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
}

QString SqlDialect::bigint() const
{
    return m_kind == Kind::SQLite ? QStringLiteral("INTEGER") : QStringLiteral("BIGINT");
}

QString SqlDialect::beginWrite() const
{
    return m_kind == Kind::SQLite ? QStringLiteral("BEGIN IMMEDIATE") : QStringLiteral("BEGIN");
}

} // namespace meterdesk
