#include "workspace.h"

#include "monthpartitions.h"

#include "slug.h"

#include <QAtomicInteger>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QMutex>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QStandardPaths>
#include <QUrl>
#include <QUuid>

Q_LOGGING_CATEGORY(lcStorage, "meterdesk.storage")

namespace meterdesk {

namespace {
QAtomicInteger<quint64> g_connectionCounter;

// SQLite files this process has open, with how many workspaces. Closing any descriptor
// of a file ends every POSIX lock the process holds on it (fcntl semantics), SQLite's
// own included: with them gone, another program that opens and closes the file takes
// itself for the last user, checkpoints and deletes the WAL, and our writer goes on
// committing into the deleted file. So the file is opened outside SQLite (the header
// check below) only while no connection of this process has it open.
QMutex g_openFilesMutex;
QHash<QString, int> g_openFiles;

QString nextConnectionName()
{
    return QStringLiteral("meterdesk-%1").arg(g_connectionCounter.fetchAndAddRelaxed(1));
}
} // namespace

qint64 Workspace::nowUs()
{
    return QDateTime::currentMSecsSinceEpoch() * 1000;
}

namespace {
bool run(const QSqlDatabase &db, const QString &sql, QString *error, QString *sqlState)
{
    QSqlQuery q(db);
    if (q.exec(sql))
        return true;
    *error = q.lastError().text();
    if (sqlState)
        *sqlState = q.lastError().nativeErrorCode();
    return false;
}
} // namespace

bool Workspace::beginWrite(QString *error, QString *sqlState)
{
    return run(database(), m_dialect.beginWrite(), error, sqlState);
}

bool Workspace::commit(QString *error, QString *sqlState)
{
    return run(database(), QStringLiteral("COMMIT"), error, sqlState);
}

void Workspace::rollback()
{
    QSqlQuery(database()).exec(QStringLiteral("ROLLBACK"));
}

bool Workspace::isReachable()
{
    return QSqlQuery(database()).exec(QStringLiteral("SELECT 1"));
}

bool Workspace::canTakeWriteLock(int waitMs, QString *error)
{
    if (m_dialect.kind() != SqlDialect::Kind::SQLite)
        return true;
    exec(QStringLiteral("PRAGMA busy_timeout=%1").arg(waitMs));
    const bool taken = run(database(), m_dialect.beginWrite(), error, nullptr);
    if (taken)
        rollback();
    exec(QStringLiteral("PRAGMA busy_timeout=10000")); // QSQLITE_BUSY_TIMEOUT of open()
    return taken;
}

void Workspace::tuneForBulkWrites()
{
    if (m_dialect.kind() == SqlDialect::Kind::SQLite) {
        exec(QStringLiteral("PRAGMA cache_size=-16384")); // KiB: 16 MiB, bounded: RSS stays flat under load
        // Checkpoint every 10,000 WAL pages (~40 MiB), not SQLite's 1,000: under load each
        // event dirties a page of its customer's index, so a commit writes ~1 page per
        // event to the WAL; the same pages are rewritten commit after commit, and a
        // checkpoint copies each distinct page once. Ten times fewer checkpoints copy far
        // fewer pages (bench/ingest: +13 % single events). Readers are unaffected; the WAL
        // file may grow to ~40 MiB between checkpoints (docs/PERFORMANCE.md).
        exec(QStringLiteral("PRAGMA wal_autocheckpoint=10000"));
    }
}

QString Workspace::defaultLocation()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/workspace.db");
}

Workspace::Workspace(QString connectionName, QString location, SqlDialect dialect)
    : m_connectionName(std::move(connectionName)), m_location(std::move(location)), m_dialect(dialect)
{
}

Workspace::~Workspace()
{
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
    if (!m_openFile.isEmpty()) {
        QMutexLocker lock(&g_openFilesMutex);
        if (--g_openFiles[m_openFile] <= 0)
            g_openFiles.remove(m_openFile);
    }
}

QSqlDatabase Workspace::database() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

