#include "sqltemplate.h"

#include "timestamp.h"
#include "workspace.h"

#include <QAtomicInteger>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>

#include <sqlite3.h>

#include <chrono>
#include <thread>

namespace meterdesk {

namespace {

const QString kTable = QStringLiteral("table");
const QString kStart = QStringLiteral("start_date");
const QString kEnd = QStringLiteral("end_date");
const QString kStartIso = QStringLiteral("start_date_iso");
const QString kEndIso = QStringLiteral("end_date_iso");
const QString kCustomer = QStringLiteral("customer.external_id");

bool isWordChar(QChar c)
{
    return c.isLetterOrNumber() || c == u'_';
}

int lineOf(QStringView sql, qsizetype pos)
{
    return int(sql.left(pos).count(u'\n')) + 1;
}

// The text of a database error as the database gave it.
QString databaseWords(const QSqlError &e)
{
    const QString db = e.databaseText().trimmed();
    return db.isEmpty() ? e.text().trimmed() : db;
}

} // namespace

namespace SqlTemplates {

QStringList placeholderNames()
{
    return {kStart, kEnd, kStartIso, kEndIso, kCustomer, kTable};
}

QList<Token> tokenize(QStringView s)
{
    QList<Token> tokens;
    const qsizetype n = s.size();
    qsizetype i = 0;
    qsizetype codeStart = -1;
    auto flushCode = [&](qsizetype end) {
        if (codeStart >= 0 && end > codeStart)
            tokens.append({TokenKind::Code, codeStart, end - codeStart});
        codeStart = -1;
    };
    auto push = [&](TokenKind kind, qsizetype start, qsizetype end) {
        flushCode(start);
        tokens.append({kind, start, end - start});
        i = end;
    };
    // End of a quoted run opened at `from` by `quote`, a doubled quote escaping it.
    auto quotedEnd = [&](qsizetype from, QChar quote, bool backslashEscapes) {
        qsizetype j = from + 1;
        while (j < n) {
            if (backslashEscapes && s[j] == u'\\') {
                j += 2;
                continue;
            }
            if (s[j] == quote) {
                if (j + 1 < n && s[j + 1] == quote) {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            ++j;
        }
        return n; // unterminated: the database will say so
    };
    while (i < n) {
        const QChar c = s[i];
        const QChar next = i + 1 < n ? s[i + 1] : QChar();
        const bool wordBefore = i > 0 && isWordChar(s[i - 1]);
        if (c == u'\'') {
            push(TokenKind::String, i, quotedEnd(i, u'\'', false));
        } else if ((c == u'E' || c == u'e') && next == u'\'' && !wordBefore) {
            push(TokenKind::String, i, quotedEnd(i + 1, u'\'', true)); // PostgreSQL E'…\'…'
        } else if (c == u'"' || c == u'`') {
            push(TokenKind::Identifier, i, quotedEnd(i, c, false));
        } else if (c == u'-' && next == u'-') {
            const qsizetype eol = s.indexOf(u'\n', i);
            push(TokenKind::Comment, i, eol < 0 ? n : eol);
        } else if (c == u'/' && next == u'*') {
            const qsizetype close = s.indexOf(QStringView(u"*/"), i + 2);
            push(TokenKind::Comment, i, close < 0 ? n : close + 2);
        } else if (c == u'$' && !wordBefore && (next == u'$' || next.isLetter() || next == u'_')) {
            // PostgreSQL dollar quoting: $tag$ … $tag$ ($1 is a parameter, not a tag).
            qsizetype j = i + 1;
            while (j < n && isWordChar(s[j]))
                ++j;
            if (j < n && s[j] == u'$') {
                const QStringView tag = s.mid(i, j - i + 1);
                const qsizetype close = s.indexOf(tag, j + 1);
                push(TokenKind::String, i, close < 0 ? n : close + tag.size());
            } else {
                if (codeStart < 0)
                    codeStart = i;
                ++i;
            }
        } else if (c == u'{' && next == u'{') {
            const qsizetype close = s.indexOf(QStringView(u"}}"), i + 2);
            const qsizetype eol = s.indexOf(u'\n', i);
            const bool closed = close >= 0 && (eol < 0 || close < eol);
            push(TokenKind::Placeholder, i, closed ? close + 2 : (eol < 0 ? n : eol));
        } else if (c == u';') {
            push(TokenKind::Semicolon, i, i + 1);
        } else {
            if (codeStart < 0)
                codeStart = i;
            ++i;
        }
    }
    flushCode(n);
    return tokens;
}

QString check(QStringView sql)
{
    const QList<Token> tokens = tokenize(sql);
    auto meaningful = [&](const Token &t) {
        return t.kind != TokenKind::Comment && t.kind != TokenKind::Semicolon
            && !sql.mid(t.start, t.length).trimmed().isEmpty();
    };
    const Token *first = nullptr;
    qsizetype semicolon = -1;
    for (const Token &t : tokens) {
        if (t.kind == TokenKind::Semicolon) {
            if (semicolon < 0)
                semicolon = t.start;
            continue;
        }
        if (!meaningful(t))
            continue;
        if (semicolon >= 0)
            return QStringLiteral("One statement at a time: there is more after the “;” on line %1.")
                .arg(lineOf(sql, semicolon));
        if (!first)
            first = &t;
    }
    if (!first)
        return QStringLiteral("Nothing to run: write a SELECT query.");
    QString keyword;
    if (first->kind == TokenKind::Code) {
        const QStringView code = sql.mid(first->start, first->length);
        qsizetype j = 0;
        while (j < code.size() && (code[j].isSpace() || code[j] == u'('))
            ++j;
        const qsizetype from = j;
        while (j < code.size() && isWordChar(code[j]))
            ++j;
        keyword = code.mid(from, j - from).toString().toUpper();
    }
    static const QStringList allowed{QStringLiteral("SELECT"), QStringLiteral("WITH"), QStringLiteral("VALUES")};
    if (allowed.contains(keyword))
        return {};
    static const QStringList writes{
        QStringLiteral("INSERT"), QStringLiteral("UPDATE"), QStringLiteral("DELETE"), QStringLiteral("REPLACE"),
        QStringLiteral("MERGE"), QStringLiteral("UPSERT"), QStringLiteral("DROP"), QStringLiteral("CREATE"),
        QStringLiteral("ALTER"), QStringLiteral("TRUNCATE"), QStringLiteral("ATTACH"), QStringLiteral("DETACH"),
        QStringLiteral("PRAGMA"), QStringLiteral("VACUUM"), QStringLiteral("REINDEX"), QStringLiteral("ANALYZE"),
        QStringLiteral("GRANT"), QStringLiteral("REVOKE"), QStringLiteral("COPY"), QStringLiteral("BEGIN"),
        QStringLiteral("COMMIT"), QStringLiteral("END"), QStringLiteral("ROLLBACK"), QStringLiteral("SAVEPOINT"),
        QStringLiteral("RELEASE"), QStringLiteral("SET"), QStringLiteral("RESET"), QStringLiteral("LOCK"),
        QStringLiteral("CALL"), QStringLiteral("DO"), QStringLiteral("COMMENT"), QStringLiteral("REFRESH"),
        QStringLiteral("CLUSTER"), QStringLiteral("DISCARD"), QStringLiteral("NOTIFY"), QStringLiteral("LISTEN"),
        QStringLiteral("IMPORT"), QStringLiteral("LOAD"), QStringLiteral("PREPARE"), QStringLiteral("EXECUTE")};
    if (writes.contains(keyword))
        return QStringLiteral("Read-only: this query would write (%1). Only SELECT, WITH … SELECT and VALUES "
                              "queries run here.").arg(keyword);
    const QString shown = keyword.isEmpty() ? sql.mid(first->start, first->length).trimmed().left(20).toString() : keyword;
    return QStringLiteral("Only SELECT, WITH … SELECT and VALUES queries run here (this one starts with “%1”).")
        .arg(shown);
}

std::optional<ExpandedSql> expand(QStringView sql, const UsageEventDefinition &definition,
                                  const SqlTemplateParameters &p, QString *error)
{
    ExpandedSql out;
    QStringList unknown;
    for (const Token &t : tokenize(sql)) {
        const QStringView text = sql.mid(t.start, t.length);
        if (t.kind == TokenKind::Semicolon)
            break; // check() allows nothing but blanks and comments after it
        if (t.kind == TokenKind::Comment) {
            // Comments stay out of what the database gets: Qt's PostgreSQL driver would
            // read a "?" or ":name" in one as a parameter. Their line breaks stay, so the
            // database's line numbers are still the user's.
            out.sql += u' ' + QString(text.count(u'\n'), u'\n');
            continue;
        }
        if (t.kind != TokenKind::Placeholder) {
            out.sql += text;
            continue;
        }
        if (!text.endsWith(QStringView(u"}}"))) {
            *error = QStringLiteral("The “{{” on line %1 is not closed with “}}”.").arg(lineOf(sql, t.start));
            return std::nullopt;
        }
        const QString name = text.mid(2, text.size() - 4).trimmed().toString();
        // Casts give PostgreSQL a type for every parameter, wherever it stands; SQLite reads them too.
        if (name == kTable) {
            out.sql += SqlDialect::quote(definition.tableName());
        } else if (name == kStart || name == kEnd) {
            out.sql += QStringLiteral("CAST(? AS BIGINT)");
            out.binds.append(name == kStart ? p.startUs : p.endUs);
        } else if (name == kStartIso || name == kEndIso) {
            out.sql += QStringLiteral("CAST(? AS TEXT)");
            out.binds.append(Timestamp::toIso(name == kStartIso ? p.startUs : p.endUs));
        } else if (name == kCustomer) {
            out.sql += QStringLiteral("CAST(? AS TEXT)");
            out.binds.append(p.customerId);
        } else {
            const QString shown = QStringLiteral("{{%1}}").arg(name);
            if (!unknown.contains(shown))
                unknown.append(shown);
            continue;
        }
        if (!out.used.contains(name))
            out.used.append(name);
    }
    if (!unknown.isEmpty()) {
        QStringList known;
        for (const QString &k : placeholderNames())
            known.append(QStringLiteral("{{%1}}").arg(k));
        *error = QStringLiteral("Unknown placeholder%1 %2: the known ones are %3.")
                     .arg(unknown.size() > 1 ? QStringLiteral("s") : QString(), unknown.join(QStringLiteral(", ")),
                          known.join(QStringLiteral(", ")));
        return std::nullopt;
    }
    const bool usesPeriod = out.used.contains(kStart) || out.used.contains(kEnd) || out.used.contains(kStartIso)
        || out.used.contains(kEndIso);
    if (usesPeriod && p.endUs <= p.startUs) {
        *error = QStringLiteral("The period ends before it starts: choose an end after %1.").arg(Timestamp::toIso(p.startUs));
        return std::nullopt;
    }
    if (out.used.contains(kCustomer) && p.customerId.isEmpty()) {
        *error = QStringLiteral("Choose a customer: the query uses {{customer.external_id}}.");
        return std::nullopt;
    }
    return out;
}

SqlTemplate defaultTemplate(const UsageEventDefinition &d, SqlDialect::Kind kind)
{
    const SchemaField *numeric = nullptr;
    for (const SchemaField &f : d.schema.fields) {
        if (f.type == FieldType::Integer || f.type == FieldType::Float || f.type == FieldType::Decimal) {
            numeric = &f;
            break;
        }
    }
    const SqlDialect dialect(kind);
    const QString day = kind == SqlDialect::Kind::SQLite
        ? QStringLiteral("date(\"timestamp\" / 1000000, 'unixepoch')")
        : QStringLiteral("to_char(TIMESTAMP '1970-01-01' + \"timestamp\" * INTERVAL '1 microsecond', 'YYYY-MM-DD')");
    QString measure;
    QString what;
    SqlTemplate t;
    t.slug = d.slug;
    if (numeric) {
        const QString column = SqlDialect::quote(numeric->columnName());
        // SQLite keeps decimals as exact text: sum them as numbers; PostgreSQL's NUMERIC sums exactly.
        const QString operand = numeric->type == FieldType::Decimal && kind == SqlDialect::Kind::SQLite
            ? dialect.decimalAsNumber(column) : column;
        measure = QStringLiteral("SUM(%1) AS %2").arg(operand, SqlDialect::quote(QStringLiteral("sum_") + numeric->path));
        what = QStringLiteral("SUM of %1").arg(numeric->path);
        t.name = QStringLiteral("Daily SUM per customer");
    } else {
        measure = QStringLiteral("COUNT(*) AS events");
        what = QStringLiteral("COUNT of events");
        t.name = QStringLiteral("Daily COUNT per customer");
    }
    t.sql = QStringLiteral(
                "-- Daily %1 per customer (UTC days) in the chosen period.\n"
                "-- Placeholders: {{start_date}} and {{end_date}} (µs since the epoch, like \"timestamp\"),\n"
                "-- {{start_date_iso}}, {{end_date_iso}}, {{customer.external_id}}, {{table}}.\n"
                "SELECT customer_id,\n"
                "       %2 AS day,\n"
                "       %3\n"
                "FROM {{table}}\n"
                "WHERE \"timestamp\" >= {{start_date}} AND \"timestamp\" < {{end_date}}\n"
                "  AND customer_id = {{customer.external_id}}\n"
                "GROUP BY 1, 2\n"
                "ORDER BY 1, 2\n")
                .arg(what, day, measure);
    return t;
}

} // namespace SqlTemplates

// ---- storage ------------------------------------------------------------------

namespace {
SqlTemplate templateFrom(const QSqlQuery &q)
{
    return {q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), q.value(3).toString(),
            q.value(4).toLongLong(), q.value(5).toLongLong()};
}
const QString kSelectTemplates = QStringLiteral("SELECT id, slug, name, sql_text, created_at, updated_at FROM meter_queries");
} // namespace

std::optional<QList<SqlTemplate>> SqlTemplateStore::list(const QString &slug, QString *error)
{
    QSqlQuery q(m_workspace.database());
    q.setForwardOnly(true);
    q.prepare(kSelectTemplates + QStringLiteral(" WHERE slug = ? ORDER BY lower(name), id"));
    q.addBindValue(slug.toLower());
    if (!q.exec()) {
        *error = databaseWords(q.lastError());
        return std::nullopt;
    }
    QList<SqlTemplate> out;
    while (q.next())
        out.append(templateFrom(q));
    return out;
}

std::optional<SqlTemplate> SqlTemplateStore::byId(qint64 id)
{
    QSqlQuery q(m_workspace.database());
    q.prepare(kSelectTemplates + QStringLiteral(" WHERE id = ?"));
    q.addBindValue(id);
    if (q.exec() && q.next())
        return templateFrom(q);
    return std::nullopt;
}

// Inside the write transaction: the name's problem (empty: free), or *error on a failed query.
QString SqlTemplateStore::nameProblem(const QString &slug, const QString &name, qint64 exceptId, QString *error)
{
    if (name.isEmpty())
        return QStringLiteral("Give the template a name.");
    if (name.size() > 200)
        return QStringLiteral("The name is longer than 200 characters.");
    QSqlQuery q(m_workspace.database());
    q.prepare(QStringLiteral("SELECT count(*) FROM meter_queries WHERE slug = ? AND lower(name) = lower(?) AND id <> ?"));
    q.addBindValue(slug.toLower());
    q.addBindValue(name);
    q.addBindValue(exceptId);
    if (!q.exec() || !q.next()) {
        *error = databaseWords(q.lastError());
        return *error;
    }
    if (q.value(0).toLongLong() > 0)
        return QStringLiteral("A template named “%1” already exists for this usage event.").arg(name);
    return {};
}

std::optional<SqlTemplate> SqlTemplateStore::create(const QString &slug, const QString &rawName, const QString &sql,
                                                    QString *error)
{
    const QString name = rawName.trimmed();
    QSqlQuery q(m_workspace.database());
    if (!m_workspace.beginWrite(error))
        return std::nullopt;
    const QString problem = nameProblem(slug, name, 0, error);
    if (!problem.isEmpty()) {
        *error = problem;
        m_workspace.rollback();
        return std::nullopt;
    }
    const qint64 now = Workspace::nowUs();
    q.prepare(QStringLiteral("INSERT INTO meter_queries (slug, name, sql_text, created_at, updated_at) "
                             "VALUES (?, ?, ?, ?, ?) RETURNING id"));
    q.addBindValue(slug.toLower());
    q.addBindValue(name);
    q.addBindValue(sql);
    q.addBindValue(now);
    q.addBindValue(now);
    if (!q.exec() || !q.next()) {
        *error = databaseWords(q.lastError());
        m_workspace.rollback();
        return std::nullopt;
    }
    const qint64 id = q.value(0).toLongLong();
    q.finish();
    if (!m_workspace.commit(error))
        return std::nullopt;
    return SqlTemplate{id, slug.toLower(), name, sql, now, now};
}

namespace {
// Runs a statement on one template row: false, with the reason, when it fails or the
// row is gone (another window removed it).
bool execOnTemplate(QSqlQuery &q, QString *error)
{
    if (!q.exec()) {
        *error = databaseWords(q.lastError());
        return false;
    }
    if (q.numRowsAffected() != 1) {
        *error = QStringLiteral("The template no longer exists.");
        return false;
    }
    return true;
}
} // namespace

bool SqlTemplateStore::update(qint64 id, const QString &sql, QString *error)
{
    QSqlQuery q(m_workspace.database());
    q.prepare(QStringLiteral("UPDATE meter_queries SET sql_text = ?, updated_at = ? WHERE id = ?"));
    q.addBindValue(sql);
    q.addBindValue(Workspace::nowUs());
    q.addBindValue(id);
    return execOnTemplate(q, error);
}

bool SqlTemplateStore::rename(qint64 id, const QString &rawName, QString *error)
{
    const QString name = rawName.trimmed();
    if (!m_workspace.beginWrite(error))
        return false;
    const auto current = byId(id);
    if (!current) {
        *error = QStringLiteral("The template no longer exists.");
        m_workspace.rollback();
        return false;
    }
    const QString problem = nameProblem(current->slug, name, id, error);
    if (!problem.isEmpty()) {
        *error = problem;
        m_workspace.rollback();
        return false;
    }
    QSqlQuery q(m_workspace.database());
    q.prepare(QStringLiteral("UPDATE meter_queries SET name = ?, updated_at = ? WHERE id = ?"));
    q.addBindValue(name);
    q.addBindValue(Workspace::nowUs());
    q.addBindValue(id);
    if (!q.exec()) {
        *error = databaseWords(q.lastError());
        m_workspace.rollback();
        return false;
    }
    return m_workspace.commit(error);
}

bool SqlTemplateStore::remove(qint64 id, QString *error)
{
    QSqlQuery q(m_workspace.database());
    q.prepare(QStringLiteral("DELETE FROM meter_queries WHERE id = ?"));
    q.addBindValue(id);
    return execOnTemplate(q, error);
}

// ---- read-only runs -----------------------------------------------------------

namespace {

QAtomicInteger<quint64> g_runnerCounter;

sqlite3 *sqliteHandle(const QSqlDatabase &db)
{
    const QVariant v = db.driver()->handle();
    if (v.isValid() && qstrcmp(v.typeName(), "sqlite3*") == 0)
        return *static_cast<sqlite3 *const *>(v.constData());
    return nullptr;
}

// The progress handler's state: SQLite calls it every few thousand VM steps.
struct Watchdog
{
    enum Reason { None, Timeout, Cancelled };
    QElapsedTimer timer;
    qint64 timeoutMs = 0;
    const std::atomic_bool *cancel = nullptr;
    Reason reason = None;

