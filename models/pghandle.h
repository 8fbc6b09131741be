#pragma once

#include <QSqlDatabase>
#include <QSqlDriver>
#include <QVariant>

#include <libpq-fe.h>

namespace meterdesk {

// libpq's connection under a QPSQL connection (null on any other driver, or when closed):
// the writer's group statements and COPY, and the month partitions, talk to it directly.
// QPSQL hands it out as a QVariant of PGconn*, whose normalized type name is the struct's
// ("pg_conn*").
inline PGconn *pgHandle(const QSqlDatabase &db)
{
    if (!db.driver())
        return nullptr;
    const QVariant v = db.driver()->handle();
    if (!v.isValid() || (qstrcmp(v.typeName(), "pg_conn*") != 0 && qstrcmp(v.typeName(), "PGconn*") != 0))
        return nullptr;
    return *static_cast<PGconn *const *>(v.constData());
}

} // namespace meterdesk
