// The scripting CLI (DESIGN.md §7), run as the real binary against a database in a
// temporary folder. Exit codes: 0 ok, 1 failure, 2 usage.
#include "dataschema.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using namespace meterdesk;
using namespace Qt::StringLiterals;

namespace {

struct Run
{
    int exitCode = -1;
    QString out;
    QString err;
    QStringList errLines() const { return err.split(u'\n', Qt::SkipEmptyParts); }
    QStringList outLines() const { return out.split(u'\n', Qt::SkipEmptyParts); }
};

QString describe(const Run &r)
{
    return u"exit %1\nstdout: %2\nstderr: %3"_s.arg(r.exitCode).arg(r.out, r.err);
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void eventsAddFromSample();
    void eventsAddFromSeedEnvelope();
    void eventsListJsonShowsSchema();
    void eventsAddWithSchemaSlugAndPolicy();
    void eventsRemove();
    void keysCreateListRevoke();
    void keysListJson();
    void orgIsStableAndReopenKeepsEverything();
    void usageErrorsExit2_data();
    void usageErrorsExit2();
    void failuresExit1WithOneLine_data();
    void failuresExit1WithOneLine();
    void helpMentionsEverySubcommand();
    void importExitCodesAndSummary();
    void importWithMapAndRejects();
    void importFailuresExit1();
    void exportToStdoutReadsBack();
    void exportFiltersAndFiles();
    void version();

private:
    Run run(const QStringList &args, bool withDatabase = true);
    QString writeFile(const QString &name, const QByteArray &bytes);
    QString db() const { return m_dir->filePath(u"workspace.db"_s); }

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestCli::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    const QFileInfo binary(QString::fromUtf8(MDK_BINARY));
    QVERIFY2(binary.isExecutable(), MDK_BINARY);
}

void TestCli::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestCli::cleanup()
{
    m_dir.reset();
}

Run TestCli::run(const QStringList &args, bool withDatabase)
{
    QProcess p;
    p.setProgram(QString::fromUtf8(MDK_BINARY));
    p.setArguments(withDatabase ? QStringList{u"--database"_s, db()} + args : args);
    p.setWorkingDirectory(m_dir->path());
    // Keep the real user's data folder out of reach, whatever the command does.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"HOME"_s, m_dir->path());
    env.insert(u"XDG_DATA_HOME"_s, m_dir->filePath(u"xdg-data"_s));
    env.insert(u"XDG_CONFIG_HOME"_s, m_dir->filePath(u"xdg-config"_s));
    env.insert(u"QT_QPA_PLATFORM"_s, u"offscreen"_s);
    p.setProcessEnvironment(env);
    p.start();
    Run r;
    if (!p.waitForStarted(10000) || !p.waitForFinished(30000)) {
        p.kill();
        p.waitForFinished();
        r.err = u"did not run: "_s + p.errorString();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QString TestCli::writeFile(const QString &name, const QByteArray &bytes)
{
    QString path = m_dir->filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

void TestCli::eventsAddFromSample()
{
    const QString sample = writeFile(u"s.json"_s, R"({"cpu_usage_hours_per_day": "5"})");
    const Run add = run({u"events"_s, u"add"_s, u"--name"_s, u"a raw metric"_s, u"--sample"_s, sample});
    QVERIFY2(add.exitCode == 0, qPrintable(describe(add)));
    QVERIFY(add.out.contains(u"a_raw_metric"_s));
    QVERIFY(add.out.contains(u"/usage/a_raw_metric"_s));
    QVERIFY2(add.err.isEmpty(), qPrintable(add.err));
    QVERIFY(QFile::exists(db()));

    const Run list = run({u"events"_s, u"list"_s});
    QCOMPARE(list.exitCode, 0);
    QCOMPARE(list.outLines(), QStringList{u"a_raw_metric\ta raw metric\t0 rows\tcpu_usage_hours_per_day:float"_s});
}

void TestCli::eventsAddFromSeedEnvelope()
{
    // The seed's whole example (envelope included) works as a sample too.
    const QString sample = writeFile(u"seed.json"_s, "{\n    \"data\": {\n        \"cpu_usage_hours_per_day\": \"5\"\n    },\n"
                                                     "    \"timestamp\": \"2023-05-21 09:30:38.731\",\n"
                                                     "    \"customer_id\": \"[email\xc2\xac\xe2\x80\xa0protected]\"\n}");
    const Run add = run({u"events"_s, u"add"_s, u"--name"_s, u"Test 1"_s, u"--sample"_s, sample});
    QVERIFY2(add.exitCode == 0, qPrintable(describe(add)));
    QVERIFY(add.out.contains(u"test_1 (1 fields)"_s));
    const Run list = run({u"events"_s, u"list"_s});
    QVERIFY2(list.out.contains(u"test_1\tTest 1\t0 rows\tcpu_usage_hours_per_day:float"_s), qPrintable(list.out));
}

void TestCli::eventsListJsonShowsSchema()
{
    const QString sample = writeFile(u"s.json"_s, R"({"cpu_usage_hours_per_day": "5", "usage": {"region": "eu"}})");
    QCOMPARE(run({u"events"_s, u"add"_s, u"--name"_s, u"a raw metric"_s, u"--sample"_s, sample}).exitCode, 0);

    const Run list = run({u"events"_s, u"list"_s, u"--json"_s});
    QVERIFY2(list.exitCode == 0, qPrintable(describe(list)));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(list.out.toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    QVERIFY(doc.isArray());
    QCOMPARE(doc.array().size(), 1);
    const QJsonObject e = doc.array().first().toObject();
    QCOMPARE(e.value(u"slug"_s).toString(), u"a_raw_metric"_s);
    QCOMPARE(e.value(u"name"_s).toString(), u"a raw metric"_s);
    QCOMPARE(e.value(u"table"_s).toString(), u"usage_a_raw_metric"_s);
    QCOMPARE(e.value(u"duplicate_policy"_s).toString(), u"reject"_s);
    QCOMPARE(e.value(u"rows"_s).toInt(-1), 0);
    QVERIFY(e.value(u"created_at"_s).toString().endsWith(u'Z'));

    const QJsonObject schema = e.value(u"schema"_s).toObject();
    QCOMPARE(schema.value(u"properties"_s).toObject().value(u"cpu_usage_hours_per_day"_s).toObject().value(u"type"_s).toString(),
             u"number"_s);
    Problems problems;
    const auto parsed = DataSchema::fromJsonSchema(schema, &problems);
    QVERIFY(parsed);
    QCOMPARE(parsed->fields.size(), 2);
    QCOMPARE(parsed->field(u"cpu_usage_hours_per_day"_s)->type, FieldType::Float);
    QCOMPARE(parsed->field(u"usage.region"_s)->type, FieldType::String);

    // No events yet: an empty array, not an error.
    QVERIFY(QFile::remove(db()));
    const Run empty = run({u"events"_s, u"list"_s, u"--json"_s});
    QCOMPARE(empty.exitCode, 0);
    QCOMPARE(QJsonDocument::fromJson(empty.out.toUtf8()).array().size(), 0);
}

void TestCli::eventsAddWithSchemaSlugAndPolicy()
{
    const QString schema = writeFile(u"schema.json"_s, R"({
        "type": "object",
        "required": ["amount"],
        "properties": {
            "amount": {"type": "string", "format": "decimal", "description": "money"},
            "seats": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"}
        }})");
    const Run add = run({u"events"_s, u"add"_s, u"--name"_s, u"Seats"_s, u"--slug"_s, u"Seats-v2"_s, u"--policy"_s,
                         u"overwrite"_s, u"--schema"_s, schema});
    QVERIFY2(add.exitCode == 0, qPrintable(describe(add)));
    QVERIFY(add.out.contains(u"Seats-v2 (3 fields)"_s));
    const Run list = run({u"events"_s, u"list"_s, u"--json"_s});
    const QJsonObject e = QJsonDocument::fromJson(list.out.toUtf8()).array().first().toObject();
    QCOMPARE(e.value(u"slug"_s).toString(), u"Seats-v2"_s);
    QCOMPARE(e.value(u"duplicate_policy"_s).toString(), u"overwrite"_s);
    const auto parsed = DataSchema::fromJsonSchema(e.value(u"schema"_s).toObject(), nullptr);
    QVERIFY(parsed);
    QCOMPARE(parsed->field(u"amount"_s)->type, FieldType::Decimal);
    QCOMPARE(parsed->field(u"amount"_s)->required, true);
    QCOMPARE(parsed->field(u"amount"_s)->description, u"money"_s);
    QCOMPARE(parsed->field(u"seats"_s)->type, FieldType::Integer);
    QCOMPARE(parsed->field(u"at"_s)->type, FieldType::DateTime);

    // No sample and no schema: an event with an empty data schema.
    const Run bare = run({u"events"_s, u"add"_s, u"--name"_s, u"bare"_s});
    QVERIFY2(bare.exitCode == 0, qPrintable(describe(bare)));
    QVERIFY(bare.out.contains(u"bare (0 fields)"_s));
}

void TestCli::eventsRemove()
{
    QCOMPARE(run({u"events"_s, u"add"_s, u"--name"_s, u"gone soon"_s}).exitCode, 0);
    QCOMPARE(run({u"events"_s, u"add"_s, u"--name"_s, u"stays"_s}).exitCode, 0);
    const Run remove = run({u"events"_s, u"remove"_s, u"gone_soon"_s});
    QVERIFY2(remove.exitCode == 0, qPrintable(describe(remove)));
    QVERIFY(remove.out.contains(u"gone_soon"_s));
    const Run list = run({u"events"_s, u"list"_s});
    QCOMPARE(list.outLines().size(), 1);
    QVERIFY(list.out.startsWith(u"stays\t"_s));

    const Run again = run({u"events"_s, u"remove"_s, u"gone_soon"_s});
    QCOMPARE(again.exitCode, 1);
    QCOMPARE(again.errLines().size(), 1);
    QVERIFY(again.err.contains(u"gone_soon"_s));
}

void TestCli::keysCreateListRevoke()
{
    const Run create = run({u"keys"_s, u"create"_s, u"--name"_s, u"ci"_s});
    QVERIFY2(create.exitCode == 0, qPrintable(describe(create)));
    // stdout is exactly the key, so `KEY=$(meterdesk keys create)` works.
    QCOMPARE(create.outLines().size(), 1);
    const QString key = create.outLines().first();
    QVERIFY(key.startsWith(u"mdk_"_s));
    QVERIFY(QRegularExpression(u"^mdk_[A-Za-z0-9_-]{40,}$"_s).match(key).hasMatch());
    QVERIFY2(create.err.contains(u"only now"_s), qPrintable(create.err));
    QVERIFY(!create.err.contains(key));

    const Run second = run({u"keys"_s, u"create"_s});
    QCOMPARE(second.exitCode, 0);
    const QString key2 = second.outLines().first();
    QVERIFY(key2 != key);

    const Run list = run({u"keys"_s, u"list"_s});
    QCOMPARE(list.exitCode, 0);
    QCOMPARE(list.outLines().size(), 2);
    QVERIFY(!list.out.contains(key));   // never the full key again
    QVERIFY(!list.out.contains(key2));
    QVERIFY(!list.out.contains(key.mid(12)));
    const QStringList first = list.outLines().first().split(u'\t');
    QCOMPARE(first.value(0), u"1"_s);
    QCOMPARE(first.value(1), u"ci"_s);
    QVERIFY(key.startsWith(first.value(2).chopped(1))); // the prefix, with an ellipsis
    QCOMPARE(first.value(4), u"live"_s);

    const Run revoke = run({u"keys"_s, u"revoke"_s, u"1"_s});
    QVERIFY2(revoke.exitCode == 0, qPrintable(describe(revoke)));
    QVERIFY(revoke.out.contains(u"revoked key 1"_s));
    const Run after = run({u"keys"_s, u"list"_s});
    QCOMPARE(after.outLines().first().split(u'\t').value(4), u"revoked"_s);
    QCOMPARE(after.outLines().last().split(u'\t').value(4), u"live"_s);

    const Run again = run({u"keys"_s, u"revoke"_s, u"1"_s});
    QCOMPARE(again.exitCode, 1);
    QCOMPARE(again.errLines().size(), 1);
    QVERIFY(again.err.startsWith(u"meterdesk: "_s));
    QVERIFY(again.out.isEmpty());

    const Run unknown = run({u"keys"_s, u"revoke"_s, u"42"_s});
    QCOMPARE(unknown.exitCode, 1);
}

void TestCli::keysListJson()
{
    const QString key = run({u"keys"_s, u"create"_s, u"--name"_s, u"json"_s}).outLines().value(0);
    QVERIFY(key.startsWith(u"mdk_"_s));
    const Run list = run({u"keys"_s, u"list"_s, u"--json"_s});
    QCOMPARE(list.exitCode, 0);
    QVERIFY(!list.out.contains(key));
    const QJsonArray keys = QJsonDocument::fromJson(list.out.toUtf8()).array();
    QCOMPARE(keys.size(), 1);
    const QJsonObject k = keys.first().toObject();
    QCOMPARE(k.value(u"id"_s).toInt(), 1);
    QCOMPARE(k.value(u"name"_s).toString(), u"json"_s);
    QCOMPARE(k.value(u"prefix"_s).toString(), key.left(12));
    QCOMPARE(k.value(u"live"_s).toBool(), true);
}

void TestCli::orgIsStableAndReopenKeepsEverything()
{
    const Run first = run({u"org"_s});
    QVERIFY2(first.exitCode == 0, qPrintable(describe(first)));
    const QString org = first.out.trimmed();
    QVERIFY2(!QUuid::fromString(org).isNull(), qPrintable(org));
    QVERIFY(QRegularExpression(u"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"_s).match(org).hasMatch());

    QCOMPARE(run({u"events"_s, u"add"_s, u"--name"_s, u"kept"_s}).exitCode, 0);
    const QString key = run({u"keys"_s, u"create"_s}).outLines().value(0);
    QVERIFY(!key.isEmpty());

    const Run second = run({u"org"_s});
    QCOMPARE(second.exitCode, 0);
    QCOMPARE(second.out.trimmed(), org);
    QVERIFY(run({u"events"_s, u"list"_s}).out.startsWith(u"kept\t"_s));
    QCOMPARE(run({u"keys"_s, u"list"_s}).outLines().size(), 1);

    // Another database is another organisation.
    const Run other = run({u"--database"_s, m_dir->filePath(u"other.db"_s), u"org"_s}, false);
    QCOMPARE(other.exitCode, 0);
    QVERIFY(other.out.trimmed() != org);
}

void TestCli::usageErrorsExit2_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::newRow("unknown command") << QStringList{u"frobnicate"_s};
    QTest::newRow("events add without --name") << QStringList{u"events"_s, u"add"_s};
    QTest::newRow("events add with a bad policy") << QStringList{u"events"_s, u"add"_s, u"--name"_s, u"x"_s,
                                                                 u"--policy"_s, u"sometimes"_s};
    QTest::newRow("events without a verb") << QStringList{u"events"_s};
    QTest::newRow("events with an unknown verb") << QStringList{u"events"_s, u"drop"_s};
    QTest::newRow("events remove without a slug") << QStringList{u"events"_s, u"remove"_s};
    QTest::newRow("keys without a verb") << QStringList{u"keys"_s};
    QTest::newRow("keys revoke without an id") << QStringList{u"keys"_s, u"revoke"_s};
    QTest::newRow("keys revoke with a non-number") << QStringList{u"keys"_s, u"revoke"_s, u"abc"_s};
    QTest::newRow("unknown option") << QStringList{u"--bogus"_s, u"org"_s};
    QTest::newRow("option missing its value") << QStringList{u"events"_s, u"add"_s, u"--name"_s};
    QTest::newRow("import without a file") << QStringList{u"import"_s, u"metric"_s};
    QTest::newRow("import of an unknown format") << QStringList{u"import"_s, u"metric"_s, u"rows.xlsx"_s};
    QTest::newRow("import with a bad --map") << QStringList{u"import"_s, u"metric"_s, u"rows.csv"_s, u"--map"_s, u"cpu"_s};
    QTest::newRow("export without a slug") << QStringList{u"export"_s};
    QTest::newRow("export in an unknown format") << QStringList{u"export"_s, u"metric"_s, u"--format"_s, u"xml"_s};
    QTest::newRow("export from a bad time") << QStringList{u"export"_s, u"metric"_s, u"--from"_s, u"yesterday"_s};
}

void TestCli::usageErrorsExit2()
{
    QFETCH(QStringList, args);
    const Run r = run(args);
    QVERIFY2(r.exitCode == 2, qPrintable(describe(r)));
    QCOMPARE(r.errLines().size(), 1);
    QVERIFY(r.err.startsWith(u"meterdesk: "_s));
    QVERIFY(r.out.isEmpty());
    // A usage error touches nothing: no database file appears.
    QVERIFY2(!QFile::exists(db()), "a usage error created the database");
}

void TestCli::failuresExit1WithOneLine_data()
{
    QTest::addColumn<QString>("setup"); // what to prepare first
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");

    QTest::newRow("duplicate slug") << u"event"_s << QStringList{u"events"_s, u"add"_s, u"--name"_s, u"A Raw Metric"_s}
                                    << u"a_raw_metric"_s;
    QTest::newRow("duplicate slug, other case") << u"event"_s
                                                << QStringList{u"events"_s, u"add"_s, u"--name"_s, u"x"_s, u"--slug"_s,
                                                               u"A_RAW_METRIC"_s}
                                                << u"A_RAW_METRIC"_s;
    QTest::newRow("unreadable sample file") << QString()
                                            << QStringList{u"events"_s, u"add"_s, u"--name"_s, u"x"_s, u"--sample"_s,
                                                           u"missing.json"_s}
                                            << u"missing.json"_s;
    QTest::newRow("sample is not JSON") << u"garbage"_s
                                        << QStringList{u"events"_s, u"add"_s, u"--name"_s, u"x"_s, u"--sample"_s,
                                                       u"garbage.json"_s}
                                        << u"garbage.json"_s;
    QTest::newRow("unreadable schema file") << QString()
                                            << QStringList{u"events"_s, u"add"_s, u"--name"_s, u"x"_s, u"--schema"_s,
                                                           u"nope.json"_s}
                                            << u"nope.json"_s;
    QTest::newRow("schema refused") << u"bad-schema"_s
                                    << QStringList{u"events"_s, u"add"_s, u"--name"_s, u"x"_s, u"--schema"_s,
                                                   u"bad-schema.json"_s}
                                    << u"customer_id"_s;
    QTest::newRow("hostile slug") << QString()
                                  << QStringList{u"events"_s, u"add"_s, u"--name"_s, u"x"_s, u"--slug"_s,
                                                 u"x\"; DROP TABLE definitions; --"_s}
                                  << u"slug"_s;
    QTest::newRow("remove unknown") << QString() << QStringList{u"events"_s, u"remove"_s, u"nothing"_s} << u"nothing"_s;
    QTest::newRow("corrupt database") << u"corrupt"_s << QStringList{u"org"_s} << u"workspace.db"_s;
}

void TestCli::failuresExit1WithOneLine()
{
    QFETCH(QString, setup);
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);

    if (setup == u"event"_s)
        QCOMPARE(run({u"events"_s, u"add"_s, u"--name"_s, u"a raw metric"_s}).exitCode, 0);
    else if (setup == u"garbage"_s)
        writeFile(u"garbage.json"_s, "{ not json");
    else if (setup == u"bad-schema"_s)
        writeFile(u"bad-schema.json"_s, R"({"properties": {"customer_id": {"type": "string"}}})");
    else if (setup == u"corrupt"_s)
        writeFile(u"workspace.db"_s, QByteArray(4096, '\x5a'));
    const QByteArray dbBefore = [this] {
        QFile f(db());
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();

    const Run r = run(args);
    QVERIFY2(r.exitCode == 1, qPrintable(describe(r)));
    QCOMPARE(r.errLines().size(), 1);
    QVERIFY(r.err.startsWith(u"meterdesk: "_s));
    QVERIFY2(r.err.contains(mentions), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());

    if (setup == u"corrupt"_s) {
        QFile f(db());
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), dbBefore);
    }
    if (setup == u"event"_s)
        QCOMPARE(run({u"events"_s, u"list"_s}).outLines().size(), 1);
}

void TestCli::helpMentionsEverySubcommand()
{
    const Run help = run({u"--help"_s}, false);
    QVERIFY2(help.exitCode == 0, qPrintable(describe(help)));
    for (const QString &text : {u"events add"_s, u"events list"_s, u"events remove"_s, u"keys create"_s,
                                u"keys list"_s, u"keys revoke"_s, u"org"_s, u"--headless"_s, u"--listen"_s,
                                u"--database"_s, u"--sample"_s, u"--schema"_s, u"--slug"_s, u"--policy"_s,
                                u"--json"_s, u"Exit codes"_s, u"import SLUG"_s, u"export SLUG"_s, u"--map"_s,
                                u"--rejects"_s, u"--format"_s, u"--output"_s, u"--customer"_s, u"--from"_s, u"--to"_s})
        QVERIFY2(help.out.contains(text), qPrintable(text));
    QVERIFY(help.err.isEmpty());
    // --help wins over a subcommand, and creates nothing.
    const Run helpWithCommand = run({u"events"_s, u"add"_s, u"--help"_s});
    QCOMPARE(helpWithCommand.exitCode, 0);
    QVERIFY(helpWithCommand.out.contains(u"keys revoke"_s));
    QVERIFY(!QFile::exists(db()));
}

void TestCli::version()
{
    const Run r = run({u"--version"_s}, false);
    QVERIFY2(r.exitCode == 0, qPrintable(describe(r)));
    QCOMPARE(r.out.trimmed(), u"meterdesk "_s + QString::fromLatin1(MDK_VERSION));
    QVERIFY(QRegularExpression(u"^meterdesk \\d+\\.\\d+\\.\\d+$"_s).match(r.out.trimmed()).hasMatch());
}

namespace {

const QByteArray kSchema = R"({"type": "object", "properties": {
    "cpu": {"type": "number"}, "amount": {"type": ["number", "string"], "format": "decimal"},
    "region": {"type": "string"}}})";

} // namespace