    static int check(void *self)
    {
        auto *w = static_cast<Watchdog *>(self);
        if (w->cancel && w->cancel->load())
            w->reason = Cancelled;
        else if (w->timeoutMs > 0 && w->timer.elapsed() > w->timeoutMs)
            w->reason = Timeout;
        return w->reason == None ? 0 : 1; // non-zero: sqlite3_step returns SQLITE_INTERRUPT
    }
};

void readRows(QSqlQuery &q, const SqlRunLimits &limits, SqlRunResult &r)
{
    const QSqlRecord rec = q.record();
    for (int i = 0; i < rec.count(); ++i)
        r.columns.append(rec.fieldName(i));
    while (q.next()) {
        if (r.rows.size() >= limits.maxRows) {
            r.truncated = true;
            break;
        }
        QVariantList row;
        row.reserve(rec.count());
        for (int i = 0; i < rec.count(); ++i)
            row.append(q.value(i));
        r.rows.append(std::move(row));
    }
    if (q.lastError().isValid())
        r.error = databaseWords(q.lastError());
}

// Asks a PostgreSQL server, over a connection of this thread's own, to stop what
// backend `pid` is running.
bool cancelBackend(const QString &location, qint64 pid)
{
    QString error;
    const std::unique_ptr<Workspace> ws = Workspace::open(location, &error);
    if (!ws)
        return false;
    QSqlQuery q(ws->database());
    q.prepare(QStringLiteral("SELECT pg_cancel_backend(?)"));
    q.addBindValue(pid);
    return q.exec() && q.next() && q.value(0).toBool();
}
} // namespace

SqlTemplateRunner::SqlTemplateRunner(SqlDialect::Kind kind, QString connectionName)
    : m_kind(kind), m_connectionName(std::move(connectionName))
{
}

SqlTemplateRunner::~SqlTemplateRunner()
{
    if (m_connectionName.isEmpty())
        return;
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

std::unique_ptr<SqlTemplateRunner> SqlTemplateRunner::open(const QString &location, QString *error)
{
    if (SqlDialect::isPostgresUrl(location)) {
        std::unique_ptr<SqlTemplateRunner> r(new SqlTemplateRunner(SqlDialect::Kind::PostgreSQL, QString()));
        r->m_workspace = Workspace::open(location, error);
        if (!r->m_workspace)
            return nullptr;
        return r;
    }
    const QFileInfo info(location);
    if (!info.isFile()) {
        *error = QStringLiteral("No workspace file at %1.").arg(location);
        return nullptr;
    }
    std::unique_ptr<SqlTemplateRunner> r(new SqlTemplateRunner(
        SqlDialect::Kind::SQLite, QStringLiteral("meterdesk-sql-%1").arg(g_runnerCounter.fetchAndAddRelaxed(1))));
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), r->m_connectionName);
    db.setDatabaseName(info.absoluteFilePath());
    // Read-only at the file level; query_only on top, so not even a temp table or a
    // PRAGMA that writes gets through.
    db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"));
    if (!db.open()) {
        *error = QStringLiteral("Cannot open %1 read-only: %2").arg(location, databaseWords(db.lastError()));
        return nullptr;
    }
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA query_only=ON"))) {
        *error = databaseWords(q.lastError());
        return nullptr;
    }
    if (!sqliteHandle(db)) {
        *error = QStringLiteral("The SQLite driver gave no handle: the time limit cannot be enforced.");
        return nullptr;
    }
    return r;
}

