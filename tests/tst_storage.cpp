// Storage: real SQLite files in a temporary folder (DESIGN.md §4): the workspace,
// definitions and their tables, API keys, the event store, and hostile input.
// Parametrized: with MDK_TEST_BACKEND=postgresql (the tst_storage_postgresql ctest
// entry) every workspace is a fresh database on the private PostgreSQL of
// scripts/pgtest, and the few file-only checks check PostgreSQL's counterpart.
#include "apikeys.h"
#include "eventstore.h"
#include "jsonvalue.h"
#include "testbackend.h"
#include "validator.h"
#include "workspace.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <QUuid>

using namespace meterdesk;
using namespace Qt::StringLiterals;

namespace {

QString describe(const Problems &problems)
{
    QStringList lines;
    for (const Problem &p : problems)
        lines.append(p.pointer + u": "_s + p.message);
    return lines.join(u" | "_s);
}

DataSchema schemaOf(std::initializer_list<SchemaField> fields)
{
    DataSchema s;
    s.fields = fields;
    return s;
}

UsageEventDefinition definitionOf(const QString &name, const QString &slug, const DataSchema &schema,
                                  DuplicatePolicy policy = DuplicatePolicy::Reject)
{
    UsageEventDefinition d;
    d.name = name;
    d.slug = slug;
    d.schema = schema;
    d.policy = policy;
    return d;
}

ValidatedEvent validated(const DataSchema &schema, const QByteArray &body)
{
    const Validation v = Validator::validateBytes(schema, body);
    if (!v.event)
        qFatal("test event refused: %s", qPrintable(describe(v.problems)));
    return *v.event;
}

QByteArray eventBody(const QString &customer, qint64 seconds, const QByteArray &data)
{
    return "{\"customer_id\":\"" + customer.toUtf8() + "\",\"timestamp\":" + QByteArray::number(seconds)
        + ",\"data\":" + data + "}";
}

bool exec(const QSqlDatabase &db, const QString &sql)
{
    QSqlQuery q(db);
    if (!q.exec(sql)) {
        qWarning() << sql << q.lastError().text();
        return false;
    }
    return true;
}

QVariant scalar(const QSqlDatabase &db, const QString &sql, const QVariantList &binds = {})
{
    QSqlQuery q(db);
    q.prepare(sql);
    for (const QVariant &b : binds)
        q.addBindValue(b);
    if (!q.exec() || !q.next()) {
        qWarning() << sql << q.lastError().text();
        return {};
    }
    return q.value(0);
}

// Does `table` exist? QSqlDatabase::tables() lists no partitioned table on PostgreSQL
// (QPSQL reads relkind 'r' only), and usage tables there are partitioned by month.
bool hasTable(const QSqlDatabase &db, const QString &table)
{
    if (!test::onPostgres())
        return db.tables().contains(table);
    return scalar(db,
                  u"SELECT count(*) FROM information_schema.tables "
                  "WHERE table_schema = current_schema() AND table_name = ?"_s,
                  {table})
               .toInt()
        == 1;
}

// name -> declared type, from PRAGMA table_info (SQLite) or information_schema (PostgreSQL).
QHash<QString, QString> columnTypes(const QSqlDatabase &db, const QString &table)
{
    QHash<QString, QString> types;
    QSqlQuery q(db);
    q.prepare(test::onPostgres()
                  ? u"SELECT column_name, upper(data_type) FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = ?"_s
                  : u"SELECT name, type FROM pragma_table_info(?)"_s);
    q.addBindValue(table);
    if (q.exec())
        while (q.next())
            types.insert(q.value(0).toString(), q.value(1).toString());
    return types;
}

// The declared type each backend gives a field of `type`.
QString declared(FieldType type)
{
    if (!test::onPostgres()) {
        switch (type) {
        case FieldType::Integer:
        case FieldType::Boolean:
        case FieldType::DateTime: return u"INTEGER"_s;
        case FieldType::Float: return u"REAL"_s;
        default: return u"TEXT"_s;
        }
    }
    switch (type) {
    case FieldType::String: return u"TEXT"_s;
    case FieldType::Integer:
    case FieldType::DateTime: return u"BIGINT"_s;
    case FieldType::Float: return u"DOUBLE PRECISION"_s;
    case FieldType::Decimal: return u"NUMERIC"_s;
    case FieldType::Boolean: return u"BOOLEAN"_s;
    case FieldType::Date: return u"DATE"_s;
    case FieldType::Uuid: return u"UUID"_s;
    case FieldType::Array: return u"JSONB"_s;
    }
    return {};
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

const QStringList kCoreTables = {u"meta"_s, u"definitions"_s, u"api_keys"_s, u"dead_letters"_s, u"audit_log"_s,
                                 u"meter_queries"_s, u"alerts"_s, u"alert_firings"_s};

} // namespace

class TestStorage : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void openCreatesFileAndTables();
    void openCreatesMissingFolders();
    void organisationPersistsAcrossReopen();
    void reopenKeepsDefinitionsAndKeys();
    void openRefusesCorruptFile_data();
    void openRefusesCorruptFile();
    void openRefusesForeignDatabase();
    void openRefusesDirectoryAndPostgres();

    void createAndListDefinitions();
    void definitionTableHasTypedColumns();
    void slugUniqueIgnoringCase();
    void definitionNameRules();
    void updateAddsColumn();
    void updateRefusesRetypeOfHeldValues();
    void updateAllowsRetypeOfEmptyColumn();
    void updateRefusesSlugChange();
    void removeDropsTable();

    void apiKeysStoreOnlyDigest();
    void apiKeysVerifyAndRevoke();

    void storeInsertDuplicateConflict();
    void storeOverwriteWritesAudit();
    void storeRollbackLeavesNothing();
    void storeTypedValuesAndVerbatimText();
    void listFiltersAndKeysetCursor();

    void hostileSlugsRefused_data();
    void hostileSlugsRefused();
    void hostileFieldNamesRefused_data();
    void hostileFieldNamesRefused();
    void hostileDisplayNamesStoredVerbatim();
    void hostileLookupsAreHarmless();

private:
    // The workspace called `name` in this test: a file, or a database created on first use.
    QString path(const QString &name = u"workspace.db"_s);
    std::unique_ptr<Workspace> openOrFail(const QString &location);
    void verifyCoreTablesIntact(Workspace &ws);

    std::unique_ptr<QTemporaryDir> m_dir;
    QHash<QString, QString> m_locations;
};

QString TestStorage::path(const QString &name)
{
    auto it = m_locations.constFind(name);
    if (it != m_locations.cend())
        return *it;
    QString error;
    QString location = test::workspaceLocation(*m_dir, name, &error);
    if (location.isEmpty())
        qWarning() << "no test database:" << error;
    m_locations.insert(name, location);
    return location;
}

void TestStorage::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(QSqlDatabase::isDriverAvailable(u"QSQLITE"_s));
    if (test::onPostgres()) {
        QVERIFY2(QSqlDatabase::isDriverAvailable(u"QPSQL"_s), "install libqt6sql6-psql (scripts/deps)");
        const QString error = test::postgresAdmin(u"SELECT 1"_s);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }
}

void TestStorage::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestStorage::cleanup()
{
    m_locations.clear();
    m_dir.reset();
}

std::unique_ptr<Workspace> TestStorage::openOrFail(const QString &location)
{
    QString error;
    auto ws = Workspace::open(location, &error);
    if (!ws)
        qWarning() << "open failed:" << error;
    return ws;
}

