#pragma once

#include <QString>

namespace meterdesk::Keyset {

// The condition "strictly after (value, id) in (column, id) order": the next page
// of a keyset scan. Written so the column's index bounds the scan (SQLite does not
// use an index for the plain `col < ? OR (col = ? AND id < ?)` form). Binds, in
// order: value, value, id. `quotedColumn` is an already quoted identifier.
inline QString after(const QString &quotedColumn, bool descending)
{
    const QString op = descending ? QStringLiteral("<") : QStringLiteral(">");
    return QStringLiteral("%1 %2= ? AND (%1 %2 ? OR id %2 ?)").arg(quotedColumn, op);
}

} // namespace meterdesk::Keyset
