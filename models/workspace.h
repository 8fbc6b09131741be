#pragma once

#include "problem.h"
#include "sqldialect.h"
#include "usageevent.h"

#include <QList>
#include <QLoggingCategory>
#include <QSqlDatabase>
#include <QString>

#include <memory>
#include <optional>

Q_DECLARE_LOGGING_CATEGORY(lcStorage)

namespace meterdesk {

// One workspace is one database (DESIGN.md §4): its organisation, usage event
// definitions with a table each, API keys, dead letters and the audit log.
// Each Workspace object owns its own named connection and must be used only on
// the thread that opened it (the writer thread, a reader, the GUI's short calls).
class Workspace
{
public:
    static constexpr int SchemaVersion = 2;

    // `location`: a SQLite file path (created with its folder when missing), or
    // postgresql://user[:password]@host[:port]/dbname (QPSQL; the database must exist).
    // Fails with a message for a corrupt file, a database that is not ours, a lock,
    // an unreachable server; messages never show a password.
    static std::unique_ptr<Workspace> open(const QString &location, QString *error);
    static QString defaultLocation();
    ~Workspace();

    Workspace(const Workspace &) = delete;
    Workspace &operator=(const Workspace &) = delete;

    QSqlDatabase database() const;
    const SqlDialect &dialect() const { return m_dialect; }
    QString location() const { return m_location; }
    QString organisation() const { return m_organisation; }

    // Definitions. create/update validate (slug, schema, uniqueness) and return every
    // problem; an empty list means done.
    QList<UsageEventDefinition> definitions(bool *ok = nullptr) const; // *ok false: the query failed
    std::optional<UsageEventDefinition> definition(const QString &slug) const;
    Problems createDefinition(UsageEventDefinition &definition);
    Problems updateDefinition(const QString &slug, const UsageEventDefinition &changed);
    bool removeDefinition(const QString &slug, QString *error);

    // Stored events of one usage event (exact count: call off the GUI thread for big tables).
    qint64 rowCount(const UsageEventDefinition &definition) const;
    // Rows of a field's column holding a value, for "what happens to stored rows" checks.
    qint64 valuesInColumn(const UsageEventDefinition &definition, const QString &column) const;

    void audit(const QString &slug, std::optional<qint64> rowId, const QString &action, const QString &before,
               const QString &after, const QString &actor);

    static qint64 nowUs();

    // Write transactions for the one writer (BEGIN IMMEDIATE on SQLite, so the lock
    // is taken up front). On failure: the message and, when the database gives one,
    // its SQLSTATE (PostgreSQL deadlocks are worth a retry).
    bool beginWrite(QString *error, QString *sqlState = nullptr);
    bool commit(QString *error, QString *sqlState = nullptr);
    void rollback();
    // Whether a server database still answers (a failed statement may mean it restarted).
    bool isReachable();
    // SQLite: whether the write lock can be had within `waitMs` (another process may
    // hold it); the lock is let go at once. Server databases: true.
    bool canTakeWriteLock(int waitMs, QString *error);

    // For the one writer: a page cache big enough that a large group commit does
    // not spill pages to the WAL twice.
    void tuneForBulkWrites();

private:
    Workspace(QString connectionName, QString location, SqlDialect dialect);
    static std::unique_ptr<Workspace> openPostgres(const QString &location, QString *error);
    bool migrate(QString *error);
    bool exec(const QString &sql, QString *error = nullptr) const;
    bool createTable(const UsageEventDefinition &definition, QString *error);
    QStringList tableColumns(const QString &table) const;

    QString m_connectionName;
    QString m_location;
    SqlDialect m_dialect;
    QString m_organisation;
    QString m_openFile; // SQLite: this process's count of connections to it, see Workspace::open
};

} // namespace meterdesk