void TestStorage::verifyCoreTablesIntact(Workspace &ws)
{
    const QStringList tables = ws.database().tables();
    for (const QString &t : kCoreTables)
        QVERIFY2(tables.contains(t), qPrintable(t));
    if (!test::onPostgres())
        QCOMPARE(scalar(ws.database(), u"PRAGMA integrity_check"_s).toString(), u"ok"_s);
    QCOMPARE(scalar(ws.database(), u"SELECT value FROM meta WHERE key = 'schema_version'"_s).toString(),
             QString::number(Workspace::SchemaVersion));
}

void TestStorage::openCreatesFileAndTables()
{
    if (test::onPostgres()) {
        QString error;
        auto ws = Workspace::open(path(), &error);
        QVERIFY2(ws, qPrintable(error));
        QCOMPARE(ws->dialect().kind(), SqlDialect::Kind::PostgreSQL);
        QCOMPARE(ws->location(), path());
        QVERIFY(!QUuid::fromString(ws->organisation()).isNull());
        verifyCoreTablesIntact(*ws);
        QVERIFY(ws->definitions().isEmpty());
        QVERIFY(ApiKeys::list(*ws).isEmpty());
        return;
    }
    QVERIFY(!QFile::exists(path()));
    QString error;
    auto ws = Workspace::open(path(), &error);
    QVERIFY2(ws, qPrintable(error));
    QVERIFY(QFile::exists(path()));
    QVERIFY(QFileInfo(path()).size() > 0);
    QCOMPARE(ws->location(), QFileInfo(path()).absoluteFilePath());
    QVERIFY(!QUuid::fromString(ws->organisation()).isNull());
    QCOMPARE(QUuid::fromString(ws->organisation()).toString(QUuid::WithoutBraces), ws->organisation());
    verifyCoreTablesIntact(*ws);
    QCOMPARE(scalar(ws->database(), u"PRAGMA journal_mode"_s).toString(), u"wal"_s);
    QCOMPARE(scalar(ws->database(), u"PRAGMA synchronous"_s).toInt(), 2); // FULL
    QVERIFY(ws->definitions().isEmpty());
    QVERIFY(ApiKeys::list(*ws).isEmpty());
}

void TestStorage::openCreatesMissingFolders()
{
    if (test::onPostgres()) {
        // A server database is never created by Meterdesk: a missing one is an error naming it.
        QUrl missing(test::postgresUrl());
        missing.setPath(u"/no_such_database_here"_s);
        QString error;
        QVERIFY(!Workspace::open(missing.toString(), &error));
        QVERIFY2(error.contains(u"no_such_database_here"_s), qPrintable(error));
        return;
    }
    const QString nested = m_dir->filePath(u"a/b/c/ws.db"_s);
    auto ws = openOrFail(nested);
    QVERIFY(ws);
    QVERIFY(QFile::exists(nested));
}

void TestStorage::organisationPersistsAcrossReopen()
{
    QString first;
    {
        auto ws = openOrFail(path());
        QVERIFY(ws);
        first = ws->organisation();
    }
    auto again = openOrFail(path());
    QVERIFY(again);
    QCOMPARE(again->organisation(), first);
    // Two workspaces open on one file at once agree too.
    auto third = openOrFail(path());
    QVERIFY(third);
    QCOMPARE(third->organisation(), first);
    // Another file is another organisation.
    auto other = openOrFail(path(u"other.db"_s));
    QVERIFY(other);
    QVERIFY(other->organisation() != first);
}

void TestStorage::reopenKeepsDefinitionsAndKeys()
{
    const DataSchema schema = schemaOf({{u"zeta"_s, FieldType::Integer, true, u"last letter"_s},
                                        {u"alpha"_s, FieldType::Decimal, false, {}},
                                        {u"usage.cpu"_s, FieldType::Float, false, {}}});
    QString key;
    qint64 keyId = 0;
    {
        auto ws = openOrFail(path());
        QVERIFY(ws);
        UsageEventDefinition d = definitionOf(u"a raw metric"_s, {}, schema, DuplicatePolicy::Overwrite);
        QVERIFY2(ws->createDefinition(d).isEmpty(), "create failed");
        QString error;
        const auto created = ApiKeys::create(*ws, u"ci"_s, &error);
        QVERIFY2(created, qPrintable(error));
        key = created->key;
        keyId = created->info.id;
    }
    auto ws = openOrFail(path());
    QVERIFY(ws);
    const auto defs = ws->definitions();
    QCOMPARE(defs.size(), 1);
    QCOMPARE(defs.first().slug, u"a_raw_metric"_s);
    QCOMPARE(defs.first().name, u"a raw metric"_s);
    QCOMPARE(defs.first().policy, DuplicatePolicy::Overwrite);
    QCOMPARE(defs.first().schema, schema); // same fields, same order, same required/description
    const auto keys = ApiKeys::list(*ws);
    QCOMPARE(keys.size(), 1);
    QCOMPARE(keys.first().id, keyId);
    QCOMPARE(keys.first().name, u"ci"_s);
    QCOMPARE(ApiKeys::verify(ApiKeys::liveDigests(*ws), key.toUtf8()), std::optional<qint64>(keyId));
}

void TestStorage::openRefusesCorruptFile_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QByteArray random(qsizetype(64) * 1024, '\0');
    QRandomGenerator rng(7);
    for (char &c : random)
        c = char(rng.bounded(256));
    QTest::newRow("64 KB of random bytes") << random;
    QTest::newRow("a text file") << QByteArray("this is not a database\n").repeated(100);
    // A real SQLite header followed by garbage pages.
    QTest::newRow("SQLite header, garbage body") << QByteArray("SQLite format 3\0", 16) + random.left(8192);
}

void TestStorage::openRefusesCorruptFile()
{
    QFETCH(QByteArray, bytes);
    if (test::onPostgres()) {
        // PostgreSQL's counterpart of an unreadable file: a server that is not there.
        // One line, naming the address, never the password.
        QString error;
        QVERIFY(!Workspace::open(u"postgresql://meterdesk:s3cret@127.0.0.1:1/nothing"_s, &error));
        QVERIFY2(error.contains(u"postgresql://meterdesk:***@127.0.0.1:1/nothing"_s), qPrintable(error));
        QVERIFY2(!error.contains(u"s3cret"_s), qPrintable(error));
        QVERIFY2(!error.contains(u'\n'), qPrintable(error));
        return;
    }
    const QString file = path(u"corrupt.db"_s);
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QCOMPARE(f.write(bytes), bytes.size());
    }
    QString error;
    auto ws = Workspace::open(file, &error);
    QVERIFY(!ws);
    QVERIFY(!error.isEmpty());
    QVERIFY2(error.contains(file), qPrintable(error));
    QVERIFY2(!error.contains(u'\n'), qPrintable(error));
    // Left untouched: same bytes, and no journal or WAL beside it.
    QCOMPARE(readAll(file), bytes);
    QCOMPARE(QDir(m_dir->path()).entryList(QDir::Files), QStringList{u"corrupt.db"_s});
    // Opening twice gives the same answer (nothing was half-repaired).
    QString again;
    QVERIFY(!Workspace::open(file, &again));
    QCOMPARE(readAll(file), bytes);
}

