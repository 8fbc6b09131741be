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

    // postgresql://user[:password]@host[:port]/dbname (or postgres://) names a
    // PostgreSQL workspace; anything else is a SQLite file path.
    static bool isPostgresUrl(const QString &location);
    // The location with any password replaced, for messages and window titles.
    static QString redacted(const QString &location);

    // Double-quoted identifier with embedded quotes doubled. Callers validate
    // identifiers first; quoting is the second fence, not the only one.
    static QString quote(const QString &identifier);

    QString columnType(FieldType type) const;
    QString idColumn() const;    // the auto-increment primary key column definition
    QString bigint() const;      // 64-bit integer
    QString beginWrite() const;  // a write transaction that takes the lock up front
    // Run inside a write transaction before a schema migration: serialises nodes
    // that open one fresh database at once. Empty when beginWrite() already does.
    QString lockSchema() const;
    // The bound-value marker for a column of `type`. Values are bound as QVariant
    // (text, integers, doubles, bools); where the database wants a typed value the
    // cast lives here, not in callers.
    QString placeholder(FieldType type) const;

    // A stored column as the Rows viewer's filters compare it (`quotedColumn` already
    // quoted). SQLite keeps everything it can LIKE and compare as is; PostgreSQL's
    // typed columns need a cast first.
    QString asTextForLike(const QString &quotedColumn, FieldType type) const; // uuid, date, jsonb -> text
    QString booleanAsInteger(const QString &quotedColumn) const;              // true/false -> 1/0
    QString decimalAsNumber(const QString &quotedColumn) const;               // exact decimal -> floating
    // The one the filter of a column of `type` uses: one of the three above, or the column.
    QString filterOperand(const QString &quotedColumn, FieldType type) const;

private:
    Kind m_kind;
};

} // namespace meterdesk
