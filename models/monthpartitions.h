#pragma once

#include <QHash>
#include <QSet>
#include <QString>
#include <QStringList>

namespace meterdesk {

class Workspace;

// PostgreSQL usage tables are partitioned by calendar month (UTC) of "timestamp"
// (declarative RANGE partitioning on the microsecond column): retention is a DROP of a
// month's partition, and a month's aggregate scans one partition. A DEFAULT partition
// takes any row whose month has no partition yet, so no insert path can fail on a
// missing partition; the writer creates a month's partition before its rows arrive.
// Tables created before partitioning (plain tables) are left as they are: ensure() does
// nothing for them (docs/SCALING.md).
class MonthPartitions
{
public:
    // Months are counted from year 0: year * 12 + (month - 1), UTC.
    static int monthOf(qint64 timestampUs);
    static qint64 monthStartUs(int month);
    // "usage_x$202612" and "usage_x$default": '$' is in no slug, so no usage event's table
    // can take a partition's name. A hashed name when the table's is too long for
    // PostgreSQL's 63 bytes.
    static QString partitionName(const QString &table, int month);
    static QString defaultPartitionName(const QString &table);

    // The DDL of a new partitioned usage table: `columns` without a primary key (it
    // must hold the partition key: (id, "timestamp")), then its DEFAULT partition.
    static QStringList createStatements(const QString &table, const QString &columns);

    // Creates the partitions of these months that `table` does not have yet. Inside a
    // transaction each creation is guarded by a savepoint, so a failure (another node
    // created it first, a default partition already holding rows of that month) costs
    // nothing but a log line: the rows then go to the default partition.
    void ensure(Workspace &workspace, const QString &table, const QSet<int> &months);

    // Forget what is known (after a rollback: a partition created in it is gone).
    void clear() { m_known.clear(); }

private:
    struct Known
    {
        bool partitioned = false;
        QSet<int> months;
    };
    Known &load(Workspace &workspace, const QString &table);

    QHash<QString, Known> m_known;
};

} // namespace meterdesk