void TestStorage::openRefusesForeignDatabase()
{
    if (test::onPostgres()) {
        // Another application's PostgreSQL database: no table of ours is added to it.
        const QString url = path(u"someone-else"_s);
        {
            QString error;
            auto probe = Workspace::open(path(u"scratch"_s), &error); // a connection to borrow settings from
            QVERIFY2(probe, qPrintable(error));
            QSqlDatabase db = QSqlDatabase::cloneDatabase(probe->database(), u"foreign"_s);
            db.setDatabaseName(QUrl(url).path().mid(1));
            QVERIFY(db.open());
            QVERIFY(exec(db, u"CREATE TABLE customers (id BIGINT PRIMARY KEY, name TEXT)"_s));
            QVERIFY(exec(db, u"INSERT INTO customers VALUES (1, 'Ada')"_s));
            QString error2;
            auto ws = Workspace::open(url, &error2);
            QVERIFY(!ws);
            QVERIFY2(error2.contains(url) && error2.contains(u"another application"_s), qPrintable(error2));
            QCOMPARE(db.tables(), QStringList{u"customers"_s});
            db.close();
        }
        QSqlDatabase::removeDatabase(u"foreign"_s);
        return;
    }
    // Another application's SQLite database: Meterdesk must not add its tables to it.
    const QString file = path(u"someone-else.db"_s);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"foreign"_s);
        db.setDatabaseName(file);
        QVERIFY(db.open());
        QVERIFY(exec(db, u"CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)"_s));
        QVERIFY(exec(db, u"INSERT INTO customers (name) VALUES ('Ada')"_s));
        db.close();
    }
    QSqlDatabase::removeDatabase(u"foreign"_s);
    const QByteArray before = readAll(file);
    QVERIFY(!before.isEmpty());

    QString error;
    auto ws = Workspace::open(file, &error);
    QVERIFY(!ws);
    QVERIFY2(error.contains(file), qPrintable(error));
    QCOMPARE(readAll(file), before);
}

void TestStorage::openRefusesDirectoryAndPostgres()
{
    QVERIFY(QDir(m_dir->path()).mkdir(u"folder.db"_s));
    QString error;
    QVERIFY(!Workspace::open(m_dir->filePath(u"folder.db"_s), &error));
    QVERIFY2(error.contains(u"not a file"_s), qPrintable(error));

    error.clear();
    QVERIFY(!Workspace::open(u"postgresql://user@localhost:5432/"_s, &error)); // no database named
    QVERIFY2(error.contains(u"postgresql://user[:password]@host[:port]/dbname"_s), qPrintable(error));
    error.clear();
    QVERIFY(!Workspace::open(u"postgresql://user:pw@localhost:5432/a/b"_s, &error));
    QVERIFY2(error.contains(u"postgresql://user:***@localhost:5432/a/b"_s), qPrintable(error));
}

void TestStorage::createAndListDefinitions()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    const qint64 before = Workspace::nowUs();
    UsageEventDefinition d = definitionOf(u"  CPU usage  "_s, {},
                                          schemaOf({{u"cpu_usage_hours_per_day"_s, FieldType::Float, true, {}}}));
    const Problems problems = ws->createDefinition(d);
    QVERIFY2(problems.isEmpty(), qPrintable(describe(problems)));
    QCOMPARE(d.slug, u"cpu_usage"_s);
    QCOMPARE(d.name, u"CPU usage"_s); // trimmed
    QVERIFY(d.id > 0);
    QVERIFY(d.createdAtUs >= before);

    UsageEventDefinition second = definitionOf(u"Storage GB"_s, u"Storage-GB"_s,
                                               schemaOf({{u"gb"_s, FieldType::Decimal, false, {}}}));
    QVERIFY(ws->createDefinition(second).isEmpty());
    QCOMPARE(second.slug, u"Storage-GB"_s); // an explicit slug is kept as typed

    const auto all = ws->definitions();
    QCOMPARE(all.size(), 2);
    QCOMPARE(all[0].slug, u"cpu_usage"_s);
    QCOMPARE(all[0].id, d.id);
    QCOMPARE(all[0].schema, d.schema);
    QCOMPARE(all[0].createdAtUs, d.createdAtUs);
    QCOMPARE(all[1].slug, u"Storage-GB"_s);

    // Lookup ignores case, like the uniqueness rule.
    const auto found = ws->definition(u"storage-gb"_s);
    QVERIFY(found);
    QCOMPARE(found->slug, u"Storage-GB"_s);
    QCOMPARE(found->tableName(), u"usage_storage-gb"_s);
    QVERIFY(ws->definition(u"STORAGE-GB"_s));
    QVERIFY(!ws->definition(u"missing"_s));

    QVERIFY(hasTable(ws->database(), u"usage_cpu_usage"_s));
    QVERIFY(hasTable(ws->database(), u"usage_storage-gb"_s));
    QCOMPARE(ws->rowCount(*found), 0);
}

void TestStorage::definitionTableHasTypedColumns()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    DataSchema schema;
    for (FieldType t : FieldTypes::all())
        schema.fields.append({u"f."_s + FieldTypes::name(t), t, false, {}});
    UsageEventDefinition d = definitionOf(u"every type"_s, {}, schema);
    QVERIFY2(ws->createDefinition(d).isEmpty(), "create failed");
    const auto types = columnTypes(ws->database(), d.tableName());
    QCOMPARE(types.value(u"customer_id"_s), u"TEXT"_s);
    QCOMPARE(types.value(u"timestamp"_s), declared(FieldType::DateTime));
    QCOMPARE(types.value(u"data"_s), u"TEXT"_s);
    for (FieldType t : FieldTypes::all())
        QCOMPARE(types.value(u"data.f."_s + FieldTypes::name(t)), declared(t)); // decimal: exact, never REAL
}

void TestStorage::slugUniqueIgnoringCase()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    UsageEventDefinition first = definitionOf(u"First"_s, u"Api_Calls"_s, {});
    QVERIFY(ws->createDefinition(first).isEmpty());

    for (const QString &slug : {u"api_calls"_s, u"API_CALLS"_s, u"Api_Calls"_s}) {
        UsageEventDefinition clash = definitionOf(u"Second"_s, slug, {});
        const Problems problems = ws->createDefinition(clash);
        QCOMPARE(problems.size(), 1);
        QCOMPARE(problems.first().code, ProblemCode::Duplicate);
        QCOMPARE(problems.first().pointer, u"slug"_s);
        QVERIFY2(problems.first().message.contains(slug), qPrintable(problems.first().message));
    }
    // A derived slug clashes too.
    UsageEventDefinition derived = definitionOf(u"API calls"_s, {}, {});
    QCOMPARE(ws->createDefinition(derived).first().code, ProblemCode::Duplicate);
    // '-' and '_' are different slugs.
    UsageEventDefinition dash = definitionOf(u"Dash"_s, u"api-calls"_s, {});
    QVERIFY(ws->createDefinition(dash).isEmpty());
    QCOMPARE(ws->definitions().size(), 2);
    QCOMPARE(scalar(ws->database(), u"SELECT count(*) FROM definitions"_s).toInt(), 2);
}

void TestStorage::definitionNameRules()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    UsageEventDefinition blank = definitionOf(u"   "_s, u"blank"_s, {});
    Problems problems = ws->createDefinition(blank);
    QCOMPARE(problems.size(), 1);
    QCOMPARE(problems.first().pointer, u"name"_s);

    // A name that derives to no slug at all: a slug problem, not a crash or an empty table name.
    UsageEventDefinition cjk = definitionOf(u"日本語"_s, {}, {});
    problems = ws->createDefinition(cjk);
    QCOMPARE(problems.size(), 1);
    QCOMPARE(problems.first().pointer, u"slug"_s);
    QVERIFY(problems.first().message.contains(u"empty"_s));

    // Every problem at once: name, slug and schema.
    UsageEventDefinition all = definitionOf(QString(), u"bad slug"_s,
                                            schemaOf({{u"timestamp"_s, FieldType::String, false, {}}}));
    problems = ws->createDefinition(all);
    QCOMPARE(problems.size(), 3);
    QCOMPARE(problems[0].pointer, u"name"_s);
    QCOMPARE(problems[1].pointer, u"slug"_s);
    QCOMPARE(problems[2].pointer, u"schema/fields/0"_s);
    QVERIFY(ws->definitions().isEmpty());
    QCOMPARE(ws->database().tables().size(), kCoreTables.size());
}