void TestCli::importExitCodesAndSummary()
{
    const QString schema = writeFile(u"schema.json"_s, kSchema);
    QCOMPARE(run({u"events"_s, u"add"_s, u"--name"_s, u"metric"_s, u"--schema"_s, schema}).exitCode, 0);
    const QString good = writeFile(u"good.csv"_s, "customer_id,timestamp,cpu,amount,region\r\n"
                                                  "acme,2023-05-21 09:30:38.731,5,12.50,eu\r\n"
                                                  "beta,2023-05-21 09:30:39,\"1.5\",0.10,\"us, east\"\r\n");
    const Run first = run({u"import"_s, u"metric"_s, good});
    QVERIFY2(first.exitCode == 0, qPrintable(describe(first)));
    QCOMPARE(first.out, u"2 rows: 2 stored, 0 duplicates, 0 conflicts, 0 rejected\n"_s);
    QVERIFY(first.err.isEmpty());

    // Again: nothing new, nothing wrong.
    const Run again = run({u"import"_s, u"metric"_s, good});
    QVERIFY2(again.exitCode == 0, qPrintable(describe(again)));
    QCOMPARE(again.out, u"2 rows: 0 stored, 2 duplicates, 0 conflicts, 0 rejected\n"_s);

    // One bad row fails the command; the good ones are stored all the same.
    const QString bad = writeFile(u"bad.csv"_s, "customer_id,timestamp,cpu\n"
                                                "gamma,2023-05-22 00:00:00,7\n"
                                                "gamma,2023-05-22 00:00:01,lots\n");
    const Run mixed = run({u"import"_s, u"metric"_s, bad});
    QVERIFY2(mixed.exitCode == 1, qPrintable(describe(mixed)));
    QCOMPARE(mixed.outLines(), (QStringList{u"2 rows: 1 stored, 0 duplicates, 0 conflicts, 1 rejected"_s,
                                            u"line 3: cpu: expected a number (or a numeric string), got \"lots\""_s}));
    QVERIFY(run({u"events"_s, u"list"_s}).out.contains(u"\t3 rows\t"_s));

    // A conflict (same customer and time, other data) is not stored either: exit 1.
    const QString conflict = writeFile(u"conflict.ndjson"_s,
                                       R"({"customer_id":"acme","timestamp":"2023-05-21T09:30:38.731Z","data":{"cpu":6}})");
    const Run c = run({u"import"_s, u"metric"_s, conflict});
    QVERIFY2(c.exitCode == 1, qPrintable(describe(c)));
    QVERIFY(c.out.startsWith(u"1 row: 0 stored, 0 duplicates, 1 conflict, 0 rejected\nline 1: conflict"_s));
}