bool Workspace::exec(const QString &sql, QString *error) const
{
    QSqlQuery q(database());
    if (q.exec(sql))
        return true;
    if (error)
        *error = q.lastError().text();
    qCWarning(lcStorage) << "SQL failed:" << sql.left(200) << q.lastError().text();
    return false;
}

namespace {
// A SQLite file cut short (a copy that stopped, a full disk while copying): its
// header counts more pages than the file holds. SQLite itself would open it and
// fail only on the missing pages, perhaps after writing to it. Empty: not truncated.
QString truncatedFile(const QString &path)
{
    // A crash during a checkpoint may leave page 1 written and the file not yet grown;
    // the WAL beside it completes the file when SQLite opens it: not ours to judge.
    if (QFileInfo(path + QStringLiteral("-wal")).size() > 0)
        return {};
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QByteArray h = file.read(100);
    if (h.size() < 100 || !h.startsWith(QByteArrayView("SQLite format 3\0", 16)))
        return {};
    const auto be32 = [&h](int at) {
        return (quint32(uchar(h[at])) << 24) | (quint32(uchar(h[at + 1])) << 16) | (quint32(uchar(h[at + 2])) << 8)
            | quint32(uchar(h[at + 3]));
    };
    const quint32 rawPageSize = (quint32(uchar(h[16])) << 8) | quint32(uchar(h[17]));
    const qint64 pageSize = rawPageSize == 1 ? 65536 : rawPageSize;
    if (pageSize < 512 || (pageSize & (pageSize - 1)) != 0)
        return {}; // not a valid header: SQLite refuses it on its own
    const quint32 pages = be32(28);
    // The page count is trusted only when its "valid for" number matches the change counter.
    if (pages == 0 || be32(92) != be32(24))
        return {};
    if (qint64(pages) * pageSize <= file.size())
        return {};
    return QStringLiteral("its header counts %1 pages of %2 bytes, the file holds %3 bytes (truncated?)")
        .arg(pages).arg(pageSize).arg(file.size());
}
} // namespace

std::unique_ptr<Workspace> Workspace::open(const QString &location, QString *error)
{
    if (SqlDialect::isPostgresUrl(location))
        return openPostgres(location, error);
    const QFileInfo info(location);
    if (!QDir().mkpath(info.absolutePath())) {
        *error = QStringLiteral("Cannot create the folder %1.").arg(info.absolutePath());
        return nullptr;
    }
    if (info.exists() && !info.isFile()) {
        *error = QStringLiteral("%1 is not a file.").arg(location);
        return nullptr;
    }
    const QString file = QFileInfo(info.absolutePath()).canonicalFilePath() + u'/' + info.fileName();
    {
        QMutexLocker lock(&g_openFilesMutex);
        if (g_openFiles.value(file) == 0) {
            if (const QString why = truncatedFile(info.absoluteFilePath()); !why.isEmpty()) {
                *error = QStringLiteral("%1 is damaged: %2; it was left untouched.").arg(location, why);
                return nullptr;
            }
        }
        ++g_openFiles[file];
    }
    std::unique_ptr<Workspace> ws(new Workspace(nextConnectionName(), info.absoluteFilePath(),
                                                SqlDialect(SqlDialect::Kind::SQLite)));
    ws->m_openFile = file; // from here on the destructor gives the count back
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(ws->m_dialect.driverName(), ws->m_connectionName);
        db.setDatabaseName(ws->m_location);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
        if (!db.open()) {
            *error = QStringLiteral("Cannot open %1: %2").arg(location, db.lastError().text());
            return nullptr;
        }
    }
    QString why;
    // A corrupt or foreign file fails here, before anything is written to it.
    QSqlQuery probe(ws->database());
    if (!probe.exec(QStringLiteral("SELECT count(*) FROM sqlite_master")) || !probe.next()) {
        if (probe.lastError().nativeErrorCode() == QLatin1String("5")) { // SQLITE_BUSY, after the 10 s busy timeout
            *error = QStringLiteral("%1 is locked by another process (%2); it was left untouched.")
                         .arg(location, probe.lastError().text());
            return nullptr;
        }
        *error = QStringLiteral("%1 is not a usable Meterdesk workspace (%2); it was left untouched.")
                     .arg(location, probe.lastError().text());
        return nullptr;
    }
    const bool empty = probe.value(0).toLongLong() == 0;
    probe.finish();
    // Another application's database: never add our tables (or WAL mode) to it.
    if (!empty) {
        QSqlQuery ours(ws->database());
        if (!ours.exec(QStringLiteral("SELECT value FROM meta WHERE key = 'schema_version'")) || !ours.next()) {
            *error = QStringLiteral("%1 is a database of another application, not a Meterdesk workspace; "
                                    "it was left untouched.").arg(location);
            return nullptr;
        }
    }
    // WAL lets readers read while the writer writes; FULL makes every commit durable
    // before the endpoint acknowledges (group commit keeps that affordable).
    if (!ws->exec(QStringLiteral("PRAGMA journal_mode=WAL"), &why)
        || !ws->exec(QStringLiteral("PRAGMA synchronous=FULL"), &why)
        || !ws->exec(QStringLiteral("PRAGMA foreign_keys=ON"), &why)) {
        *error = QStringLiteral("Cannot prepare %1: %2").arg(location, why);
        return nullptr;
    }
    if (!ws->migrate(&why)) {
        *error = QStringLiteral("Cannot upgrade %1: %2").arg(location, why);
        return nullptr;
    }
    return ws;
}