void TestStorage::updateAddsColumn()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    const DataSchema v1 = schemaOf({{u"cpu"_s, FieldType::Float, false, {}}});
    UsageEventDefinition d = definitionOf(u"cpu"_s, {}, v1);
    QVERIFY(ws->createDefinition(d).isEmpty());
    {
        EventStore store(*ws);
        QVERIFY(exec(ws->database(), u"BEGIN"_s));
        QCOMPARE(store.store(d, validated(v1, eventBody(u"c"_s, 100, R"({"cpu":1})")), u"test"_s, 1).outcome,
                 StoreOutcome::Inserted);
        QVERIFY(exec(ws->database(), u"COMMIT"_s));
    }

    UsageEventDefinition changed = d;
    changed.name = u"CPU hours"_s;
    changed.schema.fields.append({u"usage.mem"_s, FieldType::Integer, true, u"memory"_s});
    const Problems problems = ws->updateDefinition(u"CPU"_s, changed); // slug lookup ignores case
    QVERIFY2(problems.isEmpty(), qPrintable(describe(problems)));

    const auto types = columnTypes(ws->database(), d.tableName());
    QCOMPARE(types.value(u"data.usage.mem"_s), declared(FieldType::Integer));
    QCOMPARE(types.value(u"data.cpu"_s), declared(FieldType::Float));
    const auto reread = ws->definition(u"cpu"_s);
    QVERIFY(reread);
    QCOMPARE(reread->name, u"CPU hours"_s);
    QCOMPARE(reread->schema, changed.schema);
    QCOMPARE(ws->rowCount(*reread), 1); // stored rows survive
    QCOMPARE(ws->valuesInColumn(*reread, u"data.usage.mem"_s), 0);
    QCOMPARE(ws->valuesInColumn(*reread, u"data.cpu"_s), 1);
    QCOMPARE(scalar(ws->database(), u"SELECT count(*) FROM audit_log WHERE action = 'definition.update'"_s).toInt(), 1);

    // The new column is written by a new store.
    EventStore store(*ws);
    QVERIFY(exec(ws->database(), u"BEGIN"_s));
    QCOMPARE(store.store(*reread, validated(reread->schema, eventBody(u"c"_s, 200, R"({"cpu":2,"usage":{"mem":64}})")),
                         u"test"_s, 2).outcome,
             StoreOutcome::Inserted);
    QVERIFY(exec(ws->database(), u"COMMIT"_s));
    QCOMPARE(scalar(ws->database(), u"SELECT \"data.usage.mem\" FROM \"usage_cpu\" WHERE \"timestamp\" = 200000000"_s)
                 .toLongLong(),
             64);
}

void TestStorage::updateRefusesRetypeOfHeldValues()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    const DataSchema v1 = schemaOf({{u"amount"_s, FieldType::Float, false, {}}, {u"note"_s, FieldType::String, false, {}}});
    UsageEventDefinition d = definitionOf(u"billing"_s, {}, v1);
    QVERIFY(ws->createDefinition(d).isEmpty());
    {
        EventStore store(*ws);
        QVERIFY(exec(ws->database(), u"BEGIN"_s));
        QCOMPARE(store.store(d, validated(v1, eventBody(u"c"_s, 1, R"({"amount":"12.5"})")), u"t"_s, 1).outcome,
                 StoreOutcome::Inserted);
        QVERIFY(exec(ws->database(), u"COMMIT"_s));
    }
    UsageEventDefinition changed = d;
    changed.schema.fields[0].type = FieldType::Decimal;
    const Problems problems = ws->updateDefinition(d.slug, changed);
    QCOMPARE(problems.size(), 1);
    QCOMPARE(problems.first().code, ProblemCode::TypeMismatch);
    QVERIFY2(problems.first().message.contains(u"amount"_s), qPrintable(problems.first().message));
    QVERIFY(problems.first().message.contains(u"1 stored rows"_s));

    // Nothing changed: schema, column type, value, no audit record.
    QCOMPARE(ws->definition(d.slug)->schema, v1);
    QCOMPARE(columnTypes(ws->database(), d.tableName()).value(u"data.amount"_s), declared(FieldType::Float));
    QCOMPARE(scalar(ws->database(), u"SELECT \"data.amount\" FROM \"usage_billing\""_s).toDouble(), 12.5);
    QCOMPARE(scalar(ws->database(), u"SELECT count(*) FROM audit_log"_s).toInt(), 0);

    // Removing the field and bringing it back with another type is the same retype: refused.
    UsageEventDefinition removed = d;
    removed.schema.fields.removeFirst();
    QVERIFY(ws->updateDefinition(d.slug, removed).isEmpty());
    UsageEventDefinition back = removed;
    back.schema.fields.append({u"amount"_s, FieldType::Integer, false, {}});
    QCOMPARE(ws->updateDefinition(d.slug, back).size(), 1);
    QCOMPARE(columnTypes(ws->database(), d.tableName()).value(u"data.amount"_s), declared(FieldType::Float));
}

void TestStorage::updateAllowsRetypeOfEmptyColumn()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    const DataSchema v1 = schemaOf({{u"amount"_s, FieldType::Float, false, {}}, {u"note"_s, FieldType::String, false, {}}});
    UsageEventDefinition d = definitionOf(u"billing"_s, {}, v1);
    QVERIFY(ws->createDefinition(d).isEmpty());
    {
        // A row exists, but its `amount` is null.
        EventStore store(*ws);
        QVERIFY(exec(ws->database(), u"BEGIN"_s));
        QCOMPARE(store.store(d, validated(v1, eventBody(u"c"_s, 1, R"({"note":"x"})")), u"t"_s, 1).outcome,
                 StoreOutcome::Inserted);
        QVERIFY(exec(ws->database(), u"COMMIT"_s));
    }
    UsageEventDefinition changed = d;
    changed.schema.fields[0].type = FieldType::Decimal;
    const Problems problems = ws->updateDefinition(d.slug, changed);
    QVERIFY2(problems.isEmpty(), qPrintable(describe(problems)));
    QCOMPARE(columnTypes(ws->database(), d.tableName()).value(u"data.amount"_s), declared(FieldType::Decimal));
    QCOMPARE(ws->definition(d.slug)->schema.fields[0].type, FieldType::Decimal);
    QCOMPARE(ws->rowCount(d), 1);
    QCOMPARE(scalar(ws->database(), u"SELECT \"data.note\" FROM \"usage_billing\""_s).toString(), u"x"_s);
}

void TestStorage::updateRefusesSlugChange()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    UsageEventDefinition d = definitionOf(u"calls"_s, {}, {});
    QVERIFY(ws->createDefinition(d).isEmpty());
    UsageEventDefinition changed = d;
    changed.slug = u"other"_s;
    const Problems problems = ws->updateDefinition(d.slug, changed);
    QCOMPARE(problems.size(), 1);
    QCOMPARE(problems.first().pointer, u"slug"_s);
    QVERIFY(ws->definition(u"calls"_s));
    QVERIFY(!ws->definition(u"other"_s));

    QCOMPARE(ws->updateDefinition(u"nope"_s, changed).size(), 1);
}

