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
    const QString path = m_dir->filePath(name);
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
                                u"--json"_s, u"Exit codes"_s})
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

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