void TestCli::importWithMapAndRejects()
{
    const QString schema = writeFile(u"schema.json"_s, kSchema);
    QCOMPARE(run({u"events"_s, u"add"_s, u"--name"_s, u"metric"_s, u"--schema"_s, schema}).exitCode, 0);
    const QString file = writeFile(u"renamed.csv"_s, "cust,when,cpu_hours,note\n"
                                                     "acme,2024-01-01T00:00:00Z,5,x\n"
                                                     ",2024-01-01T00:00:01Z,6,\"a, b\"\n");
    const Run unmapped = run({u"import"_s, u"metric"_s, file});
    QVERIFY2(unmapped.exitCode == 1, qPrintable(describe(unmapped)));
    QCOMPARE(unmapped.errLines().size(), 1);
    QVERIFY(unmapped.err.contains(u"column \"cust\" is not a field"_s));
    QVERIFY(unmapped.out.isEmpty());

    const QString rejects = m_dir->filePath(u"rejects.csv"_s);
    const Run mapped = run({u"import"_s, u"metric"_s, file, u"--map"_s, u"cust=customer_id"_s, u"--map"_s,
                            u"when=timestamp"_s, u"--map"_s, u"cpu_hours=cpu"_s, u"--map"_s, u"note="_s,
                            u"--rejects"_s, rejects});
    QVERIFY2(mapped.exitCode == 1, qPrintable(describe(mapped)));
    QCOMPARE(mapped.outLines().value(0), u"2 rows: 1 stored, 0 duplicates, 0 conflicts, 1 rejected"_s);
    QCOMPARE(mapped.outLines().value(1), u"line 3: cust: customer_id is missing; every event names its customer"_s);
    QFile f(rejects);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("cust,when,cpu_hours,note,line,reason\r\n"
                                     ",2024-01-01T00:00:01Z,6,\"a, b\",3,cust: customer_id is missing; every event names its customer\r\n"));
}