SqlRunResult SqlTemplateRunner::run(const UsageEventDefinition &definition, const QString &templateSql,
                                    const SqlTemplateParameters &parameters, const SqlRunLimits &limits,
                                    const std::atomic_bool *cancel)
{
    QElapsedTimer timer;
    timer.start();
    SqlRunResult r;
    r.error = SqlTemplates::check(templateSql);
    std::optional<ExpandedSql> expanded;
    if (r.error.isEmpty())
        expanded = SqlTemplates::expand(templateSql, definition, parameters, &r.error);
    if (!expanded) {
        r.refused = true;
        r.elapsedMs = timer.elapsed();
        return r;
    }
    r = m_kind == SqlDialect::Kind::SQLite ? runSqlite(*expanded, limits, cancel) : runPostgres(*expanded, limits, cancel);
    r.elapsedMs = timer.elapsed();
    if (!r.error.isEmpty()) {
        r.columns.clear();
        r.rows.clear();
        r.truncated = false;
    }
    return r;
}

SqlRunResult SqlTemplateRunner::runSqlite(const ExpandedSql &expanded, const SqlRunLimits &limits,
                                          const std::atomic_bool *cancel)
{
    SqlRunResult r;
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    sqlite3 *handle = sqliteHandle(db);
    // SQLite knows whether a compiled statement writes (WITH … DELETE passes the
    // keyword check): ask it before anything runs.
    {
        const QByteArray utf8 = expanded.sql.toUtf8();
        sqlite3_stmt *stmt = nullptr;
        const char *tail = nullptr;
        if (sqlite3_prepare_v2(handle, utf8.constData(), int(utf8.size()), &stmt, &tail) != SQLITE_OK) {
            r.error = QString::fromUtf8(sqlite3_errmsg(handle));
            return r;
        }
        const bool readOnly = stmt && sqlite3_stmt_readonly(stmt);
        const bool more = tail && !QByteArrayView(tail).trimmed().isEmpty();
        sqlite3_finalize(stmt);
        if (!stmt || more || !readOnly) {
            r.refused = true;
            r.error = !stmt ? QStringLiteral("Nothing to run: write a SELECT query.")
                : more      ? QStringLiteral("One statement at a time.")
                            : QStringLiteral("Read-only: this query would write.");
            return r;
        }
    }
    Watchdog watchdog;
    watchdog.timer.start();
    watchdog.timeoutMs = limits.timeoutMs;
    watchdog.cancel = cancel;
    sqlite3_progress_handler(handle, 1000, &Watchdog::check, &watchdog);
    {
        QSqlQuery q(db);
        q.setForwardOnly(true);
        if (!q.prepare(expanded.sql)) {
            r.error = databaseWords(q.lastError());
        } else {
            for (const QVariant &b : expanded.binds)
                q.addBindValue(b);
            if (q.exec())
                readRows(q, limits, r);
            else
                r.error = databaseWords(q.lastError());
        }
    }
    sqlite3_progress_handler(handle, 0, nullptr, nullptr);
    if (watchdog.reason == Watchdog::Timeout)
        r.error = QStringLiteral("Stopped: the query ran longer than the %1 s time limit.")
                      .arg(QString::number(limits.timeoutMs / 1000.0));
    else if (watchdog.reason == Watchdog::Cancelled)
        r.error = QStringLiteral("Cancelled.");
    return r;
}