std::unique_ptr<Workspace> Workspace::openPostgres(const QString &location, QString *error)
{
    const QString shown = SqlDialect::redacted(location);
    const QUrl url(location);
    const QString dbName = url.path().mid(1);
    if (!url.isValid() || url.host().isEmpty() || dbName.isEmpty() || dbName.contains(u'/')) {
        *error = QStringLiteral("%1 is not a PostgreSQL address: use postgresql://user[:password]@host[:port]/dbname.")
                     .arg(shown);
        return nullptr;
    }
    std::unique_ptr<Workspace> ws(new Workspace(nextConnectionName(), location,
                                                SqlDialect(SqlDialect::Kind::PostgreSQL)));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(ws->m_dialect.driverName(), ws->m_connectionName);
        if (!db.isValid()) {
            *error = QStringLiteral("Cannot open %1: Qt's PostgreSQL driver (QPSQL, Debian package libqt6sql6-psql) "
                                    "is not installed.").arg(shown);
            return nullptr;
        }
        db.setHostName(url.host());
        db.setPort(url.port(5432));
        db.setUserName(url.userName());
        db.setPassword(url.password());
        db.setDatabaseName(dbName);
        db.setConnectOptions(QStringLiteral("connect_timeout=10;application_name=meterdesk"));
        // numeric columns come back as their exact text, never through a double.
        db.setNumericalPrecisionPolicy(QSql::HighPrecision);
        if (!db.open()) {
            *error = QStringLiteral("Cannot open %1: %2").arg(shown, db.lastError().text().simplified());
            return nullptr;
        }
    }
    QSqlQuery probe(ws->database());
    if (!probe.exec(QStringLiteral("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"))
        || !probe.next()) {
        *error = QStringLiteral("%1 is not a usable Meterdesk workspace (%2); it was left untouched.")
                     .arg(shown, probe.lastError().text().simplified());
        return nullptr;
    }
    const bool empty = probe.value(0).toLongLong() == 0;
    probe.finish();
    if (!empty && !ws->tableColumns(QStringLiteral("meta")).contains(QStringLiteral("value"))) {
        *error = QStringLiteral("%1 is a database of another application, not a Meterdesk workspace; "
                                "it was left untouched.").arg(shown);
        return nullptr;
    }
    QString why;
    if (!ws->migrate(&why)) {
        *error = QStringLiteral("Cannot upgrade %1: %2").arg(shown, why.simplified());
        return nullptr;
    }
    return ws;
}