void TestCli::importFailuresExit1()
{
    const QString file = writeFile(u"rows.csv"_s, "customer_id,timestamp\nacme,2024-01-01T00:00:00Z\n");
    const Run missing = run({u"import"_s, u"metric"_s, m_dir->filePath(u"nope.csv"_s)});
    QVERIFY2(missing.exitCode == 1, qPrintable(describe(missing)));
    QVERIFY(missing.err.contains(u"nope.csv"_s));
    QVERIFY(!QFile::exists(db())); // found before the workspace is opened

    const Run unknown = run({u"import"_s, u"metric"_s, file});
    QVERIFY2(unknown.exitCode == 1, qPrintable(describe(unknown)));
    QCOMPARE(unknown.errLines().size(), 1);
    QVERIFY(unknown.err.contains(u"no usage event \"metric\""_s));
    QVERIFY(run({u"export"_s, u"metric"_s}).exitCode == 1);
}

void TestCli::exportToStdoutReadsBack()
{
    const QString schema = writeFile(u"schema.json"_s, kSchema);
    QCOMPARE(run({u"events"_s, u"add"_s, u"--name"_s, u"metric"_s, u"--schema"_s, schema}).exitCode, 0);
    const QString events = writeFile(u"events.ndjson"_s,
        R"({"customer_id":"acme","timestamp":"2023-05-21 09:30:38.731","data":{"cpu":5,"amount":12.50,"region":"eu, \"west\""}})" "\n"
        R"({"customer_id":"beta","timestamp":1684661439,"data":{"cpu":1.5,"region":"two\nlines"}})" "\n"
        R"({"customer_id":"acme","timestamp":"2023-05-21T11:30:40+02:00","data":{"amount":"-0.001"}})" "\n");
    QCOMPARE(run({u"import"_s, u"metric"_s, events}).exitCode, 0);

    const Run csv = run({u"export"_s, u"metric"_s});
    QVERIFY2(csv.exitCode == 0, qPrintable(describe(csv)));
    QVERIFY(csv.err.isEmpty());
    // JSON Schema properties come back in name order: amount, cpu, region.
    QVERIFY2(csv.out.startsWith(u"customer_id,timestamp,amount,cpu,region\r\n"
                                "acme,2023-05-21T09:30:38.731Z,12.50,5,\"eu, \"\"west\"\"\"\r\n"_s), qPrintable(csv.out));
    // What export printed, import reads back into another workspace: the same rows.
    const QString copy = writeFile(u"copy.csv"_s, csv.out.toUtf8());
    const QString other = m_dir->filePath(u"other.db"_s);
    QCOMPARE(run({u"--database"_s, other, u"events"_s, u"add"_s, u"--name"_s, u"metric"_s, u"--schema"_s, schema}, false).exitCode, 0);
    const Run back = run({u"--database"_s, other, u"import"_s, u"metric"_s, copy}, false);
    QVERIFY2(back.exitCode == 0, qPrintable(describe(back)));
    QCOMPARE(back.out, u"3 rows: 3 stored, 0 duplicates, 0 conflicts, 0 rejected\n"_s);
    const Run again = run({u"--database"_s, other, u"export"_s, u"metric"_s}, false);
    QCOMPARE(again.out, csv.out);

    const Run nd = run({u"export"_s, u"metric"_s, u"--format"_s, u"ndjson"_s});
    QVERIFY2(nd.exitCode == 0, qPrintable(describe(nd)));
    QCOMPARE(nd.outLines().size(), 3);
    QStringList customers;
    for (const QString &line : nd.outLines()) {
        QJsonParseError error;
        const QJsonObject o = QJsonDocument::fromJson(line.toUtf8(), &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(line));
        QVERIFY(o.value(u"data"_s).isObject());
        QVERIFY(o.value(u"timestamp"_s).toString().endsWith(u'Z'));
        customers.append(o.value(u"customer_id"_s).toString());
    }
    QCOMPARE(customers, (QStringList{u"acme"_s, u"beta"_s, u"acme"_s}));
    QCOMPARE(nd.outLines().value(1), uR"({"data":{"cpu":1.5,"region":"two\nlines"},"timestamp":"2023-05-21T09:30:39.000Z","customer_id":"beta"})"_s);
}