SqlRunResult SqlTemplateRunner::runPostgres(const ExpandedSql &expanded, const SqlRunLimits &limits,
                                            const std::atomic_bool *cancel)
{
    SqlRunResult r;
    QSqlDatabase db = m_workspace->database();
    // Cancel: this connection's backend is told to stop by another connection
    // (pg_cancel_backend), opened only when the flag turns true.
    qint64 backend = 0;
    if (cancel) {
        QSqlQuery pid(db);
        if (pid.exec(QStringLiteral("SELECT pg_backend_pid()")) && pid.next())
            backend = pid.value(0).toLongLong();
    }
    std::atomic_bool finished = false;
    std::atomic_bool cancelSent = false;
    std::thread watcher;
    if (backend > 0) {
        watcher = std::thread([&, location = m_workspace->location()] {
            while (!finished.load()) {
                if (cancel->load()) {
                    cancelSent = cancelBackend(location, backend);
                    return;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
    }
    // Joined before the ROLLBACK: a cancel is never in flight while it runs (a
    // backend waiting for its next command ignores one).
    auto stopWatching = [&] {
        finished = true;
        if (watcher.joinable())
            watcher.join();
    };
    QSqlQuery tx(db);
    if (!tx.exec(QStringLiteral("BEGIN READ ONLY"))
        || !tx.exec(QStringLiteral("SET LOCAL statement_timeout = %1").arg(std::max(1, limits.timeoutMs)))) {
        r.error = databaseWords(tx.lastError());
        stopWatching();
        QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
        return r;
    }
    // The row limit in the query itself: QPSQL would otherwise fetch the whole result.
    // The query starts on the first line (the database's line numbers stay the user's);
    // the newline after it keeps a final line comment from swallowing the parenthesis.
    QSqlQuery q(db);
    q.setForwardOnly(true);
    if (!q.prepare(QStringLiteral("SELECT * FROM (%1\n) AS mdk_preview LIMIT %2").arg(expanded.sql).arg(limits.maxRows + 1))) {
        r.error = databaseWords(q.lastError());
    } else {
        for (const QVariant &b : expanded.binds)
            q.addBindValue(b);
        if (q.exec())
            readRows(q, limits, r);
        else
            r.error = databaseWords(q.lastError());
    }
    q.finish();
    stopWatching();
    if (cancelSent && !r.error.isEmpty())
        r.error = QStringLiteral("Cancelled.");
    QSqlQuery(db).exec(QStringLiteral("ROLLBACK")); // always: nothing a preview did survives
    return r;
}

QStringList SqlTemplateRunner::customers(const UsageEventDefinition &d, int limit, QString *error)
{
    QSqlDatabase db = m_kind == SqlDialect::Kind::SQLite ? QSqlDatabase::database(m_connectionName, false)
                                                         : m_workspace->database();
    QSqlQuery q(db);
    q.setForwardOnly(true);
    QStringList out;
    if (!q.exec(QStringLiteral("SELECT DISTINCT customer_id FROM %1 ORDER BY customer_id LIMIT %2")
                    .arg(SqlDialect::quote(d.tableName())).arg(limit))) {
        *error = databaseWords(q.lastError());
        return out;
    }
    while (q.next())
        out.append(q.value(0).toString());
    return out;
}

} // namespace meterdesk
