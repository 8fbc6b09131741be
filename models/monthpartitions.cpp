#include "monthpartitions.h"

#include "pghandle.h"
#include "sqldialect.h"
#include "workspace.h"

#include <QCryptographicHash>
#include <QRegularExpression>
#include <QSqlDriver>

#include <libpq-fe.h>

namespace meterdesk {

namespace {

constexpr qint64 MicrosPerDay = 86400LL * 1000000;

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's
// civil-date algorithms): exact for every year Meterdesk accepts (1..9999).
qint64 daysFromCivil(qint64 y, int m, int d)
{
    y -= m <= 2;
    const qint64 era = (y >= 0 ? y : y - 399) / 400;
    const qint64 yoe = y - era * 400;
    const qint64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const qint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civilFromDays(qint64 z, qint64 *year, int *month)
{
    z += 719468;
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const qint64 doe = z - era * 146097;
    const qint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const qint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const qint64 mp = (5 * doy + 2) / 153;
    *month = int(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

// One statement; true when it succeeded. `error` gets the server's message.
bool run(PGconn *conn, const QByteArray &sql, QString *error)
{
    PGresult *r = PQexec(conn, sql.constData());
    const ExecStatusType status = PQresultStatus(r);
    const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    if (!ok && error)
        *error = QString::fromUtf8(PQresultErrorMessage(r)).trimmed();
    PQclear(r);
    return ok;
}

QByteArray literal(const QString &text)
{
    QByteArray out = text.toUtf8();
    out.replace('\'', "''");
    return '\'' + out + '\'';
}

} // namespace

int MonthPartitions::monthOf(qint64 timestampUs)
{
    const qint64 days = timestampUs >= 0 ? timestampUs / MicrosPerDay : -((-timestampUs + MicrosPerDay - 1) / MicrosPerDay);
    qint64 year = 0;
    int month = 1;
    civilFromDays(days, &year, &month);
    return int(year * 12 + (month - 1));
}

qint64 MonthPartitions::monthStartUs(int month)
{
    return daysFromCivil(month / 12, month % 12 + 1, 1) * MicrosPerDay;
}

QString MonthPartitions::partitionName(const QString &table, int month)
{
    const QString suffix = QStringLiteral("$%1%2").arg(month / 12, 4, 10, QLatin1Char('0')).arg(month % 12 + 1, 2, 10, QLatin1Char('0'));
    if (table.toUtf8().size() + suffix.size() <= 63)
        return table + suffix;
    const QByteArray digest = QCryptographicHash::hash(table.toUtf8(), QCryptographicHash::Sha256).toHex().left(16);
    return QStringLiteral("usage_") + QString::fromLatin1(digest) + suffix;
}

QString MonthPartitions::defaultPartitionName(const QString &table)
{
    QString name = table + QStringLiteral("$default");
    if (name.toUtf8().size() <= 63)
        return name;
    const QByteArray digest = QCryptographicHash::hash(table.toUtf8(), QCryptographicHash::Sha256).toHex().left(16);
    return QStringLiteral("usage_") + QString::fromLatin1(digest) + QStringLiteral("$default");
}

QStringList MonthPartitions::createStatements(const QString &table, const QString &columns)
{
    return {QStringLiteral("CREATE TABLE %1 (%2, PRIMARY KEY (id, \"timestamp\")) PARTITION BY RANGE (\"timestamp\")")
                .arg(SqlDialect::quote(table), columns),
            QStringLiteral("CREATE TABLE %1 PARTITION OF %2 DEFAULT")
                .arg(SqlDialect::quote(defaultPartitionName(table)), SqlDialect::quote(table))};
}

MonthPartitions::Known &MonthPartitions::load(Workspace &ws, const QString &table)
{
    auto it = m_known.find(table);
    if (it != m_known.end())
        return *it;
    Known known;
    if (PGconn *conn = pgHandle(ws.database())) {
        // Which months the table has partitions for: the lower bound of each range.
        const QByteArray sql = "SELECT c.relkind::text, pg_get_expr(p.relpartbound, p.oid) FROM pg_class c "
                               "LEFT JOIN pg_inherits i ON i.inhparent = c.oid LEFT JOIN pg_class p ON p.oid = i.inhrelid "
                               "WHERE c.oid = to_regclass("
            + literal(SqlDialect::quote(table)) + ")";
        PGresult *r = PQexec(conn, sql.constData());
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            static const QRegularExpression from(QStringLiteral("FROM \\('?(-?\\d+)'?\\)"));
            for (int row = 0; row < PQntuples(r); ++row) {
                known.partitioned = known.partitioned || qstrcmp(PQgetvalue(r, row, 0), "p") == 0;
                const auto m = from.match(QString::fromUtf8(PQgetvalue(r, row, 1)));
                if (m.hasMatch())
                    known.months.insert(monthOf(m.captured(1).toLongLong()));
            }
        }
        PQclear(r);
    }
    return *m_known.insert(table, known);
}

void MonthPartitions::ensure(Workspace &ws, const QString &table, const QSet<int> &months)
{
    PGconn *conn = pgHandle(ws.database());
    if (!conn)
        return;
    Known &known = load(ws, table);
    if (!known.partitioned)
        return;
    for (const int month : months) {
        if (known.months.contains(month))
            continue;
        known.months.insert(month); // tried once per process (or until clear())
        const bool inTransaction = PQtransactionStatus(conn) == PQTRANS_INTRANS;
        const QByteArray create = QStringLiteral("CREATE TABLE IF NOT EXISTS %1 PARTITION OF %2 FOR VALUES FROM (%3) TO (%4)")
                                      .arg(SqlDialect::quote(partitionName(table, month)), SqlDialect::quote(table))
                                      .arg(monthStartUs(month))
                                      .arg(monthStartUs(month + 1))
                                      .toUtf8();
        QString error;
        if (inTransaction && !run(conn, "SAVEPOINT mdk_partition", &error)) {
            qCWarning(lcStorage) << "partition" << partitionName(table, month) << "not created:" << error;
            continue;
        }
        if (run(conn, create, &error)) {
            if (inTransaction)
                run(conn, "RELEASE SAVEPOINT mdk_partition", nullptr);
            continue;
        }
        // Another node made it first (its rows then simply go there), or the default
        // partition already holds rows of this month: they stay where they are.
        qCInfo(lcStorage) << "partition" << partitionName(table, month) << "not created:" << error;
        if (inTransaction)
            run(conn, "ROLLBACK TO SAVEPOINT mdk_partition", nullptr);
    }
}

} // namespace meterdesk