void TestStorage::removeDropsTable()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    const DataSchema schema = schemaOf({{u"n"_s, FieldType::Integer, false, {}}});
    UsageEventDefinition d = definitionOf(u"to remove"_s, {}, schema);
    UsageEventDefinition keep = definitionOf(u"to keep"_s, {}, schema);
    QVERIFY(ws->createDefinition(d).isEmpty());
    QVERIFY(ws->createDefinition(keep).isEmpty());
    {
        EventStore store(*ws);
        QVERIFY(exec(ws->database(), u"BEGIN"_s));
        for (int i = 0; i < 3; ++i)
            QCOMPARE(store.store(d, validated(schema, eventBody(u"c"_s, i, R"({"n":1})")), u"t"_s, 1).outcome,
                     StoreOutcome::Inserted);
        QVERIFY(exec(ws->database(), u"COMMIT"_s));
    }
    QVERIFY(hasTable(ws->database(), u"usage_to_remove"_s));
    // A SQL template and an alert with a firing for each usage event.
    for (const QString &slug : {u"to_remove"_s, u"to_keep"_s}) {
        QVERIFY(exec(ws->database(), u"INSERT INTO meter_queries (slug, name, sql_text, created_at, updated_at) "
                                     "VALUES ('%1', 'q', 'SELECT 1', 1, 1)"_s.arg(slug)));
        QVERIFY(exec(ws->database(), u"INSERT INTO alerts (slug, name, field, fn, window_kind, tz, comparison, threshold, "
                                     "webhook_url, enabled, last_row_id, created_at) "
                                     "VALUES ('%1', 'a', 'n', 'sum', 'day', 'UTC', '>', '1', '', 1, 0, 1)"_s.arg(slug)));
        QVERIFY(exec(ws->database(), u"INSERT INTO alert_firings (alert_id, customer_id, window_start, value, fired_at) "
                                     "SELECT id, 'c', 0, '2', 1 FROM alerts WHERE slug = '%1'"_s.arg(slug)));
    }
    QString error;
    QVERIFY2(ws->removeDefinition(u"TO_REMOVE"_s, &error), qPrintable(error));
    // Its templates, alerts and firings went with it; the other event's stay.
    QCOMPARE(scalar(ws->database(), u"SELECT count(*) FROM meter_queries"_s).toInt(), 1);
    QCOMPARE(scalar(ws->database(), u"SELECT slug FROM meter_queries"_s).toString(), u"to_keep"_s);
    QCOMPARE(scalar(ws->database(), u"SELECT count(*) FROM alerts"_s).toInt(), 1);
    QCOMPARE(scalar(ws->database(), u"SELECT count(*) FROM alert_firings"_s).toInt(), 1);
    QVERIFY(!hasTable(ws->database(), u"usage_to_remove"_s));
    QVERIFY(hasTable(ws->database(), u"usage_to_keep"_s));
    QVERIFY(!ws->definition(u"to_remove"_s));
    QCOMPARE(ws->definitions().size(), 1);
    QCOMPARE(scalar(ws->database(),
                    u"SELECT after_json FROM audit_log WHERE action = 'definition.remove' AND slug = 'to_remove'"_s)
                 .toString(),
             u"{\"rows_dropped\":3}"_s);

    error.clear();
    QVERIFY(!ws->removeDefinition(u"to_remove"_s, &error));
    QVERIFY(error.contains(u"to_remove"_s));

    // The slug is free again.
    UsageEventDefinition again = definitionOf(u"to remove"_s, {}, {});
    QVERIFY(ws->createDefinition(again).isEmpty());
    QCOMPARE(ws->rowCount(again), 0);
}

void TestStorage::apiKeysStoreOnlyDigest()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    QString error;
    const auto created = ApiKeys::create(*ws, u"  production  "_s, &error);
    QVERIFY2(created, qPrintable(error));
    QVERIFY(created->key.startsWith(u"mdk_"_s));
    QVERIFY(created->key.size() >= 40);
    QVERIFY(created->info.id > 0);
    QCOMPARE(created->info.name, u"production"_s);
    QCOMPARE(created->info.prefix, created->key.left(12));
    QVERIFY(created->info.live());

    // Read the table directly: the key text appears nowhere, only its SHA-256.
    QSqlQuery q(ws->database());
    QVERIFY(q.exec(u"SELECT * FROM api_keys"_s));
    int rows = 0;
    while (q.next()) {
        ++rows;
        for (int c = 0; c < q.record().count(); ++c) {
            const QString value = q.value(c).toString();
            QVERIFY2(!value.contains(created->key), qPrintable(q.record().fieldName(c)));
            QVERIFY(!value.contains(created->key.mid(12)));
        }
        const QString expected = QString::fromLatin1(
            QCryptographicHash::hash(created->key.toUtf8(), QCryptographicHash::Sha256).toHex());
        QCOMPARE(q.value(u"key_hash"_s).toString(), expected);
    }
    QCOMPARE(rows, 1);
    QCOMPARE(ApiKeys::digest(created->key.toUtf8()).size(), 32);

    // Keys are different every time; an empty name gets a default.
    const auto other = ApiKeys::create(*ws, QString(), &error);
    QVERIFY(other);
    QVERIFY(other->key != created->key);
    QCOMPARE(other->info.name, u"key"_s);
    const auto list = ApiKeys::list(*ws);
    QCOMPARE(list.size(), 2);
    QCOMPARE(list[0].id, created->info.id);
    QCOMPARE(list[0].prefix, created->info.prefix);
    QCOMPARE(list[0].createdAtUs, created->info.createdAtUs);
    QVERIFY(!list[0].lastUsedAtUs);
}

void TestStorage::apiKeysVerifyAndRevoke()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    QString error;
    const auto a = ApiKeys::create(*ws, u"a"_s, &error);
    const auto b = ApiKeys::create(*ws, u"b"_s, &error);
    QVERIFY(a && b);
    auto live = ApiKeys::liveDigests(*ws);
    QCOMPARE(live.size(), 2);
    QCOMPARE(ApiKeys::verify(live, a->key.toUtf8()), std::optional<qint64>(a->info.id));
    QCOMPARE(ApiKeys::verify(live, b->key.toUtf8()), std::optional<qint64>(b->info.id));
    QVERIFY(!ApiKeys::verify(live, "mdk_wrong"));
    QVERIFY(!ApiKeys::verify(live, ""));
    QByteArray almost = a->key.toUtf8();
    almost[almost.size() - 1] = almost.back() == 'A' ? 'B' : 'A';
    QVERIFY(!ApiKeys::verify(live, almost));
    QVERIFY(!ApiKeys::verify(live, QByteArray(a->key.toUtf8() + " ")));
    QVERIFY(!ApiKeys::verify(live, ApiKeys::digest(a->key.toUtf8()).toHex())); // the stored hash is not a key

    ApiKeys::touch(*ws, ApiKeys::digest(a->key.toUtf8()), 1234);
    QCOMPARE(ApiKeys::list(*ws)[0].lastUsedAtUs, std::optional<qint64>(1234));

    QVERIFY2(ApiKeys::revoke(*ws, a->info.id, &error), qPrintable(error));
    live = ApiKeys::liveDigests(*ws);
    QCOMPARE(live.size(), 1);
    QVERIFY(!ApiKeys::verify(live, a->key.toUtf8()));
    QCOMPARE(ApiKeys::verify(live, b->key.toUtf8()), std::optional<qint64>(b->info.id));
    const auto list = ApiKeys::list(*ws);
    QVERIFY(!list[0].live());
    QVERIFY(list[0].revokedAtUs);
    QVERIFY(list[1].live());

    error.clear();
    QVERIFY(!ApiKeys::revoke(*ws, a->info.id, &error)); // already revoked
    QVERIFY(error.contains(QString::number(a->info.id)));
    error.clear();
    QVERIFY(!ApiKeys::revoke(*ws, 9999, &error));
    QVERIFY(!error.isEmpty());

    // Revocation persists.
    ws.reset();
    ws = openOrFail(path());
    QVERIFY(!ApiKeys::verify(ApiKeys::liveDigests(*ws), a->key.toUtf8()));
    QVERIFY(ApiKeys::verify(ApiKeys::liveDigests(*ws), b->key.toUtf8()));
}

