#pragma once

#include <QString>
#include <QVariantList>

#include <optional>

namespace meterdesk {

// A per-column filter in the syntax DB Browser for SQLite users know, turned into
// a SQL condition with bound values (never user text in the SQL):
//   >5  >=5  <5  <=5  =x  <>x  !=x  5~10 (inclusive range)  text (contains)
// For numbers and times a plain value means equality. Pure: any thread.
namespace ColumnFilter {

enum class Kind { Text, Integer, Real, Decimal, Time };

struct Condition
{
    QString sql;        // e.g. "\"data.cpu\" >= ?"
    QVariantList binds; // in placeholder order
};

// `operand` is the column as the database compares it: an identifier quoted by
// SqlDialect::quote(), or SqlDialect::filterOperand() of one (a cast where the
// backend needs it: decimals as numbers, booleans as 0/1, typed columns as text).
std::optional<Condition> toSql(const QString &operand, Kind kind, const QString &text, QString *error);

} // namespace ColumnFilter
} // namespace meterdesk
