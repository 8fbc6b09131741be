#pragma once

#include "dataschema.h"

#include <QString>

namespace meterdesk {

// The seam between storage logic and a database's SQL spelling. Storage code asks
// the dialect for types and clauses; it never spells them itself. SQLite today,
// PostgreSQL (QPSQL) through the same callers.
class SqlDialect
{
public:
    enum class Kind { SQLite, PostgreSQL };

    explicit SqlDialect(Kind kind) : m_kind(kind) {}
    Kind kind() const { return m_kind; }
    QString driverName() const;

    // Double-quoted identifier with embedded quotes doubled. Callers validate
    // identifiers first; quoting is the second fence, not the only one.
    static QString quote(const QString &identifier);

    QString columnType(FieldType type) const;
    QString idColumn() const;    // the auto-increment primary key column definition
    QString bigint() const;      // 64-bit integer
    QString beginWrite() const;  // a write transaction that takes the lock up front

private:
    Kind m_kind;
};

} // namespace meterdesk