bool Workspace::migrate(QString *error)
{
    QSqlDatabase db = database();
    const QString big = m_dialect.bigint();
    const QString id = m_dialect.idColumn();
    // Version N's statements bring a database from N-1 to N. Never edit a released step.
    const QList<QStringList> steps = {
        {
            QStringLiteral("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
            QStringLiteral("CREATE TABLE definitions (%1, slug TEXT NOT NULL, slug_key TEXT NOT NULL UNIQUE, "
                           "name TEXT NOT NULL, schema_json TEXT NOT NULL, duplicate_policy TEXT NOT NULL, "
                           "created_at %2 NOT NULL, updated_at %2 NOT NULL)").arg(id, big),
            QStringLiteral("CREATE TABLE api_keys (%1, name TEXT NOT NULL, prefix TEXT NOT NULL, "
                           "key_hash TEXT NOT NULL UNIQUE, created_at %2 NOT NULL, last_used_at %2, "
                           "revoked_at %2)").arg(id, big),
            QStringLiteral("CREATE TABLE dead_letters (%1, received_at %2 NOT NULL, slug TEXT NOT NULL, "
                           "status INTEGER NOT NULL, problem TEXT NOT NULL, body TEXT NOT NULL, "
                           "headers TEXT NOT NULL)").arg(id, big),
            QStringLiteral("CREATE INDEX dead_letters_slug ON dead_letters (slug, id)"),
            QStringLiteral("CREATE TABLE audit_log (%1, at %2 NOT NULL, slug TEXT NOT NULL, row_id %2, "
                           "action TEXT NOT NULL, before_json TEXT, after_json TEXT, actor TEXT NOT NULL)").arg(id, big),
            QStringLiteral("CREATE INDEX audit_log_slug ON audit_log (slug, row_id)"),
        },
        {
            // Meter preview (docs/METERS.md): saved SQL templates and usage alerts per usage event.
            QStringLiteral("CREATE TABLE meter_queries (%1, slug TEXT NOT NULL, name TEXT NOT NULL, "
                           "sql_text TEXT NOT NULL, created_at %2 NOT NULL, updated_at %2 NOT NULL)").arg(id, big),
            QStringLiteral("CREATE INDEX meter_queries_slug ON meter_queries (slug, id)"),
            QStringLiteral("CREATE TABLE alerts (%1, slug TEXT NOT NULL, name TEXT NOT NULL, field TEXT NOT NULL, "
                           "fn TEXT NOT NULL, window_kind TEXT NOT NULL, tz TEXT NOT NULL, comparison TEXT NOT NULL, "
                           "threshold TEXT NOT NULL, webhook_url TEXT NOT NULL, enabled INTEGER NOT NULL, "
                           "last_row_id %2 NOT NULL, created_at %2 NOT NULL)").arg(id, big),
            QStringLiteral("CREATE INDEX alerts_slug ON alerts (slug, id)"),
            QStringLiteral("CREATE TABLE alert_firings (%1, alert_id %2 NOT NULL, customer_id TEXT NOT NULL, "
                           "window_start %2 NOT NULL, value TEXT NOT NULL, fired_at %2 NOT NULL, "
                           "webhook_status INTEGER, UNIQUE (alert_id, customer_id, window_start))").arg(id, big),
        },
    };

    // Up to date (the usual case): no write transaction. Opening a SQLite workspace then
    // needs no write lock, so another process holding it is told apart from a failed
    // upgrade (headless says so and waits: app/headless.cpp).
    if (m_dialect.kind() == SqlDialect::Kind::SQLite && !tableColumns(QStringLiteral("meta")).isEmpty()) {
        QSqlQuery q(db);
        QString version;
        QString organisation;
        if (q.exec(QStringLiteral("SELECT key, value FROM meta WHERE key IN ('schema_version', 'organisation')")))
            while (q.next())
                (q.value(0).toString() == QLatin1String("organisation") ? organisation : version) = q.value(1).toString();
        if (version == QString::number(SchemaVersion) && !organisation.isEmpty()) {
            m_organisation = organisation;
            return true;
        }
    }
    if (!exec(m_dialect.beginWrite(), error))
        return false;
    if (!m_dialect.lockSchema().isEmpty() && !exec(m_dialect.lockSchema(), error)) {
        exec(QStringLiteral("ROLLBACK"));
        return false;
    }
    int version = 0;
    {
        QSqlQuery q(db);
        if (tableColumns(QStringLiteral("meta")).isEmpty()) {
            version = 0;
        } else if (q.exec(QStringLiteral("SELECT value FROM meta WHERE key = 'schema_version'")) && q.next()) {
            version = q.value(0).toInt();
        }
    }
    if (version > SchemaVersion) {
        exec(QStringLiteral("ROLLBACK"));
        *error = QStringLiteral("it was written by a newer Meterdesk (schema %1; this one knows %2)")
                     .arg(version).arg(SchemaVersion);
        return false;
    }
    for (int v = version; v < SchemaVersion; ++v) {
        for (const QString &sql : steps[v]) {
            if (!exec(sql, error)) {
                exec(QStringLiteral("ROLLBACK"));
                return false;
            }
        }
        QSqlQuery q(db);
        q.prepare(v == 0 ? QStringLiteral("INSERT INTO meta (key, value) VALUES ('schema_version', ?)")
                         : QStringLiteral("UPDATE meta SET value = ? WHERE key = 'schema_version'"));
        q.addBindValue(QString::number(v + 1));
        if (!q.exec()) {
            *error = q.lastError().text();
            exec(QStringLiteral("ROLLBACK"));
            return false;
        }
    }
    {
        QSqlQuery q(db);
        if (q.exec(QStringLiteral("SELECT value FROM meta WHERE key = 'organisation'")) && q.next()) {
            m_organisation = q.value(0).toString();
        } else {
            m_organisation = QUuid::createUuid().toString(QUuid::WithoutBraces);
            QSqlQuery ins(db);
            ins.prepare(QStringLiteral("INSERT INTO meta (key, value) VALUES ('organisation', ?)"));
            ins.addBindValue(m_organisation);
            if (!ins.exec()) {
                *error = ins.lastError().text();
                exec(QStringLiteral("ROLLBACK"));
                return false;
            }
        }
    }
    return exec(QStringLiteral("COMMIT"), error);
}

QStringList Workspace::tableColumns(const QString &table) const
{
    QStringList columns;
    // Quoted, so that PostgreSQL's driver neither folds its case nor splits it at a dot.
    const QSqlRecord rec = database().record(m_dialect.kind() == SqlDialect::Kind::SQLite ? table : SqlDialect::quote(table));
    for (int i = 0; i < rec.count(); ++i)
        columns.append(rec.fieldName(i));
    return columns;
}

namespace {
UsageEventDefinition definitionFrom(const QSqlQuery &q)
{
    UsageEventDefinition d;
    d.id = q.value(0).toLongLong();
    d.slug = q.value(1).toString();
    d.name = q.value(2).toString();
    const QJsonObject schema = QJsonDocument::fromJson(q.value(3).toString().toUtf8()).object();
    d.schema = DataSchema::fromJsonSchema(schema, nullptr).value_or(DataSchema{});
    // JSON objects are unordered; the stored order is the user's.
    const QStringList order = schema.value(u"x-meterdesk-order").toVariant().toStringList();
    std::stable_sort(d.schema.fields.begin(), d.schema.fields.end(), [&order](const SchemaField &a, const SchemaField &b) {
        return order.indexOf(a.path) < order.indexOf(b.path);
    });
    d.policy = UsageEventDefinition::policyFromName(q.value(4).toString());
    d.createdAtUs = q.value(5).toLongLong();
    return d;
}
const QString kSelectDefinitions = QStringLiteral(
    "SELECT id, slug, name, schema_json, duplicate_policy, created_at FROM definitions");

QString schemaJson(const DataSchema &schema)
{
    // Field order matters to the user and JSON Schema objects are unordered: keep it.
    QJsonObject o = schema.toJsonSchema();
    QJsonArray order;
    for (const SchemaField &f : schema.fields)
        order.append(f.path);
    o[u"x-meterdesk-order"] = order;
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}
} // namespace

QList<UsageEventDefinition> Workspace::definitions(bool *ok) const
{
    QList<UsageEventDefinition> list;
    QSqlQuery q(database());
    q.setForwardOnly(true);
    const bool done = q.exec(kSelectDefinitions + QStringLiteral(" ORDER BY id"));
    if (ok)
        *ok = done;
    if (!done) {
        qCWarning(lcStorage) << "listing definitions failed:" << q.lastError().text();
        return list;
    }
    while (q.next())
        list.append(definitionFrom(q));
    return list;
}

std::optional<UsageEventDefinition> Workspace::definition(const QString &slug) const
{
    QSqlQuery q(database());
    q.prepare(kSelectDefinitions + QStringLiteral(" WHERE slug_key = ?"));
    q.addBindValue(slug.toLower());
    if (q.exec() && q.next())
        return definitionFrom(q);
    return std::nullopt;
}

bool Workspace::createTable(const UsageEventDefinition &d, QString *error)
{
    const QString table = SqlDialect::quote(d.tableName());
    const QString big = m_dialect.bigint();
    const bool partitioned = m_dialect.kind() == SqlDialect::Kind::PostgreSQL;
    // Partitioned by month on PostgreSQL (MonthPartitions): its primary key must hold
    // the partition key, so it is (id, "timestamp") there.
    // customer_id compares byte by byte on both (SQLite's BINARY, PostgreSQL's "C"): an
    // identifier, not words; and the unique index every insert probes then costs a memcmp
    // per comparison instead of the database locale's strcoll.
    QString columns = (partitioned ? QStringLiteral("id BIGINT GENERATED BY DEFAULT AS IDENTITY") : m_dialect.idColumn())
        + QStringLiteral(", customer_id TEXT%1 NOT NULL, \"timestamp\" %2 NOT NULL")
              .arg(partitioned ? QStringLiteral(" COLLATE \"C\"") : QString(), big);
    for (const SchemaField &f : d.schema.fields)
        columns += QStringLiteral(", %1 %2").arg(SqlDialect::quote(f.columnName()), m_dialect.columnType(f.type));
    columns += QStringLiteral(", data TEXT NOT NULL, received_at %1 NOT NULL, source TEXT NOT NULL, "
                              "edited INTEGER NOT NULL DEFAULT 0, UNIQUE (customer_id, \"timestamp\")").arg(big);
    if (partitioned) {
        for (const QString &sql : MonthPartitions::createStatements(d.tableName(), columns))
            if (!exec(sql, error))
                return false;
    } else if (!exec(QStringLiteral("CREATE TABLE %1 (%2)").arg(table, columns), error)) {
        return false;
    }
    return exec(QStringLiteral("CREATE INDEX %1 ON %2 (\"timestamp\")")
                    .arg(SqlDialect::quote(d.tableName() + QStringLiteral("_by_time")), table), error);
}

Problems Workspace::createDefinition(UsageEventDefinition &d)
{
    Problems problems;
    if (d.name.trimmed().isEmpty())
        problems.append({ProblemCode::InvalidName, QStringLiteral("name"), QStringLiteral("Give the usage event a name.")});
    else if (d.name.size() > 200)
        problems.append({ProblemCode::InvalidName, QStringLiteral("name"), QStringLiteral("The name is longer than 200 characters.")});
    if (d.slug.isEmpty())
        d.slug = Slug::derive(d.name);
    if (auto p = Slug::validate(d.slug))
        problems.append(*p);
    else if (definition(d.slug))
        problems.append({ProblemCode::Duplicate, QStringLiteral("slug"),
                         QStringLiteral("The slug “%1” is already used by another usage event.").arg(d.slug)});
    for (Problem p : d.schema.validate()) {
        p.pointer = QStringLiteral("schema") + p.pointer;
        problems.append(p);
    }
    if (!problems.isEmpty())
        return problems;

    QString error;
    const qint64 now = nowUs();
    if (!exec(m_dialect.beginWrite(), &error))
        return {{ProblemCode::InvalidName, QString(), error}};
    QSqlQuery q(database());
    q.prepare(QStringLiteral("INSERT INTO definitions (slug, slug_key, name, schema_json, duplicate_policy, "
                             "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id"));
    q.addBindValue(d.slug);
    q.addBindValue(d.slug.toLower());
    q.addBindValue(d.name.trimmed());
    q.addBindValue(schemaJson(d.schema));
    q.addBindValue(UsageEventDefinition::policyName(d.policy));
    q.addBindValue(now);
    q.addBindValue(now);
    const bool inserted = q.exec() && q.next();
    const qint64 id = inserted ? q.value(0).toLongLong() : 0;
    if (inserted)
        q.finish();
    if (!inserted || !createTable(d, &error)) {
        if (error.isEmpty())
            error = q.lastError().text();
        exec(QStringLiteral("ROLLBACK"));
        return {{ProblemCode::Duplicate, QStringLiteral("slug"), QStringLiteral("Could not save: %1").arg(error)}};
    }
    if (!exec(QStringLiteral("COMMIT"), &error))
        return {{ProblemCode::InvalidName, QString(), error}};
    d.id = id;
    d.name = d.name.trimmed();
    d.createdAtUs = now;
    return {};
}

Problems Workspace::updateDefinition(const QString &slug, const UsageEventDefinition &changed)
{
    const auto current = definition(slug);
    if (!current)
        return {{ProblemCode::InvalidName, QStringLiteral("slug"), QStringLiteral("No usage event “%1”.").arg(slug)}};
    Problems problems;
    if (changed.slug.toLower() != current->slug.toLower())
        problems.append({ProblemCode::InvalidName, QStringLiteral("slug"),
                         QStringLiteral("The slug of a usage event cannot change: its endpoint URL is in use.")});
    if (changed.name.trimmed().isEmpty())
        problems.append({ProblemCode::InvalidName, QStringLiteral("name"), QStringLiteral("Give the usage event a name.")});
    for (Problem p : changed.schema.validate()) {
        p.pointer = QStringLiteral("schema") + p.pointer;
        problems.append(p);
    }
    const QStringList existing = tableColumns(current->tableName());
    QList<SchemaField> toAdd;
    QList<SchemaField> toRetype;
    for (const SchemaField &f : changed.schema.fields) {
        const SchemaField *old = current->schema.field(f.path);
        const bool hasColumn = existing.contains(f.columnName(), Qt::CaseInsensitive);
        if (old && old->type == f.type)
            continue;
        if (!hasColumn) {
            toAdd.append(f);
            continue;
        }
        // The column exists (a retyped field, or a removed field coming back): only an
        // empty column may change its type, so no stored value is reinterpreted.
        const qint64 held = valuesInColumn(*current, f.columnName());
        if (held > 0)
            problems.append({ProblemCode::TypeMismatch, QStringLiteral("schema"),
                             QStringLiteral("%1 stored rows hold a value for “%2”; changing its type would "
                                            "reinterpret billing data. Add a field with a new name instead.")
                                 .arg(held).arg(f.path)});
        else
            toRetype.append(f);
    }
    if (!problems.isEmpty())
        return problems;

    QString error;
    const QString table = SqlDialect::quote(current->tableName());
    if (!exec(m_dialect.beginWrite(), &error))
        return {{ProblemCode::InvalidName, QString(), error}};
    bool ok = true;
    for (const SchemaField &f : std::as_const(toRetype))
        ok = ok && exec(QStringLiteral("ALTER TABLE %1 DROP COLUMN %2").arg(table, SqlDialect::quote(f.columnName())), &error);
    for (const SchemaField &f : toAdd + toRetype)
        ok = ok && exec(QStringLiteral("ALTER TABLE %1 ADD COLUMN %2 %3")
                            .arg(table, SqlDialect::quote(f.columnName()), m_dialect.columnType(f.type)), &error);
    QSqlQuery q(database());
    q.prepare(QStringLiteral("UPDATE definitions SET name = ?, schema_json = ?, duplicate_policy = ?, updated_at = ? "
                             "WHERE id = ?"));
    q.addBindValue(changed.name.trimmed());
    q.addBindValue(schemaJson(changed.schema));
    q.addBindValue(UsageEventDefinition::policyName(changed.policy));
    q.addBindValue(nowUs());
    q.addBindValue(current->id);
    ok = ok && q.exec();
    if (!ok) {
        if (error.isEmpty())
            error = q.lastError().text();
        exec(QStringLiteral("ROLLBACK"));
        return {{ProblemCode::InvalidName, QString(), QStringLiteral("Could not save: %1").arg(error)}};
    }
    audit(current->slug, std::nullopt, QStringLiteral("definition.update"), schemaJson(current->schema),
          schemaJson(changed.schema), QStringLiteral("local"));
    if (!exec(QStringLiteral("COMMIT"), &error))
        return {{ProblemCode::InvalidName, QString(), error}};
    return {};
}

bool Workspace::removeDefinition(const QString &slug, QString *error)
{
    const auto current = definition(slug);
    if (!current) {
        *error = QStringLiteral("No usage event “%1”.").arg(slug);
        return false;
    }
    const qint64 rows = rowCount(*current);
    if (!exec(m_dialect.beginWrite(), error))
        return false;
    QSqlQuery q(database());
    q.prepare(QStringLiteral("DELETE FROM definitions WHERE id = ?"));
    q.addBindValue(current->id);
    if (!q.exec() || !exec(QStringLiteral("DROP TABLE %1").arg(SqlDialect::quote(current->tableName())), error)) {
        if (error->isEmpty())
            *error = q.lastError().text();
        exec(QStringLiteral("ROLLBACK"));
        return false;
    }
    // Its SQL templates and alerts go with it: a new usage event with the same slug starts clean.
    const QStringList dependents = {
        QStringLiteral("DELETE FROM alert_firings WHERE alert_id IN (SELECT id FROM alerts WHERE lower(slug) = lower(?))"),
        QStringLiteral("DELETE FROM alerts WHERE lower(slug) = lower(?)"),
        QStringLiteral("DELETE FROM meter_queries WHERE lower(slug) = lower(?)"),
    };
    for (const QString &sql : dependents) {
        QSqlQuery d(database());
        d.prepare(sql);
        d.addBindValue(current->slug);
        if (!d.exec()) {
            *error = d.lastError().text();
            exec(QStringLiteral("ROLLBACK"));
            return false;
        }
    }
    audit(current->slug, std::nullopt, QStringLiteral("definition.remove"), schemaJson(current->schema),
          QStringLiteral("{\"rows_dropped\":%1}").arg(rows), QStringLiteral("local"));
    return exec(QStringLiteral("COMMIT"), error);
}

qint64 Workspace::rowCount(const UsageEventDefinition &d) const
{
    QSqlQuery q(database());
    if (q.exec(QStringLiteral("SELECT count(*) FROM %1").arg(SqlDialect::quote(d.tableName()))) && q.next())
        return q.value(0).toLongLong();
    return -1;
}

qint64 Workspace::valuesInColumn(const UsageEventDefinition &d, const QString &column) const
{
    QSqlQuery q(database());
    if (q.exec(QStringLiteral("SELECT count(*) FROM %1 WHERE %2 IS NOT NULL")
                   .arg(SqlDialect::quote(d.tableName()), SqlDialect::quote(column)))
        && q.next())
        return q.value(0).toLongLong();
    return -1;
}

void Workspace::audit(const QString &slug, std::optional<qint64> rowId, const QString &action, const QString &before,
                      const QString &after, const QString &actor)
{
    QSqlQuery q(database());
    q.prepare(QStringLiteral("INSERT INTO audit_log (at, slug, row_id, action, before_json, after_json, actor) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(nowUs());
    q.addBindValue(slug);
    q.addBindValue(rowId ? QVariant(*rowId) : QVariant(QMetaType::fromType<qint64>()));
    q.addBindValue(action);
    q.addBindValue(before);
    q.addBindValue(after);
    q.addBindValue(actor);
    if (!q.exec())
        qCWarning(lcStorage) << "audit record failed:" << q.lastError().text();
}

} // namespace meterdesk