void TestStorage::storeInsertDuplicateConflict()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    const DataSchema schema = schemaOf({{u"cpu_usage_hours_per_day"_s, FieldType::Float, false, {}}});
    UsageEventDefinition d = definitionOf(u"test 1"_s, {}, schema, DuplicatePolicy::Reject);
    QVERIFY(ws->createDefinition(d).isEmpty());
    EventStore store(*ws);

    const ValidatedEvent seed = validated(schema, R"({"data":{"cpu_usage_hours_per_day":5},"timestamp":"2023-05-21 09:30:38.731","customer_id":"cust"})");
    const ValidatedEvent sameAgain = validated(schema, R"({"customer_id":"cust","timestamp":1684661438.731,"data":{ "cpu_usage_hours_per_day" : 5 }})");
    const ValidatedEvent other = validated(schema, R"({"data":{"cpu_usage_hours_per_day":6},"timestamp":"2023-05-21 09:30:38.731","customer_id":"cust"})");

    QVERIFY(exec(ws->database(), u"BEGIN"_s));
    const StoreResult inserted = store.store(d, seed, u"http"_s, 111);
    QCOMPARE(inserted.outcome, StoreOutcome::Inserted);
    QVERIFY(inserted.rowId > 0);
    const StoreResult duplicate = store.store(d, sameAgain, u"http"_s, 222);
    QCOMPARE(duplicate.outcome, StoreOutcome::Duplicate);
    QCOMPARE(duplicate.rowId, inserted.rowId);
    const StoreResult conflict = store.store(d, other, u"http"_s, 333);
    QCOMPARE(conflict.outcome, StoreOutcome::Conflict);
    QCOMPARE(conflict.rowId, inserted.rowId);
    // Another customer or another time is another event.
    ValidatedEvent otherCustomer = seed;
    otherCustomer.customerId = u"cust2"_s;
    QCOMPARE(store.store(d, otherCustomer, u"http"_s, 444).outcome, StoreOutcome::Inserted);
    ValidatedEvent otherTime = seed;
    otherTime.timestampUs += 1;
    QCOMPARE(store.store(d, otherTime, u"http"_s, 555).outcome, StoreOutcome::Inserted);
    QVERIFY(exec(ws->database(), u"COMMIT"_s));

    QCOMPARE(ws->rowCount(d), 3);
    // The first write stands: the conflicting data was not written, and nothing audited.
    QSqlQuery q(ws->database());
    q.prepare(u"SELECT data, \"data.cpu_usage_hours_per_day\", received_at, source FROM \"usage_test_1\" WHERE id = ?"_s);
    q.addBindValue(inserted.rowId);
    QVERIFY(q.exec() && q.next());
    QCOMPARE(q.value(0).toString(), u"{\"cpu_usage_hours_per_day\":5}"_s);
    QCOMPARE(q.value(1).toDouble(), 5.0);
    QCOMPARE(q.value(2).toLongLong(), 111);
    QCOMPARE(q.value(3).toString(), u"http"_s);
    QCOMPARE(scalar(ws->database(), u"SELECT count(*) FROM audit_log"_s).toInt(), 0);

    // Still a conflict in a later transaction, from a new store (no cached state needed).
    EventStore fresh(*ws);
    QVERIFY(exec(ws->database(), u"BEGIN"_s));
    QCOMPARE(fresh.store(d, other, u"import"_s, 666).outcome, StoreOutcome::Conflict);
    QCOMPARE(fresh.store(d, seed, u"import"_s, 666).outcome, StoreOutcome::Duplicate);
    QVERIFY(exec(ws->database(), u"COMMIT"_s));
}

void TestStorage::storeOverwriteWritesAudit()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    const DataSchema schema = schemaOf({{u"n"_s, FieldType::Integer, false, {}}, {u"tag"_s, FieldType::String, false, {}}});
    UsageEventDefinition d = definitionOf(u"over"_s, {}, schema, DuplicatePolicy::Overwrite);
    QVERIFY(ws->createDefinition(d).isEmpty());
    EventStore store(*ws);

    QVERIFY(exec(ws->database(), u"BEGIN"_s));
    const StoreResult first = store.store(d, validated(schema, eventBody(u"c"_s, 10, R"({"n":1,"tag":"a"})")), u"http"_s, 1);
    QCOMPARE(first.outcome, StoreOutcome::Inserted);
    const StoreResult second = store.store(d, validated(schema, eventBody(u"c"_s, 10, R"({"n":2})")), u"console"_s, 2);
    QCOMPARE(second.outcome, StoreOutcome::Overwritten);
    QCOMPARE(second.rowId, first.rowId);
    // The same data again is a duplicate, not another overwrite.
    QCOMPARE(store.store(d, validated(schema, eventBody(u"c"_s, 10, R"({"n":2})")), u"http"_s, 3).outcome,
             StoreOutcome::Duplicate);
    QVERIFY(exec(ws->database(), u"COMMIT"_s));

    QCOMPARE(ws->rowCount(d), 1);
    QSqlQuery row(ws->database());
    QVERIFY(row.exec(u"SELECT data, \"data.n\", \"data.tag\", received_at, source FROM \"usage_over\""_s) && row.next());
    QCOMPARE(row.value(0).toString(), u"{\"n\":2}"_s);
    QCOMPARE(row.value(1).toLongLong(), 2);
    QVERIFY(row.value(2).isNull()); // every typed column is rewritten, not just the sent ones
    QCOMPARE(row.value(3).toLongLong(), 2);
    QCOMPARE(row.value(4).toString(), u"console"_s);
    row.finish();

    QSqlQuery audit(ws->database());
    QVERIFY(audit.exec(u"SELECT slug, row_id, action, before_json, after_json, actor, at FROM audit_log"_s));
    QVERIFY(audit.next());
    QCOMPARE(audit.value(0).toString(), u"over"_s);
    QCOMPARE(audit.value(1).toLongLong(), first.rowId);
    QCOMPARE(audit.value(2).toString(), u"overwrite"_s);
    QCOMPARE(audit.value(3).toString(), u"{\"n\":1,\"tag\":\"a\"}"_s);
    QCOMPARE(audit.value(4).toString(), u"{\"n\":2}"_s);
    QCOMPARE(audit.value(5).toString(), u"console"_s);
    QVERIFY(audit.value(6).toLongLong() > 0);
    QVERIFY(!audit.next()); // exactly one record
}

void TestStorage::storeRollbackLeavesNothing()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    const DataSchema schema = schemaOf({{u"n"_s, FieldType::Integer, false, {}}});
    UsageEventDefinition d = definitionOf(u"rb"_s, {}, schema, DuplicatePolicy::Overwrite);
    QVERIFY(ws->createDefinition(d).isEmpty());
    EventStore store(*ws);
    QVERIFY(exec(ws->database(), u"BEGIN"_s));
    QCOMPARE(store.store(d, validated(schema, eventBody(u"c"_s, 1, R"({"n":1})")), u"t"_s, 1).outcome, StoreOutcome::Inserted);
    QCOMPARE(store.store(d, validated(schema, eventBody(u"c"_s, 1, R"({"n":2})")), u"t"_s, 1).outcome,
             StoreOutcome::Overwritten);
    QVERIFY(exec(ws->database(), u"ROLLBACK"_s));
    QCOMPARE(ws->rowCount(d), 0);
    QCOMPARE(scalar(ws->database(), u"SELECT count(*) FROM audit_log"_s).toInt(), 0);
    // And the same event can be stored afterwards.
    QVERIFY(exec(ws->database(), u"BEGIN"_s));
    QCOMPARE(store.store(d, validated(schema, eventBody(u"c"_s, 1, R"({"n":1})")), u"t"_s, 1).outcome, StoreOutcome::Inserted);
    QVERIFY(exec(ws->database(), u"COMMIT"_s));
    QCOMPARE(ws->rowCount(d), 1);
}