void TestCli::exportFiltersAndFiles()
{
    const QString schema = writeFile(u"schema.json"_s, kSchema);
    QCOMPARE(run({u"events"_s, u"add"_s, u"--name"_s, u"metric"_s, u"--schema"_s, schema}).exitCode, 0);
    QByteArray lines;
    for (int i = 0; i < 10; ++i)
        lines += "{\"customer_id\":\"c" + QByteArray::number(i % 2) + "\",\"timestamp\":" + QByteArray::number(1700000000 + i)
            + ",\"data\":{\"cpu\":" + QByteArray::number(i) + "}}\n";
    QCOMPARE(run({u"import"_s, u"metric"_s, writeFile(u"e.ndjson"_s, lines)}).exitCode, 0);

    const Run filtered = run({u"export"_s, u"metric"_s, u"--customer"_s, u"c1"_s, u"--from"_s, u"2023-11-14T22:13:23Z"_s,
                              u"--to"_s, u"2023-11-14 22:13:29"_s});
    QVERIFY2(filtered.exitCode == 0, qPrintable(describe(filtered)));
    QCOMPARE(filtered.out.split(u"\r\n"_s, Qt::SkipEmptyParts),
             (QStringList{u"customer_id,timestamp,amount,cpu,region"_s, u"c1,2023-11-14T22:13:23.000Z,,3,"_s,
                          u"c1,2023-11-14T22:13:25.000Z,,5,"_s, u"c1,2023-11-14T22:13:27.000Z,,7,"_s}));

    const QString path = m_dir->filePath(u"out.ndjson"_s); // the format follows the extension
    const Run toFile = run({u"export"_s, u"metric"_s, u"--output"_s, path});
    QVERIFY2(toFile.exitCode == 0, qPrintable(describe(toFile)));
    QVERIFY(toFile.out.isEmpty());
    QVERIFY(toFile.err.contains(u"exported 10 rows"_s));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll().count('\n'), 10);

    const Run unwritable = run({u"export"_s, u"metric"_s, u"--output"_s, m_dir->filePath(u"no/such/dir/x.csv"_s)});
    QCOMPARE(unwritable.exitCode, 1);
    QCOMPARE(unwritable.errLines().size(), 1);
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
