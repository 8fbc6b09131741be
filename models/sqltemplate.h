#pragma once

#include "sqldialect.h"
#include "usageevent.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QVariantList>

#include <atomic>
#include <memory>
#include <optional>

namespace meterdesk {

class Workspace;

// Meter preview (docs/METERS.md, "SQL templates"): a billable metric written as a
// SQL query template, as Zenskar's are, with the placeholders
//   {{start_date}} {{end_date}}          the period bounds, µs since the epoch (UTC),
//                                        as the "timestamp" column stores them
//   {{start_date_iso}} {{end_date_iso}}  the same bounds as ISO-8601 UTC text
//   {{customer.external_id}}             the chosen customer_id
//   {{table}}                            the usage event's table, quoted
// Every placeholder but {{table}} becomes a BOUND parameter: no user value is ever
// spliced into the SQL text. {{table}} is our own quoted identifier.

// One saved template (table meter_queries). id 0: not saved (the default template).
struct SqlTemplate
{
    qint64 id = 0;
    QString slug;
    QString name;
    QString sql;
    qint64 createdAtUs = 0;
    qint64 updatedAtUs = 0;
};

// What the placeholders stand for in one run.
struct SqlTemplateParameters
{
    qint64 startUs = 0;   // inclusive
    qint64 endUs = 0;     // exclusive
    QString customerId;
};

// SQL ready to prepare, with one "?" per bound value, in order.
struct ExpandedSql
{
    QString sql;
    QVariantList binds;
    QStringList used;     // placeholder names in order of appearance (for messages)
};

struct SqlRunLimits
{
    int maxRows = 10000;   // rows read; the rest are not fetched (SqlRunResult::truncated)
    int timeoutMs = 30000; // SQLite: a progress handler interrupts; PostgreSQL: statement_timeout
};

struct SqlRunResult
{
    QStringList columns;
    QList<QVariantList> rows;
    bool truncated = false; // there were more than maxRows rows
    qint64 elapsedMs = 0;
    QString error;          // empty: it ran. The database's own words, or ours (refused).
    bool refused = false;   // refused before the database saw it (a write, two statements, …)
};

namespace SqlTemplates {

// "start_date", "end_date", "start_date_iso", "end_date_iso", "customer.external_id", "table".
QStringList placeholderNames();

// A small SQL tokenizer: enough to know what is code and what is text, so that
// placeholders and semicolons inside string literals, quoted identifiers, comments
// and PostgreSQL dollar-quoted strings are left alone.
enum class TokenKind { Code, String, Identifier, Comment, Placeholder, Semicolon };
struct Token
{
    TokenKind kind = TokenKind::Code;
    qsizetype start = 0;
    qsizetype length = 0;
};
QList<Token> tokenize(QStringView sql);

// Replaces the placeholders (binding their values) and drops a final ";" and what
// follows it. Fails (*error) on an unknown placeholder (naming every one), an
// unclosed "{{", a period whose end is not after its start, or a customer
// placeholder with no customer chosen. Does not judge the statement (see check()).
std::optional<ExpandedSql> expand(QStringView sql, const UsageEventDefinition &definition,
                                  const SqlTemplateParameters &parameters, QString *error);

// Why this template may not run here, or empty: nothing to run, more than one
// statement, or a statement that is not SELECT / WITH / VALUES ("Read-only: …").
// A first fence only: the read-only connection and transaction are the real ones.
QString check(QStringView sql);

// The template every usage event starts with: "Daily SUM per customer" of its first
// numeric field (integer, float, decimal) in UTC days, or a daily COUNT when it has none.
SqlTemplate defaultTemplate(const UsageEventDefinition &definition, SqlDialect::Kind dialect);

} // namespace SqlTemplates

// The saved templates of usage events, in meter_queries. Names are unique per usage
// event (compared without case). Synchronous; on the thread of `workspace`.
class SqlTemplateStore
{
public:
    explicit SqlTemplateStore(Workspace &workspace) : m_workspace(workspace) {}

    // By name. Empty with *error set when the query fails.
    std::optional<QList<SqlTemplate>> list(const QString &slug, QString *error);
    std::optional<SqlTemplate> create(const QString &slug, const QString &name, const QString &sql, QString *error);
    bool update(qint64 id, const QString &sql, QString *error);
    bool rename(qint64 id, const QString &name, QString *error);
    bool remove(qint64 id, QString *error);

private:
    std::optional<SqlTemplate> byId(qint64 id);
    QString nameProblem(const QString &slug, const QString &name, qint64 exceptId, QString *error);

    Workspace &m_workspace;
};

// Runs templates read-only, on one thread (its own connection, opened there).
// SQLite: a separate connection opened with QSQLITE_OPEN_READONLY and PRAGMA
// query_only=ON; statements SQLite itself reports as writing are refused before
// they run; a progress handler on the driver's sqlite3 handle enforces the time
// limit and the cancel flag. PostgreSQL: BEGIN READ ONLY, SET LOCAL
// statement_timeout, the query, ROLLBACK — always; the cancel flag makes a second,
// short-lived connection ask the server to stop the statement (pg_cancel_backend).
class SqlTemplateRunner
{
public:
    static std::unique_ptr<SqlTemplateRunner> open(const QString &location, QString *error);
    ~SqlTemplateRunner();
    SqlTemplateRunner(const SqlTemplateRunner &) = delete;
    SqlTemplateRunner &operator=(const SqlTemplateRunner &) = delete;

    SqlDialect::Kind dialect() const { return m_kind; }

    // `cancel` turning true stops the query soon after ("Cancelled."), on SQLite
    // between steps, on PostgreSQL on the server.
    SqlRunResult run(const UsageEventDefinition &definition, const QString &templateSql,
                     const SqlTemplateParameters &parameters, const SqlRunLimits &limits = {},
                     const std::atomic_bool *cancel = nullptr);

    // The distinct customer_ids in the usage event's table (at most `limit`), sorted.
    QStringList customers(const UsageEventDefinition &definition, int limit, QString *error);

private:
    SqlTemplateRunner(SqlDialect::Kind kind, QString connectionName);
    SqlRunResult runSqlite(const ExpandedSql &expanded, const SqlRunLimits &limits, const std::atomic_bool *cancel);
    SqlRunResult runPostgres(const ExpandedSql &expanded, const SqlRunLimits &limits, const std::atomic_bool *cancel);

    SqlDialect::Kind m_kind;
    QString m_connectionName;             // SQLite: our read-only connection
    std::unique_ptr<Workspace> m_workspace; // PostgreSQL: a connection of our own
};

} // namespace meterdesk