void TestStorage::storeTypedValuesAndVerbatimText()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    DataSchema schema;
    for (FieldType t : FieldTypes::all())
        schema.fields.append({FieldTypes::name(t), t, false, {}});
    UsageEventDefinition d = definitionOf(u"types"_s, {}, schema);
    QVERIFY(ws->createDefinition(d).isEmpty());
    const QByteArray body = eventBody(u"'); DROP TABLE definitions; --"_s.replace(u"'"_s, u"\\u0027"_s), 1684661438, R"({
        "string": "Robert'); DROP TABLE usage_types; -- \u00e9",
        "integer": "9223372036854775807",
        "float": 2.5,
        "decimal": "12345678901234567890.123456789",
        "boolean": true,
        "date": "2024-02-29",
        "datetime": "2023-05-21 09:30:38.731",
        "uuid": "23507783-D5B4-4854-B012-2BF4EA922205",
        "array": [1, "two", {"three": 3}]})");
    EventStore store(*ws);
    QVERIFY(exec(ws->database(), u"BEGIN"_s));
    QCOMPARE(store.store(d, validated(schema, body), u"http"_s, 1).outcome, StoreOutcome::Inserted);
    QVERIFY(exec(ws->database(), u"COMMIT"_s));

    const bool pg = test::onPostgres();
    QSqlQuery q(ws->database());
    QString select = u"SELECT customer_id, \"data.string\", \"data.integer\", typeof(\"data.integer\"), \"data.float\", "
                     "typeof(\"data.float\"), \"data.decimal\", typeof(\"data.decimal\"), \"data.boolean\", \"data.date\", "
                     "\"data.datetime\", typeof(\"data.datetime\"), \"data.uuid\", \"data.array\" FROM \"usage_types\""_s;
    if (pg)
        select.replace(u"typeof("_s, u"pg_typeof("_s).replace(u"\"), "_s, u"\")::text, "_s);
    QVERIFY2(q.exec(select), qPrintable(q.lastError().text()));
    QVERIFY(q.next());
    QCOMPARE(q.value(0).toString(), u"'); DROP TABLE definitions; --"_s);
    QCOMPARE(q.value(1).toString(), u"Robert'); DROP TABLE usage_types; -- é"_s);
    QCOMPARE(q.value(2).toLongLong(), std::numeric_limits<qint64>::max());
    QCOMPARE(q.value(3).toString(), pg ? u"bigint"_s : u"integer"_s);
    QCOMPARE(q.value(4).toDouble(), 2.5);
    QCOMPARE(q.value(5).toString(), pg ? u"double precision"_s : u"real"_s);
    QCOMPARE(q.value(6).toString(), u"12345678901234567890.123456789"_s); // exact on both
    QCOMPARE(q.value(7).toString(), pg ? u"numeric"_s : u"text"_s);
    QCOMPARE(q.value(8).toInt(), 1);
    QCOMPARE(q.value(9).toString(), u"2024-02-29"_s);
    QCOMPARE(q.value(10).toLongLong(), 1684661438731000LL);
    QCOMPARE(q.value(11).toString(), pg ? u"bigint"_s : u"integer"_s);
    QCOMPARE(q.value(12).toString(), u"23507783-d5b4-4854-b012-2bf4ea922205"_s);
    // jsonb keeps the value, in its own spelling; `data` keeps the original text on both.
    QCOMPARE(q.value(13).toString(), pg ? u"[1, \"two\", {\"three\": 3}]"_s : u"[1,\"two\",{\"three\":3}]"_s);
    q.finish();
    verifyCoreTablesIntact(*ws);
    QVERIFY(hasTable(ws->database(), u"usage_types"_s));
}

void TestStorage::listFiltersAndKeysetCursor()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    const DataSchema schema = schemaOf({{u"n"_s, FieldType::Integer, false, {}}});
    UsageEventDefinition d = definitionOf(u"list"_s, {}, schema);
    QVERIFY(ws->createDefinition(d).isEmpty());
    EventStore store(*ws);
    QVERIFY(exec(ws->database(), u"BEGIN"_s));
    // 20 events: customers a/b alternating, one second apart; plus 3 sharing one timestamp.
    for (int i = 0; i < 20; ++i) {
        const QString customer = i % 2 ? u"b"_s : u"a"_s;
        QCOMPARE(store.store(d, validated(schema, eventBody(customer, 1000 + i, "{\"n\":" + QByteArray::number(i) + "}")),
                             u"t"_s, 1).outcome,
                 StoreOutcome::Inserted);
    }
    for (const QString &c : {u"x"_s, u"y"_s, u"z"_s})
        QCOMPARE(store.store(d, validated(schema, eventBody(c, 2000, R"({"n":99})")), u"t"_s, 1).outcome,
                 StoreOutcome::Inserted);
    QVERIFY(exec(ws->database(), u"COMMIT"_s));

    QString error;
    EventFilter all;
    all.limit = 1000;
    const QList<StoredEvent> everything = EventStore::list(*ws, d, all, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(everything.size(), 23);
    // Newest first; ties broken by id, newest first.
    for (qsizetype i = 1; i < everything.size(); ++i) {
        const auto &prev = everything[i - 1];
        const auto &cur = everything[i];
        QVERIFY(prev.timestampUs > cur.timestampUs || (prev.timestampUs == cur.timestampUs && prev.id > cur.id));
    }
    QCOMPARE(everything.first().timestampUs, 2000 * 1000000LL);
    QCOMPARE(everything.last().dataJson, QByteArray("{\"n\":0}"));
    QCOMPARE(everything.last().customerId, u"a"_s);

    EventFilter byCustomer;
    byCustomer.customerId = u"b"_s;
    byCustomer.limit = 1000;
    const auto bs = EventStore::list(*ws, d, byCustomer, &error);
    QCOMPARE(bs.size(), 10);
    for (const StoredEvent &e : bs)
        QCOMPARE(e.customerId, u"b"_s);

    EventFilter range;
    range.fromUs = 1005 * 1000000LL;
    range.toUs = 1010 * 1000000LL; // exclusive
    const auto inRange = EventStore::list(*ws, d, range, &error);
    QCOMPARE(inRange.size(), 5);
    QCOMPARE(inRange.first().timestampUs, 1009 * 1000000LL);
    QCOMPARE(inRange.last().timestampUs, 1005 * 1000000LL);

    EventFilter both = range;
    both.customerId = u"a"_s;
    const auto aInRange = EventStore::list(*ws, d, both, &error);
    QCOMPARE(aInRange.size(), 2); // 1006, 1008
    QCOMPARE(aInRange.first().timestampUs, 1008 * 1000000LL);

    // Keyset paging visits every row once, in order, with pages of 4.
    QList<StoredEvent> paged;
    EventFilter page;
    page.limit = 4;
    for (int guard = 0; guard < 100; ++guard) {
        const auto rows = EventStore::list(*ws, d, page, &error);
        QVERIFY(rows.size() <= 4);
        if (rows.isEmpty())
            break;
        paged += rows;
        page.before = qMakePair(rows.last().timestampUs, rows.last().id);
    }
    QCOMPARE(paged.size(), everything.size());
    for (qsizetype i = 0; i < paged.size(); ++i)
        QCOMPARE(paged[i].id, everything[i].id);

    // The JSON form of a stored row.
    const StoredEvent &e = everything.last();
    const auto json = JsonValue::parse(e.toJson());
    QVERIFY(json.ok);
    QCOMPARE(json.value.member("customer_id")->toString(), u"a"_s);
    QCOMPARE(json.value.member("timestamp")->toString(), u"1970-01-01T00:16:40.000Z"_s);
    QCOMPARE(json.value.member("data")->toJson(), QByteArray("{\"n\":0}"));
    QCOMPARE(json.value.member("source")->toString(), u"t"_s);
}

void TestStorage::hostileSlugsRefused_data()
{
    QTest::addColumn<QString>("slug");
    QTest::newRow("SQL injection") << u"\"; DROP TABLE definitions; --"_s;
    QTest::newRow("injection with single quote") << u"x'); DROP TABLE api_keys; --"_s;
    QTest::newRow("double quote") << u"a\"b"_s;
    QTest::newRow("single quote") << u"a'b"_s;
    QTest::newRow("semicolon") << u"a;b"_s;
    QTest::newRow("space") << u"a b"_s;
    QTest::newRow("dot") << u"main.definitions"_s;
    QTest::newRow("bracket") << u"[definitions]"_s;
    QTest::newRow("backtick") << u"`x`"_s;
    QTest::newRow("NUL") << QStringView(u"a\0b", 3).toString();
    QTest::newRow("newline") << u"a\nDROP"_s;
    QTest::newRow("Unicode") << u"café"_s;
    QTest::newRow("CJK") << u"日本"_s;
    QTest::newRow("RTL override") << u"abc\u202Edef"_s;
    QTest::newRow("10 KB") << QString(10240, u'a');
    QTest::newRow("10 KB injection") << (u"\"; DROP TABLE definitions; --"_s).repeated(350);
}

void TestStorage::hostileSlugsRefused()
{
    QFETCH(QString, slug);
    auto ws = openOrFail(path());
    QVERIFY(ws);
    UsageEventDefinition keep = definitionOf(u"keep me"_s, {}, schemaOf({{u"n"_s, FieldType::Integer, true, {}}}));
    QVERIFY(ws->createDefinition(keep).isEmpty());
    const QStringList tablesBefore = ws->database().tables();

    UsageEventDefinition hostile = definitionOf(u"hostile"_s, slug, schemaOf({{u"n"_s, FieldType::Integer, false, {}}}));
    const Problems problems = ws->createDefinition(hostile);
    QVERIFY(!problems.isEmpty());
    QCOMPARE(problems.first().code, ProblemCode::InvalidName);
    QCOMPARE(problems.first().pointer, u"slug"_s);
    QVERIFY(!problems.first().message.isEmpty());

    verifyCoreTablesIntact(*ws);
    QCOMPARE(ws->database().tables(), tablesBefore);
    QCOMPARE(scalar(ws->database(), u"SELECT count(*) FROM definitions"_s).toInt(), 1);
    const auto kept = ws->definition(u"keep_me"_s);
    QVERIFY(kept);
    QCOMPARE(kept->schema, keep.schema);
    // And after reopening.
    ws.reset();
    ws = openOrFail(path());
    QVERIFY(ws);
    QCOMPARE(ws->definitions().size(), 1);
}

void TestStorage::hostileFieldNamesRefused_data()
{
    QTest::addColumn<QString>("field");
    QTest::newRow("SQL injection") << u"x\"; DROP TABLE definitions; --"_s;
    QTest::newRow("quote-closing") << u"data\" TEXT); DROP TABLE api_keys; --"_s;
    QTest::newRow("double quote") << u"a\"b"_s;
    QTest::newRow("single quote") << u"a'b"_s;
    QTest::newRow("semicolon") << u"a;b"_s;
    QTest::newRow("space") << u"a b"_s;
    QTest::newRow("Unicode") << u"über"_s;
    QTest::newRow("NUL") << QStringView(u"n\0x", 3).toString();
    QTest::newRow("root field") << u"customer_id"_s;
    QTest::newRow("empty segment") << u"a..b"_s;
    QTest::newRow("10 KB") << QString(10240, u'f');
}

void TestStorage::hostileFieldNamesRefused()
{
    QFETCH(QString, field);
    auto ws = openOrFail(path());
    QVERIFY(ws);
    UsageEventDefinition keep = definitionOf(u"keep"_s, {}, schemaOf({{u"n"_s, FieldType::Integer, false, {}}}));
    QVERIFY(ws->createDefinition(keep).isEmpty());
    const QStringList tablesBefore = ws->database().tables();

    // On create.
    UsageEventDefinition hostile = definitionOf(u"hostile"_s, {}, schemaOf({{u"ok"_s, FieldType::String, false, {}},
                                                                             {field, FieldType::String, false, {}}}));
    Problems problems = ws->createDefinition(hostile);
    QCOMPARE(problems.size(), 1);
    QCOMPARE(problems.first().pointer, u"schema/fields/1"_s);
    QCOMPARE(problems.first().code, ProblemCode::InvalidName);
    QVERIFY(!ws->definition(u"hostile"_s));

    // On update of an existing definition.
    UsageEventDefinition changed = keep;
    changed.schema.fields.append({field, FieldType::Integer, false, {}});
    problems = ws->updateDefinition(u"keep"_s, changed);
    QVERIFY(!problems.isEmpty());
    QCOMPARE(problems.first().pointer, u"schema/fields/1"_s);

    verifyCoreTablesIntact(*ws);
    QCOMPARE(ws->database().tables(), tablesBefore);
    QCOMPARE(ws->definition(u"keep"_s)->schema, keep.schema);
    // id, customer_id, timestamp, data.n, data, received_at, source, edited: no column was added.
    QCOMPARE(columnTypes(ws->database(), u"usage_keep"_s).size(), 8);
}

void TestStorage::hostileDisplayNamesStoredVerbatim()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    // A display name is data, not an identifier: stored as typed, its slug derived safely.
    const QString injection = u"\"; DROP TABLE definitions; --"_s;
    UsageEventDefinition d = definitionOf(injection, {}, {});
    QVERIFY2(ws->createDefinition(d).isEmpty(), "create failed");
    QCOMPARE(d.slug, u"drop_table_definitions"_s);
    QCOMPARE(ws->definition(d.slug)->name, injection);

    UsageEventDefinition unicode = definitionOf(u"Über Usage 日本 🔥"_s, {}, {});
    QVERIFY(ws->createDefinition(unicode).isEmpty());
    QCOMPARE(unicode.slug, u"uber_usage"_s);
    QCOMPARE(ws->definition(u"uber_usage"_s)->name, u"Über Usage 日本 🔥"_s);

    UsageEventDefinition huge = definitionOf(QString(10240, u'n'), u"huge"_s, {});
    const Problems problems = ws->createDefinition(huge);
    QCOMPARE(problems.size(), 1);
    QCOMPARE(problems.first().pointer, u"name"_s);
    QVERIFY(problems.first().message.contains(u"200"_s));

    verifyCoreTablesIntact(*ws);
    QCOMPARE(ws->definitions().size(), 2);
}

void TestStorage::hostileLookupsAreHarmless()
{
    auto ws = openOrFail(path());
    QVERIFY(ws);
    UsageEventDefinition keep = definitionOf(u"keep"_s, {}, {});
    QVERIFY(ws->createDefinition(keep).isEmpty());
    const QStringList hostile = {u"\"; DROP TABLE definitions; --"_s, u"keep' OR '1'='1"_s, u"%"_s, u"_eep"_s,
                                 QString(10240, u'k')};
    for (const QString &slug : hostile) {
        QVERIFY2(!ws->definition(slug), qPrintable(slug.left(40)));
        QString error;
        QVERIFY(!ws->removeDefinition(slug, &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(!ws->updateDefinition(slug, keep).isEmpty());
    }
    verifyCoreTablesIntact(*ws);
    QVERIFY(ws->definition(u"keep"_s));
    QVERIFY(hasTable(ws->database(), u"usage_keep"_s));
}

QTEST_GUILESS_MAIN(TestStorage)
#include "tst_storage.moc"
