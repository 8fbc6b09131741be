// Meter preview's engine (models/aggregate.*): every function and window against
// hand-computed values on a real workspace (a SQLite file, or with
// MDK_TEST_BACKEND=postgresql a fresh database on the private test server), time
// zones and DST changes, exact decimals and integer overflow, filters, refusals.
// Then GET /usage/{slug}/aggregate over real loopback HTTP: values, every 400, auth,
// ingestion answered while a long aggregate runs, a client that hangs up.
#include "aggregate.h"
#include "apikeys.h"
#include "decimal.h"
#include "eventstore.h"
#include "ingestservice.h"
#include "testbackend.h"
#include "timestamp.h"
#include "validator.h"
#include "workspace.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

using namespace meterdesk;
using namespace Qt::StringLiterals;

namespace {

qint64 us(const char *iso)
{
    const Timestamp::Parsed p = Timestamp::fromText(QString::fromLatin1(iso));
    if (!p.micros)
        qFatal("bad test timestamp %s", iso);
    return *p.micros;
}

// "customer@window-start-iso" -> value, for compact comparisons.
QMap<QString, QString> byKey(const Aggregate::Result &r)
{
    QMap<QString, QString> out;
    for (const Aggregate::Cell &c : r.cells)
        out.insert(c.customerId + u'@' + Timestamp::toIso(c.windowStartUs), c.value);
    return out;
}

} // namespace

class TestAggregate : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void decimalArithmetic();
    void names();
    void eachFunctionDaily_data();
    void eachFunctionDaily();
    void cellMetadata();
    void floatSumIsDouble();
    void decimalsExact();
    void integerOverflowGoesToDecimal();
    void monthBoundaryInZones();
    void dstHourAndDayWindows();
    void customersFilterAndTopN();
    void invalidQueriesRefused_data();
    void invalidQueriesRefused();
    void cancelStopsTheScan();

    void httpAggregate();
    void httpBadParameters_data();
    void httpBadParameters();
    void httpAuthAndRoutes();
    void httpLongAggregateDoesNotBlockIngestion();
    void monthPartitionsOverHttp();

private:
    struct Reply
    {
        int status = 0;
        QByteArray body;
        QJsonObject json;
        QByteArray contentType;
        QByteArray allow;
    };
    // A workspace with the sample rows (or none), a key, and the endpoint on a free port.
    void startHttp(bool withSample = true);
    QNetworkReply *get(const QString &pathAndQuery, bool auth = true, const QByteArray &org = {});
    Reply finish(QNetworkReply *reply);
    Reply fetch(const QString &pathAndQuery) { return finish(get(pathAndQuery)); }
    QByteArray rawRequest(const QString &pathAndQuery) const;

    std::unique_ptr<Workspace> m_ws;
    UsageEventDefinition m_def;
    QString m_key;
    std::unique_ptr<IngestService> m_service;
    QUrl m_base;
    QNetworkAccessManager m_nam;

    std::unique_ptr<Workspace> openWorkspace();
    UsageEventDefinition define(Workspace &ws, const QString &slug);
    void insert(Workspace &ws, const UsageEventDefinition &d, const QList<QByteArray> &events);
    Aggregate::Result run(Workspace &ws, const Aggregate::Query &q);
    Aggregate::Query query(const UsageEventDefinition &d, const QString &field, Aggregate::Function fn,
                           Aggregate::Window window, const char *from, const char *to, const char *zone = "UTC");
    // The six rows of eachFunctionDaily (customers a and b, 2024-01-01..03).
    void insertSample(Workspace &ws, const UsageEventDefinition &d);

    // `rows` generated rows in usage_meter: customers c0..c99, one a second from 2024-01-01, region r0..r6.
    void insertMany(Workspace &ws, int rows);

    std::unique_ptr<QTemporaryDir> m_dir;
    int m_count = 0;
};

void TestAggregate::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    if (test::onPostgres()) {
        const QString error = test::postgresAdmin(u"SELECT 1"_s);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }
}

void TestAggregate::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestAggregate::cleanup()
{
    m_service.reset();
    m_ws.reset();
    m_dir.reset();
}

std::unique_ptr<Workspace> TestAggregate::openWorkspace()
{
    QString error;
    const QString location = test::workspaceLocation(*m_dir, u"ws%1.db"_s.arg(++m_count), &error);
    if (location.isEmpty())
        qWarning() << "no test database:" << error;
    auto ws = Workspace::open(location, &error);
    if (!ws)
        qWarning() << "open failed:" << error;
    return ws;
}

UsageEventDefinition TestAggregate::define(Workspace &ws, const QString &slug)
{
    UsageEventDefinition d;
    d.name = slug;
    d.slug = slug;
    const QList<QPair<QString, FieldType>> fields{{u"n"_s, FieldType::Integer},     {u"x"_s, FieldType::Float},
                                                  {u"amount"_s, FieldType::Decimal}, {u"region"_s, FieldType::String},
                                                  {u"on"_s, FieldType::Boolean},     {u"at"_s, FieldType::DateTime}};
    for (const auto &[path, type] : fields) {
        SchemaField f;
        f.path = path;
        f.type = type;
        d.schema.fields.append(f);
    }
    const Problems problems = ws.createDefinition(d);
    if (!problems.isEmpty())
        qWarning() << "create failed:" << problems.first().message;
    return *ws.definition(slug);
}

void TestAggregate::insert(Workspace &ws, const UsageEventDefinition &d, const QList<QByteArray> &events)
{
    EventStore store(ws);
    QString error;
    QVERIFY2(ws.beginWrite(&error), qPrintable(error));
    for (const QByteArray &body : events) {
        const Validation v = Validator::validateBytes(d.schema, body);
        QVERIFY2(v.event, body.constData());
        const StoreResult r = store.store(d, *v.event, u"test"_s, Workspace::nowUs());
        QVERIFY2(r.outcome == StoreOutcome::Inserted, qPrintable(r.error + QString::fromUtf8(body)));
    }
    QVERIFY2(ws.commit(&error), qPrintable(error));
}

Aggregate::Query TestAggregate::query(const UsageEventDefinition &d, const QString &field, Aggregate::Function fn,
                                      Aggregate::Window window, const char *from, const char *to, const char *zone)
{
    Aggregate::Query q;
    q.definition = d;
    q.field = field;
    q.function = fn;
    q.window = window;
    q.zone = QTimeZone(zone);
    q.fromUs = us(from);
    q.toUs = us(to);
    return q;
}

Aggregate::Result TestAggregate::run(Workspace &ws, const Aggregate::Query &q)
{
    QString error;
    const std::optional<Aggregate::Result> r = Aggregate::run(ws, q, &error);
    if (!r) {
        qWarning() << "aggregate failed:" << error;
        return {};
    }
    return *r;
}

void TestAggregate::insertSample(Workspace &ws, const UsageEventDefinition &d)
{
    insert(ws, d,
           {R"({"customer_id":"a","timestamp":"2024-01-01T01:00:00Z","data":{"n":1,"x":0.5,"amount":"0.1","region":"eu","on":true}})",
            R"({"customer_id":"a","timestamp":"2024-01-01T05:00:00Z","data":{"n":2,"x":1.25,"amount":"0.2","region":"us","on":false}})",
            R"({"customer_id":"a","timestamp":"2024-01-01T23:59:59.999999Z","data":{"n":4,"x":2,"amount":"0.30","region":"eu"}})",
            R"({"customer_id":"a","timestamp":"2024-01-02T00:00:00Z","data":{"n":10,"amount":"5","region":"eu","at":"2024-05-01T10:00:00Z"}})",
            R"({"customer_id":"b","timestamp":"2024-01-01T12:00:00Z","data":{"n":7,"x":3,"amount":"1.5"}})",
            R"({"customer_id":"b","timestamp":"2024-01-03T12:00:00Z","data":{"n":-3,"x":-1,"amount":"-2.25","region":"ap","on":true}})",
            // Outside [from, to): never counted.
            R"({"customer_id":"a","timestamp":"2023-12-31T23:59:59.999999Z","data":{"n":1000,"x":1000,"amount":"1000","region":"zz"}})",
            R"({"customer_id":"b","timestamp":"2024-01-04T00:00:00Z","data":{"n":1000,"x":1000,"amount":"1000","region":"zz"}})"});
}

void TestAggregate::decimalArithmetic()
{
    QCOMPARE(Decimal::add("0.1", "0.2"), QByteArray("0.3"));
    QCOMPARE(Decimal::add("-0.1", "0.1"), QByteArray("0"));
    QCOMPARE(Decimal::add("-5", "2.25"), QByteArray("-2.75"));
    QCOMPARE(Decimal::add("2.25", "-5"), QByteArray("-2.75"));
    QCOMPARE(Decimal::add("999.99", "0.01"), QByteArray("1000"));
    QCOMPARE(Decimal::add("-1", "-0.001"), QByteArray("-1.001"));
    QCOMPARE(Decimal::add("", "7"), QByteArray("7"));
    QCOMPARE(Decimal::negate("1.5"), QByteArray("-1.5"));
    QCOMPARE(Decimal::negate("0"), QByteArray("0"));
    QCOMPARE(Decimal::compare("1.5", "1.25"), 1);
    QCOMPARE(Decimal::compare("-1.5", "-1.25"), -1);
    QCOMPARE(Decimal::compare("10", "9.999"), 1);
    QCOMPARE(Decimal::compare("0", "-0.1"), 1);
    QCOMPARE(Decimal::compare("2.50", "2.5"), 0);
    QCOMPARE(Decimal::divide("2", 3, 12), QByteArray("0.666666666667"));
    QCOMPARE(Decimal::divide("5", 2, 0), QByteArray("2"));   // half to even
    QCOMPARE(Decimal::divide("7", 2, 0), QByteArray("4"));
    QCOMPARE(Decimal::divide("-7", 2, 0), QByteArray("-4"));
    QCOMPARE(Decimal::divide("1", 8, 2), QByteArray("0.12")); // 0.125
    QCOMPARE(Decimal::divide("3", 8, 2), QByteArray("0.38")); // 0.375
    QCOMPARE(Decimal::divide("0.1250000001", 1, 2), QByteArray("0.13"));
    QCOMPARE(Decimal::divide("6", -3, 12), QByteArray("-2"));
    QCOMPARE(Decimal::divide("0.000000000000004", 1, 12), QByteArray("0"));
    QCOMPARE(Decimal::fromInt128(-(__int128(1) << 100)), QByteArray("-1267650600228229401496703205376"));
}

void TestAggregate::names()
{
    QCOMPARE(Aggregate::functionFromName(u"SUM"), Aggregate::Function::Sum);
    QCOMPARE(Aggregate::functionFromName(u"unique count"), Aggregate::Function::UniqueCount);
    QCOMPARE(Aggregate::functionFromName(u"distinct_count"), Aggregate::Function::UniqueCount);
    QCOMPARE(Aggregate::functionFromName(u"Latest"), Aggregate::Function::Latest);
    QVERIFY(!Aggregate::functionFromName(u"median"));
    QCOMPARE(Aggregate::functionTitle(Aggregate::Function::UniqueCount), u"UNIQUE COUNT"_s);
    QCOMPARE(Aggregate::functionName(Aggregate::Function::UniqueCount), u"unique_count"_s);
    QCOMPARE(Aggregate::windowFromName(u"Month"), Aggregate::Window::Month);
    QVERIFY(!Aggregate::windowFromName(u"week"));
}

void TestAggregate::eachFunctionDaily_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("fn");
    QTest::addColumn<QStringList>("expected"); // "customer@window=value", in result order
    QTest::addColumn<QStringList>("customers");
    const QString j1 = u"2024-01-01T00:00:00.000Z"_s, j2 = u"2024-01-02T00:00:00.000Z"_s, j3 = u"2024-01-03T00:00:00.000Z"_s;
    auto cell = [](const QString &c, const QString &w, const QString &v) -> QString { return c + u'@' + w + u'=' + v; };
    QTest::newRow("sum integer") << u"n"_s << u"sum"_s
                                 << QStringList{cell(u"a"_s, j1, u"7"_s), cell(u"a"_s, j2, u"10"_s), cell(u"b"_s, j1, u"7"_s),
                                                cell(u"b"_s, j3, u"-3"_s)}
                                 << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("sum float") << u"x"_s << u"sum"_s
                               << QStringList{cell(u"a"_s, j1, u"3.75"_s), cell(u"b"_s, j1, u"3"_s), cell(u"b"_s, j3, u"-1"_s)}
                               << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("sum decimal") << u"amount"_s << u"sum"_s
                                 << QStringList{cell(u"a"_s, j1, u"0.6"_s), cell(u"a"_s, j2, u"5"_s), cell(u"b"_s, j1, u"1.5"_s),
                                                cell(u"b"_s, j3, u"-2.25"_s)}
                                 << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("count rows") << QString() << u"count"_s
                                << QStringList{cell(u"a"_s, j1, u"3"_s), cell(u"a"_s, j2, u"1"_s), cell(u"b"_s, j1, u"1"_s),
                                               cell(u"b"_s, j3, u"1"_s)}
                                << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("count field") << u"x"_s << u"count"_s
                                 << QStringList{cell(u"a"_s, j1, u"3"_s), cell(u"b"_s, j1, u"1"_s), cell(u"b"_s, j3, u"1"_s)}
                                 << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("min integer") << u"n"_s << u"min"_s
                                 << QStringList{cell(u"a"_s, j1, u"1"_s), cell(u"a"_s, j2, u"10"_s), cell(u"b"_s, j1, u"7"_s),
                                                cell(u"b"_s, j3, u"-3"_s)}
                                 << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("max float") << u"x"_s << u"max"_s
                               << QStringList{cell(u"a"_s, j1, u"2"_s), cell(u"b"_s, j1, u"3"_s), cell(u"b"_s, j3, u"-1"_s)}
                               << QStringList{u"a"_s, u"b"_s}; // a 2, b 2: ties by customer_id
    QTest::newRow("min decimal") << u"amount"_s << u"min"_s
                                 << QStringList{cell(u"a"_s, j1, u"0.1"_s), cell(u"a"_s, j2, u"5"_s), cell(u"b"_s, j1, u"1.5"_s),
                                                cell(u"b"_s, j3, u"-2.25"_s)}
                                 << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("max decimal") << u"amount"_s << u"max"_s
                                 << QStringList{cell(u"a"_s, j1, u"0.3"_s), cell(u"a"_s, j2, u"5"_s), cell(u"b"_s, j1, u"1.5"_s),
                                                cell(u"b"_s, j3, u"-2.25"_s)}
                                 << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("avg integer") << u"n"_s << u"avg"_s
                                 << QStringList{cell(u"a"_s, j1, u"2.333333333333"_s), cell(u"a"_s, j2, u"10"_s),
                                                cell(u"b"_s, j1, u"7"_s), cell(u"b"_s, j3, u"-3"_s)}
                                 << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("avg decimal") << u"amount"_s << u"avg"_s
                                 << QStringList{cell(u"a"_s, j1, u"0.2"_s), cell(u"a"_s, j2, u"5"_s), cell(u"b"_s, j1, u"1.5"_s),
                                                cell(u"b"_s, j3, u"-2.25"_s)}
                                 << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("avg float") << u"x"_s << u"avg"_s
                               << QStringList{cell(u"b"_s, j1, u"3"_s), cell(u"b"_s, j3, u"-1"_s), cell(u"a"_s, j1, u"1.25"_s)}
                               << QStringList{u"b"_s, u"a"_s}; // totals: b 2, a 1.25
    QTest::newRow("unique count") << u"region"_s << u"unique_count"_s
                                  << QStringList{cell(u"a"_s, j1, u"2"_s), cell(u"a"_s, j2, u"1"_s), cell(u"b"_s, j3, u"1"_s)}
                                  << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("latest string") << u"region"_s << u"latest"_s
                                   << QStringList{cell(u"a"_s, j1, u"eu"_s), cell(u"a"_s, j2, u"eu"_s), cell(u"b"_s, j3, u"ap"_s)}
                                   << QStringList{u"a"_s, u"b"_s};
    QTest::newRow("latest integer") << u"n"_s << u"latest"_s
                                    << QStringList{cell(u"a"_s, j1, u"4"_s), cell(u"a"_s, j2, u"10"_s), cell(u"b"_s, j1, u"7"_s),
                                                   cell(u"b"_s, j3, u"-3"_s)}
                                    << QStringList{u"a"_s, u"b"_s};
    // The latest row of a's 1 January has no "on": the latest value is the 05:00 row's.
    QTest::newRow("latest boolean") << u"on"_s << u"latest"_s
                                    << QStringList{cell(u"b"_s, j3, u"true"_s), cell(u"a"_s, j1, u"false"_s)}
                                    << QStringList{u"b"_s, u"a"_s};
    QTest::newRow("latest datetime") << u"at"_s << u"latest"_s
                                     << QStringList{cell(u"a"_s, j2, u"2024-05-01T10:00:00.000Z"_s)} << QStringList{u"a"_s};
    QTest::newRow("unique count boolean") << u"on"_s << u"unique_count"_s
                                          << QStringList{cell(u"a"_s, j1, u"2"_s), cell(u"b"_s, j3, u"1"_s)}
                                          << QStringList{u"a"_s, u"b"_s};
}

void TestAggregate::eachFunctionDaily()
{
    QFETCH(QString, field);
    QFETCH(QString, fn);
    QFETCH(QStringList, expected);
    QFETCH(QStringList, customers);
    auto ws = openWorkspace();
    QVERIFY(ws);
    const UsageEventDefinition d = define(*ws, u"meter"_s);
    insertSample(*ws, d);
    QVERIFY(!QTest::currentTestFailed());
    const Aggregate::Result r = run(*ws, query(d, field, *Aggregate::functionFromName(fn), Aggregate::Window::Day,
                                               "2024-01-01T00:00:00Z", "2024-01-04T00:00:00Z"));
    QCOMPARE(r.windowStarts, (QList<qint64>{us("2024-01-01T00:00:00Z"), us("2024-01-02T00:00:00Z"), us("2024-01-03T00:00:00Z")}));
    QStringList got;
    for (const Aggregate::Cell &c : r.cells)
        got.append(c.customerId + u'@' + Timestamp::toIso(c.windowStartUs) + u'=' + c.value);
    QCOMPARE(got, expected);
    QCOMPARE(r.customers, customers);
}

void TestAggregate::cellMetadata()
{
    auto ws = openWorkspace();
    QVERIFY(ws);
    const UsageEventDefinition d = define(*ws, u"meter"_s);
    insertSample(*ws, d);
    QVERIFY(!QTest::currentTestFailed());
    const Aggregate::Result r = run(*ws, query(d, u"amount"_s, Aggregate::Function::Sum, Aggregate::Window::Day,
                                               "2024-01-01T00:00:00Z", "2024-01-04T00:00:00Z"));
    QCOMPARE(r.cells.size(), 4);
    QCOMPARE(r.cells[0].rows, 3);
    QCOMPARE(r.cells[0].number, 0.6);
    QCOMPARE(r.cells[3].number, -2.25);
    QCOMPARE(r.rowsScanned, 6);
    QVERIFY(Aggregate::isNumeric(d, u"amount"_s, Aggregate::Function::Latest));
    QVERIFY(!Aggregate::isNumeric(d, u"region"_s, Aggregate::Function::Latest));
    QVERIFY(Aggregate::isNumeric(d, u"region"_s, Aggregate::Function::UniqueCount));
}

void TestAggregate::floatSumIsDouble()
{
    auto ws = openWorkspace();
    QVERIFY(ws);
    const UsageEventDefinition d = define(*ws, u"meter"_s);
    insert(*ws, d,
           {R"({"customer_id":"a","timestamp":"2024-01-01T01:00:00Z","data":{"x":0.1,"amount":0.1}})",
            R"({"customer_id":"a","timestamp":"2024-01-01T02:00:00Z","data":{"x":0.2,"amount":0.2}})"});
    QCOMPARE(byKey(run(*ws, query(d, u"x"_s, Aggregate::Function::Sum, Aggregate::Window::Month, "2024-01-01T00:00:00Z",
                                  "2024-02-01T00:00:00Z"))),
             (QMap<QString, QString>{{u"a@2024-01-01T00:00:00.000Z"_s, u"0.30000000000000004"_s}}));
    QCOMPARE(byKey(run(*ws, query(d, u"amount"_s, Aggregate::Function::Sum, Aggregate::Window::Month, "2024-01-01T00:00:00Z",
                                  "2024-02-01T00:00:00Z"))),
             (QMap<QString, QString>{{u"a@2024-01-01T00:00:00.000Z"_s, u"0.3"_s}}));
}

void TestAggregate::decimalsExact()
{
    auto ws = openWorkspace();
    QVERIFY(ws);
    const UsageEventDefinition d = define(*ws, u"meter"_s);
    insert(*ws, d,
           {R"({"customer_id":"a","timestamp":"2024-01-01T01:00:00Z","data":{"amount":"12345678901234567890123456789012345678"}})",
            R"({"customer_id":"a","timestamp":"2024-01-01T02:00:00Z","data":{"amount":"98765432109876543210987654321098765432"}})",
            R"({"customer_id":"b","timestamp":"2024-01-01T01:00:00Z","data":{"amount":"0.00000000000000000000000000000000000001"}})",
            R"({"customer_id":"b","timestamp":"2024-01-01T02:00:00Z","data":{"amount":"1"}})",
            R"({"customer_id":"b","timestamp":"2024-01-01T03:00:00Z","data":{"amount":"1.00"}})"});
    const auto window = u"@2024-01-01T00:00:00.000Z"_s;
    QCOMPARE(byKey(run(*ws, query(d, u"amount"_s, Aggregate::Function::Sum, Aggregate::Window::Day, "2024-01-01T00:00:00Z",
                                  "2024-01-02T00:00:00Z"))),
             (QMap<QString, QString>{{u"a"_s + window, u"111111111011111111101111111110111111110"_s},
                                     {u"b"_s + window, u"2.00000000000000000000000000000000000001"_s}}));
    QCOMPARE(byKey(run(*ws, query(d, u"amount"_s, Aggregate::Function::Avg, Aggregate::Window::Day, "2024-01-01T00:00:00Z",
                                  "2024-01-02T00:00:00Z"))),
             (QMap<QString, QString>{{u"a"_s + window, u"55555555505555555550555555555055555555"_s},
                                     {u"b"_s + window, u"0.666666666667"_s}}));
    // "1" and "1.00" are one value.
    QCOMPARE(byKey(run(*ws, query(d, u"amount"_s, Aggregate::Function::UniqueCount, Aggregate::Window::Day,
                                  "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")))
                 .value(u"b"_s + window),
             u"2"_s);
    QCOMPARE(byKey(run(*ws, query(d, u"amount"_s, Aggregate::Function::Max, Aggregate::Window::Day, "2024-01-01T00:00:00Z",
                                  "2024-01-02T00:00:00Z")))
                 .value(u"a"_s + window),
             u"98765432109876543210987654321098765432"_s);
}

void TestAggregate::integerOverflowGoesToDecimal()
{
    auto ws = openWorkspace();
    QVERIFY(ws);
    const UsageEventDefinition d = define(*ws, u"meter"_s);
    insert(*ws, d,
           {R"({"customer_id":"a","timestamp":"2024-01-01T01:00:00Z","data":{"n":9223372036854775807}})",
            R"({"customer_id":"a","timestamp":"2024-01-01T02:00:00Z","data":{"n":9223372036854775807}})",
            R"({"customer_id":"b","timestamp":"2024-01-01T01:00:00Z","data":{"n":-9223372036854775808}})",
            R"({"customer_id":"b","timestamp":"2024-01-01T02:00:00Z","data":{"n":-9223372036854775808}})",
            R"({"customer_id":"b","timestamp":"2024-01-01T03:00:00Z","data":{"n":-1}})"});
    const auto window = u"@2024-01-01T00:00:00.000Z"_s;
    QCOMPARE(byKey(run(*ws, query(d, u"n"_s, Aggregate::Function::Sum, Aggregate::Window::Day, "2024-01-01T00:00:00Z",
                                  "2024-01-02T00:00:00Z"))),
             (QMap<QString, QString>{{u"a"_s + window, u"18446744073709551614"_s},
                                     {u"b"_s + window, u"-18446744073709551617"_s}}));
    QCOMPARE(byKey(run(*ws, query(d, u"n"_s, Aggregate::Function::Avg, Aggregate::Window::Day, "2024-01-01T00:00:00Z",
                                  "2024-01-02T00:00:00Z"))),
             (QMap<QString, QString>{{u"a"_s + window, u"9223372036854775807"_s},
                                     {u"b"_s + window, u"-6148914691236517205.666666666667"_s}}));
    QCOMPARE(byKey(run(*ws, query(d, u"n"_s, Aggregate::Function::Min, Aggregate::Window::Day, "2024-01-01T00:00:00Z",
                                  "2024-01-02T00:00:00Z")))
                 .value(u"b"_s + window),
             u"-9223372036854775808"_s);
}

void TestAggregate::monthBoundaryInZones()
{
    auto ws = openWorkspace();
    QVERIFY(ws);
    const UsageEventDefinition d = define(*ws, u"meter"_s);
    insert(*ws, d,
           {R"({"customer_id":"c","timestamp":"2024-01-15T00:00:00Z","data":{"n":1}})",
            R"({"customer_id":"c","timestamp":"2024-01-31T23:30:00Z","data":{"n":2}})"});
    // Asia/Kolkata (+05:30): 23:30Z on 31 January is 05:00 on 1 February.
    Aggregate::Result r = run(*ws, query(d, u"n"_s, Aggregate::Function::Sum, Aggregate::Window::Month, "2024-01-01T00:00:00Z",
                                         "2024-03-01T00:00:00Z", "Asia/Kolkata"));
    QCOMPARE(r.windowStarts, (QList<qint64>{us("2023-12-31T18:30:00Z"), us("2024-01-31T18:30:00Z"), us("2024-02-29T18:30:00Z")}));
    QCOMPARE(byKey(r), (QMap<QString, QString>{{u"c@2023-12-31T18:30:00.000Z"_s, u"1"_s}, {u"c@2024-01-31T18:30:00.000Z"_s, u"2"_s}}));
    // America/New_York (-05:00): the same instant is 18:30 on 31 January; from (midnight
    // UTC on 1 January) is still 31 December there, so December's window comes first, empty.
    r = run(*ws, query(d, u"n"_s, Aggregate::Function::Sum, Aggregate::Window::Month, "2024-01-01T00:00:00Z",
                       "2024-03-01T00:00:00Z", "America/New_York"));
    QCOMPARE(r.windowStarts, (QList<qint64>{us("2023-12-01T05:00:00Z"), us("2024-01-01T05:00:00Z"), us("2024-02-01T05:00:00Z")}));
    QCOMPARE(byKey(r), (QMap<QString, QString>{{u"c@2024-01-01T05:00:00.000Z"_s, u"3"_s}}));
    QCOMPARE(r.cells.first().rows, 2);
    // Days in Kolkata start at 18:30Z.
    QCOMPARE(Aggregate::windowStart(us("2024-01-31T23:30:00Z"), Aggregate::Window::Day, QTimeZone("Asia/Kolkata")),
             us("2024-01-31T18:30:00Z"));
    QCOMPARE(Aggregate::windowStart(us("2024-01-31T23:30:00Z"), Aggregate::Window::Hour, QTimeZone("Asia/Kolkata")),
             us("2024-01-31T23:30:00Z"));
    QCOMPARE(Aggregate::windowStart(us("2024-01-31T23:29:59Z"), Aggregate::Window::Hour, QTimeZone("Asia/Kolkata")),
             us("2024-01-31T22:30:00Z"));
}

void TestAggregate::dstHourAndDayWindows()
{
    const QTimeZone berlin("Europe/Berlin");
    auto ws = openWorkspace();
    QVERIFY(ws);
    const UsageEventDefinition d = define(*ws, u"meter"_s);
    insert(*ws, d,
           {// 31 March: 01:30 CET and 03:30 CEST are consecutive local hours.
            R"({"customer_id":"c","timestamp":"2024-03-31T00:30:00Z","data":{"n":1}})",
            R"({"customer_id":"c","timestamp":"2024-03-31T01:30:00Z","data":{"n":2}})",
            R"({"customer_id":"c","timestamp":"2024-03-31T21:59:59Z","data":{"n":4}})",
            R"({"customer_id":"c","timestamp":"2024-03-31T22:00:00Z","data":{"n":8}})",
            // 27 October: 02:30 CEST, then 02:30 CET an hour later: two windows.
            R"({"customer_id":"c","timestamp":"2024-10-27T00:30:00Z","data":{"n":16}})",
            R"({"customer_id":"c","timestamp":"2024-10-27T01:30:00Z","data":{"n":32}})",
            R"({"customer_id":"c","timestamp":"2024-10-27T22:59:59Z","data":{"n":64}})"});

    // The 23-hour day.
    Aggregate::Query q = query(d, u"n"_s, Aggregate::Function::Sum, Aggregate::Window::Hour, "2024-03-30T23:00:00Z",
                               "2024-03-31T22:00:00Z", "Europe/Berlin");
    Aggregate::Result r = run(*ws, q);
    QCOMPARE(r.windowStarts.size(), 23);
    QCOMPARE(r.windowStarts[1], us("2024-03-31T00:00:00Z")); // 01:00 CET
    QCOMPARE(r.windowStarts[2], us("2024-03-31T01:00:00Z")); // 03:00 CEST
    QCOMPARE(r.windowStarts[22], us("2024-03-31T21:00:00Z")); // 23:00 CEST
    QCOMPARE(byKey(r), (QMap<QString, QString>{{u"c@2024-03-31T00:00:00.000Z"_s, u"1"_s},
                                               {u"c@2024-03-31T01:00:00.000Z"_s, u"2"_s},
                                               {u"c@2024-03-31T21:00:00.000Z"_s, u"4"_s}}));
    q.window = Aggregate::Window::Day;
    q.toUs = us("2024-04-02T00:00:00Z");
    r = run(*ws, q);
    QCOMPARE(r.windowStarts, (QList<qint64>{us("2024-03-30T23:00:00Z"), us("2024-03-31T22:00:00Z"), us("2024-04-01T22:00:00Z")}));
    QCOMPARE(byKey(r), (QMap<QString, QString>{{u"c@2024-03-30T23:00:00.000Z"_s, u"7"_s}, {u"c@2024-03-31T22:00:00.000Z"_s, u"8"_s}}));

    // The 25-hour day.
    q = query(d, u"n"_s, Aggregate::Function::Sum, Aggregate::Window::Hour, "2024-10-26T22:00:00Z", "2024-10-27T23:00:00Z",
              "Europe/Berlin");
    r = run(*ws, q);
    QCOMPARE(r.windowStarts.size(), 25);
    QCOMPARE(r.windowStarts[2], us("2024-10-27T00:00:00Z")); // 02:00 CEST
    QCOMPARE(r.windowStarts[3], us("2024-10-27T01:00:00Z")); // 02:00 CET
    QCOMPARE(byKey(r), (QMap<QString, QString>{{u"c@2024-10-27T00:00:00.000Z"_s, u"16"_s},
                                               {u"c@2024-10-27T01:00:00.000Z"_s, u"32"_s},
                                               {u"c@2024-10-27T22:00:00.000Z"_s, u"64"_s}}));
    q.window = Aggregate::Window::Day;
    r = run(*ws, q);
    QCOMPARE(r.windowStarts, (QList<qint64>{us("2024-10-26T22:00:00Z")}));
    QCOMPARE(byKey(r), (QMap<QString, QString>{{u"c@2024-10-26T22:00:00.000Z"_s, u"112"_s}}));
    QCOMPARE(Aggregate::nextWindowStart(us("2024-10-26T22:00:00Z"), Aggregate::Window::Day, berlin), us("2024-10-27T23:00:00Z"));
    QCOMPARE(Aggregate::windowStart(us("2024-10-27T12:00:00Z"), Aggregate::Window::Month, berlin), us("2024-09-30T22:00:00Z"));
    QCOMPARE(Aggregate::nextWindowStart(us("2024-09-30T22:00:00Z"), Aggregate::Window::Month, berlin), us("2024-10-31T23:00:00Z"));
    // Where midnight does not exist (America/Santiago, 2022-09-11: 00:00 -> 01:00), the
    // day starts at the first local time that does.
    QCOMPARE(Aggregate::windowStart(us("2022-09-11T12:00:00Z"), Aggregate::Window::Day, QTimeZone("America/Santiago")),
             us("2022-09-11T04:00:00Z"));
}

void TestAggregate::customersFilterAndTopN()
{
    auto ws = openWorkspace();
    QVERIFY(ws);
    const UsageEventDefinition d = define(*ws, u"meter"_s);
    insertSample(*ws, d);
    QVERIFY(!QTest::currentTestFailed());
    Aggregate::Query q = query(d, u"n"_s, Aggregate::Function::Sum, Aggregate::Window::Day, "2024-01-01T00:00:00Z",
                               "2024-01-04T00:00:00Z");
    q.customers = {u"b"_s, u"nobody"_s};
    Aggregate::Result r = run(*ws, q);
    QCOMPARE(r.customers, QStringList{u"b"_s});
    QCOMPARE(byKey(r), (QMap<QString, QString>{{u"b@2024-01-01T00:00:00.000Z"_s, u"7"_s}, {u"b@2024-01-03T00:00:00.000Z"_s, u"-3"_s}}));
    QCOMPARE(r.windowStarts.size(), 3);

    // Over 500 names: filtered while scanning rather than in SQL; the same answer.
    q.customers.clear();
    for (int i = 0; i < 600; ++i)
        q.customers.append(u"other-%1"_s.arg(i));
    q.customers.append(u"a"_s);
    r = run(*ws, q);
    QCOMPARE(r.customers, QStringList{u"a"_s});
    QCOMPARE(r.cells.size(), 2);

    q.customers.clear();
    q.topN = 1;
    r = run(*ws, q);
    QCOMPARE(r.customers, QStringList{u"a"_s}); // a 17, b 4
    QCOMPARE(r.cells.size(), 2);
    q.function = Aggregate::Function::Min;
    r = run(*ws, q);
    QCOMPARE(r.customers, QStringList{u"a"_s}); // a 11, b 4
    q.field = u"x"_s;
    q.function = Aggregate::Function::Avg;
    r = run(*ws, q);
    QCOMPARE(r.customers, QStringList{u"b"_s}); // b 2, a 1.25
}

void TestAggregate::invalidQueriesRefused_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("fn");
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("window");
    QTest::addColumn<QString>("zone");
    QTest::addColumn<QString>("message");
    const QString f = u"2024-01-01T00:00:00Z"_s, t = u"2024-02-01T00:00:00Z"_s;
    QTest::newRow("unknown field") << u"nope"_s << u"sum"_s << f << t << u"day"_s << u"UTC"_s << u"not a field"_s;
    QTest::newRow("column outside the schema") << u"data"_s << u"count"_s << f << t << u"day"_s << u"UTC"_s << u"not a field"_s;
    QTest::newRow("sum of a string") << u"region"_s << u"sum"_s << f << t << u"day"_s << u"UTC"_s << u"needs a number field"_s;
    QTest::newRow("max of a boolean") << u"on"_s << u"max"_s << f << t << u"day"_s << u"UTC"_s << u"needs a number field"_s;
    QTest::newRow("sum without a field") << QString() << u"sum"_s << f << t << u"day"_s << u"UTC"_s << u"needs a field"_s;
    QTest::newRow("from = to") << u"n"_s << u"sum"_s << f << f << u"day"_s << u"UTC"_s << u"must be before"_s;
    QTest::newRow("from > to") << u"n"_s << u"sum"_s << t << f << u"day"_s << u"UTC"_s << u"must be before"_s;
    QTest::newRow("bad zone") << u"n"_s << u"sum"_s << f << t << u"day"_s << u"Mars/Olympus"_s << u"time zone"_s;
    QTest::newRow("too many windows") << u"n"_s << u"sum"_s << u"2000-01-01T00:00:00Z"_s << u"2020-01-01T00:00:00Z"_s
                                      << u"hour"_s << u"UTC"_s << u"more than"_s;
}

void TestAggregate::invalidQueriesRefused()
{
    QFETCH(QString, field);
    QFETCH(QString, fn);
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, window);
    QFETCH(QString, zone);
    QFETCH(QString, message);
    auto ws = openWorkspace();
    QVERIFY(ws);
    const UsageEventDefinition d = define(*ws, u"meter"_s);
    Aggregate::Query q;
    q.definition = d;
    q.field = field;
    q.function = *Aggregate::functionFromName(fn);
    q.window = *Aggregate::windowFromName(window);
    q.zone = QTimeZone(zone.toUtf8());
    q.fromUs = *Timestamp::fromText(from).micros;
    q.toUs = *Timestamp::fromText(to).micros;
    QString error;
    QVERIFY(!Aggregate::run(*ws, q, &error));
    QVERIFY2(error.contains(message), qPrintable(error));
}

void TestAggregate::insertMany(Workspace &ws, int rows)
{
    QSqlQuery q(ws.database());
    const QString select = u"SELECT 'c' || (i % 100), %1 + CAST(i AS BIGINT) * 1000000, 'r' || (i % 7), '{}', 0, 'test'"_s.arg(
        us("2024-01-01T00:00:00Z"));
    const QString insert = u"INSERT INTO usage_meter (customer_id, \"timestamp\", \"data.region\", data, received_at, source) "_s;
    QString sql;
    if (test::onPostgres())
        sql = insert + select + u" FROM generate_series(0, %1) AS i"_s.arg(rows - 1);
    else
        sql = u"WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < %1) "_s.arg(rows - 1) + insert + select
            + u" FROM c"_s;
    QVERIFY2(q.exec(sql), qPrintable(q.lastError().text()));
}

void TestAggregate::cancelStopsTheScan()
{
    auto ws = openWorkspace();
    QVERIFY(ws);
    const UsageEventDefinition d = define(*ws, u"meter"_s);
    insertMany(*ws, 200000);
    QVERIFY(!QTest::currentTestFailed());
    const Aggregate::Query q = query(d, u"region"_s, Aggregate::Function::UniqueCount, Aggregate::Window::Day,
                                     "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z");
    std::atomic_bool cancel{true};
    QString error;
    bool refused = true;
    QVERIFY(!Aggregate::run(*ws, q, &error, &cancel, &refused));
    QCOMPARE(error, u"cancelled"_s);
    QVERIFY(!refused);
    cancel = false;
    const std::optional<Aggregate::Result> r = Aggregate::run(*ws, q, &error, &cancel, &refused);
    QVERIFY2(r, qPrintable(error));
    QCOMPARE(r->rowsScanned, 200000);
    QCOMPARE(r->customers.size(), 100);
    QCOMPARE(r->cells.size(), 300); // 200,000 s is 2 days 7 h 33 min: three days per customer
    QCOMPARE(r->cells.first().value, u"7"_s);
}

void TestAggregate::startHttp(bool withSample)
{
    m_ws = openWorkspace();
    QVERIFY(m_ws);
    m_def = define(*m_ws, u"meter"_s);
    if (withSample)
        insertSample(*m_ws, m_def);
    QVERIFY(!QTest::currentTestFailed());
    QString error;
    const auto key = ApiKeys::create(*m_ws, u"test"_s, &error);
    QVERIFY2(key, qPrintable(error));
    m_key = key->key;
    m_service = std::make_unique<IngestService>(m_ws->location());
    QSignalSpy started(m_service.get(), &IngestService::started);
    m_service->start(u"127.0.0.1"_s, 0);
    QVERIFY(started.wait(5000));
    m_base = QUrl(started.first().first().toString());
}

QNetworkReply *TestAggregate::get(const QString &pathAndQuery, bool auth, const QByteArray &org)
{
    QNetworkRequest req(m_base.resolved(QUrl(pathAndQuery)));
    if (auth) {
        req.setRawHeader("organisation", org.isEmpty() ? m_ws->organisation().toUtf8() : org);
        req.setRawHeader("authorization", "Bearer " + m_key.toUtf8());
    }
    return m_nam.get(req);
}

TestAggregate::Reply TestAggregate::finish(QNetworkReply *reply)
{
    if (!reply->isFinished()) {
        QSignalSpy done(reply, &QNetworkReply::finished);
        done.wait(30000);
    }
    Reply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    r.json = QJsonDocument::fromJson(r.body).object();
    r.contentType = reply->rawHeader("content-type");
    r.allow = reply->rawHeader("allow");
    reply->deleteLater();
    return r;
}

QByteArray TestAggregate::rawRequest(const QString &pathAndQuery) const
{
    return "GET " + pathAndQuery.toUtf8() + " HTTP/1.1\r\nHost: 127.0.0.1\r\norganisation: " + m_ws->organisation().toUtf8()
        + "\r\nauthorization: Bearer " + m_key.toUtf8() + "\r\n\r\n";
}

void TestAggregate::httpAggregate()
{
    startHttp();
    QVERIFY(!QTest::currentTestFailed());
    Reply r = fetch(u"/usage/meter/aggregate?field=amount&fn=sum&window=day&from=2024-01-01&to=2024-01-04"_s);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.contentType, QByteArray("application/json"));
    QCOMPARE(r.json.value(u"slug").toString(), u"meter"_s);
    QCOMPARE(r.json.value(u"fn").toString(), u"sum"_s);
    QCOMPARE(r.json.value(u"window").toString(), u"day"_s);
    QCOMPARE(r.json.value(u"tz").toString(), u"UTC"_s);
    QCOMPARE(r.json.value(u"from").toString(), u"2024-01-01T00:00:00.000Z"_s);
    QCOMPARE(r.json.value(u"to").toString(), u"2024-01-04T00:00:00.000Z"_s);
    QCOMPARE(r.json.value(u"windows").toArray(),
             (QJsonArray{u"2024-01-01T00:00:00Z"_s, u"2024-01-02T00:00:00Z"_s, u"2024-01-03T00:00:00Z"_s}));
    const QJsonArray results = r.json.value(u"results").toArray();
    QCOMPARE(results.size(), 4);
    QCOMPARE(results[0].toObject(), (QJsonObject{{u"customer_id"_s, u"a"_s}, {u"window_start"_s, u"2024-01-01T00:00:00Z"_s},
                                                 {u"value"_s, 0.6}, {u"rows"_s, 3}}));
    QCOMPARE(results[3].toObject().value(u"value").toDouble(), -2.25);
    // Exact values are the JSON number's own digits, never a double's rendering.
    QVERIFY(r.body.contains("\"value\":0.6,"));
    QVERIFY(r.body.contains("\"value\":-2.25,"));

    // A month in Kolkata, rows counted, two customers asked for (one without rows).
    r = fetch(u"/usage/meter/aggregate?fn=count&window=month&from=2024-01-01&to=2024-01-04&tz=Asia/Kolkata"
              "&customer_id=b&customer_id=nobody"_s);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(u"windows").toArray(), QJsonArray{u"2024-01-01T00:00:00+05:30"_s});
    QCOMPARE(r.json.value(u"results").toArray(),
             (QJsonArray{QJsonObject{{u"customer_id"_s, u"b"_s}, {u"window_start"_s, u"2024-01-01T00:00:00+05:30"_s},
                                     {u"value"_s, 2}, {u"rows"_s, 2}}}));
    QCOMPARE(r.json.value(u"customers").toArray(), QJsonArray{u"b"_s});

    // Text and boolean values.
    r = fetch(u"/usage/meter/aggregate?field=region&fn=latest&from=2024-01-01&to=2024-01-02"_s);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(u"results").toArray().first().toObject().value(u"value"), QJsonValue(u"eu"_s));
    r = fetch(u"/usage/meter/aggregate?field=on&fn=latest&from=2024-01-01&to=2024-01-02"_s);
    QCOMPARE(r.json.value(u"results").toArray().first().toObject().value(u"value"), QJsonValue(false));
    // An empty range: every window listed, no results.
    r = fetch(u"/usage/meter/aggregate?fn=count&window=hour&from=2030-01-01T00:00:00Z&to=2030-01-01T03:00:00Z"_s);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json.value(u"windows").toArray().size(), 3);
    QVERIFY(r.json.value(u"results").toArray().isEmpty());
}

void TestAggregate::httpBadParameters_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("pointer");
    const QString range = u"&from=2024-01-01&to=2024-02-01"_s;
    QTest::newRow("fn") << u"field=n&fn=median"_s + range << u"?fn"_s;
    QTest::newRow("window") << u"field=n&window=week"_s + range << u"?window"_s;
    QTest::newRow("tz") << u"field=n&tz=Mars/Olympus"_s + range << u"?tz"_s;
    QTest::newRow("from missing") << u"field=n&to=2024-02-01"_s << u"?from"_s;
    QTest::newRow("from garbage") << u"field=n&from=yesterday&to=2024-02-01"_s << u"?from"_s;
    QTest::newRow("to missing") << u"field=n&from=2024-02-01"_s << u"?to"_s;
    QTest::newRow("to before from") << u"field=n&from=2024-02-01&to=2024-01-01"_s << u"?to"_s;
    QTest::newRow("unknown field") << u"field=nope"_s + range << u"?field"_s;
    QTest::newRow("sum of a string") << u"field=region&fn=sum"_s + range << u"?field"_s;
    QTest::newRow("sum without field") << u"fn=sum"_s + range << u"?field"_s;
    QTest::newRow("empty customer") << u"field=n&customer_id="_s + range << u"?customer_id"_s;
    QTest::newRow("top") << u"field=n&top=0"_s + range << u"?top"_s;
    QTest::newRow("too many windows") << u"field=n&window=hour&from=2000-01-01&to=2020-01-01"_s << u"?window"_s;
}

void TestAggregate::httpBadParameters()
{
    QFETCH(QString, query);
    QFETCH(QString, pointer);
    if (!m_service)
        startHttp();
    QVERIFY(!QTest::currentTestFailed());
    const Reply r = fetch(u"/usage/meter/aggregate?"_s + query);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.contentType, QByteArray("application/problem+json"));
    QCOMPARE(r.json.value(u"status").toInt(), 400);
    QStringList pointers;
    for (const QJsonValue &e : r.json.value(u"errors").toArray())
        pointers.append(e.toObject().value(u"pointer").toString());
    QVERIFY2(pointers.contains(pointer), qPrintable(QString::fromUtf8(r.body)));
}

void TestAggregate::httpAuthAndRoutes()
{
    startHttp();
    QVERIFY(!QTest::currentTestFailed());
    const QString path = u"/usage/meter/aggregate?field=n&from=2024-01-01&to=2024-02-01"_s;
    Reply r = finish(get(path, false));
    QCOMPARE(r.status, 401);
    QCOMPARE(r.contentType, QByteArray("application/problem+json"));
    r = finish(get(path, true, "00000000-0000-0000-0000-000000000000"));
    QCOMPARE(r.status, 403);
    r = fetch(u"/usage/nothing/aggregate?field=n&from=2024-01-01&to=2024-02-01"_s);
    QCOMPARE(r.status, 404);
    QNetworkRequest req(m_base.resolved(QUrl(path)));
    req.setRawHeader("organisation", m_ws->organisation().toUtf8());
    req.setRawHeader("authorization", "Bearer " + m_key.toUtf8());
    req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    r = finish(m_nam.post(req, QByteArray("{}")));
    QCOMPARE(r.status, 405);
    QCOMPARE(r.allow, QByteArray("GET"));
    // The route is in the generated OpenAPI document.
    r = finish(get(u"/openapi.json"_s, false));
    QCOMPARE(r.status, 200);
    const QJsonObject op = r.json.value(u"paths").toObject().value(u"/usage/meter/aggregate").toObject().value(u"get").toObject();
    QVERIFY2(!op.isEmpty(), r.body.left(300).constData());
    QVERIFY(op.value(u"responses").toObject().contains(u"400"));
}

void TestAggregate::httpLongAggregateDoesNotBlockIngestion()
{
    startHttp();
    QVERIFY(!QTest::currentTestFailed());
    // A million rows: an aggregate of them takes a while; meanwhile the endpoint ingests.
    constexpr int N = 1000000;
    insertMany(*m_ws, N);
    QVERIFY(!QTest::currentTestFailed());
    const QString slow = u"/usage/meter/aggregate?field=region&fn=unique_count&window=hour&from=2024-01-01&to=2024-02-01"_s;

    // 1. Ingestion is answered while the aggregate runs.
    QElapsedTimer clock;
    clock.start();
    QNetworkReply *aggregate = get(slow);
    QTest::qWait(50);
    QNetworkRequest post(m_base.resolved(QUrl(u"/usage/meter"_s)));
    post.setRawHeader("organisation", m_ws->organisation().toUtf8());
    post.setRawHeader("authorization", "Bearer " + m_key.toUtf8());
    post.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    const Reply stored = finish(m_nam.post(post, R"({"customer_id":"new","timestamp":"2025-01-01T00:00:00Z","data":{"n":1}})"));
    QCOMPARE(stored.status, 201);
    const bool aggregatePending = !aggregate->isFinished();
    const qint64 ingestMs = clock.elapsed();
    const Reply done = finish(aggregate);
    QCOMPARE(done.status, 200);
    QCOMPARE(done.json.value(u"rows_scanned").toInteger(), N + 6); // and the six sample rows with a region
    QVERIFY2(aggregatePending, qPrintable(u"the aggregate took %1 ms, the ingest %2 ms"_s.arg(clock.elapsed()).arg(ingestMs)));

    // 2. A client that hangs up before its answer: the server skips the write and goes on.
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(m_base.port()));
        QVERIFY(s.waitForConnected(3000));
        s.write(rawRequest(slow));
        QVERIFY(s.waitForBytesWritten(3000));
        QTest::qWait(50);
        s.abort();
    }
    // Queued behind the abandoned one on the aggregate thread: answered after it.
    const Reply after = fetch(u"/usage/meter/aggregate?field=n&fn=sum&from=2024-01-01&to=2024-01-04"_s);
    QCOMPARE(after.status, 200);
    QCOMPARE(after.json.value(u"results").toArray().first().toObject().value(u"value").toInt(), 7);
    QCOMPARE(finish(m_nam.post(post, R"({"customer_id":"new","timestamp":"2025-01-01T00:00:01Z","data":{"n":1}})")).status, 201);
}

QTEST_GUILESS_MAIN(TestAggregate)
// Events of three months through the endpoint (single events and a batch, so both of
// the writer's paths): on PostgreSQL the usage table holds them in three month
// partitions (and nothing in its default one), a month's query scans one partition;
// on both backends the monthly aggregate is exact.
void TestAggregate::monthPartitionsOverHttp()
{
    startHttp(false);
    QVERIFY(!QTest::currentTestFailed());
    const auto postTo = [this](const QString &path, const QByteArray &body) {
        QNetworkRequest req(m_base.resolved(QUrl(path)));
        req.setRawHeader("organisation", m_ws->organisation().toUtf8());
        req.setRawHeader("authorization", "Bearer " + m_key.toUtf8());
        req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        return finish(m_nam.post(req, body));
    };
    const auto event = [](const char *customer, const char *at, int n) -> QByteArray { // not a QStringBuilder of temporaries
        return QByteArray(R"({"customer_id":")") + customer + R"(","timestamp":")" + at + R"(","data":{"n":)"
            + QByteArray::number(n) + "}}";
    };
    QCOMPARE(postTo(u"/usage/meter"_s, event("a", "2025-01-01T00:00:00Z", 1)).status, 201);
    QCOMPARE(postTo(u"/usage/meter"_s, event("a", "2025-01-31T23:59:59.999999Z", 2)).status, 201);
    QCOMPARE(postTo(u"/usage/meter"_s, event("b", "2025-01-15T12:00:00Z", 4)).status, 201);
    QByteArray february = "[";
    for (int i = 0; i < 600; ++i) // over the writer's COPY threshold
        february += (i ? "," : "") + event(i % 2 ? "a" : "b", qPrintable(Timestamp::toIso(us("2025-02-01T00:00:00Z") + qint64(i) * 1000000)), 1);
    february += "]";
    const Reply batch = postTo(u"/usage/meter/batch"_s, february);
    QCOMPARE(batch.status, 201);
    QCOMPARE(batch.json.value(u"stored").toInt(), 600);
    // The same batch again (a client's retry): every key is there, the straight COPY fails
    // as a whole and the staging path sorts the events into duplicates.
    const Reply retried = postTo(u"/usage/meter/batch"_s, february);
    QCOMPARE(retried.status, 200);
    QCOMPARE(retried.json.value(u"stored").toInt(), 0);
    QCOMPARE(retried.json.value(u"duplicates").toInt(), 600);
    // 599 new events and one stored one: 599 stored, one duplicate.
    QByteArray mixed = "[" + event("b", "2025-02-01T00:00:00Z", 1);
    for (int i = 600; i < 1199; ++i)
        mixed += "," + event(i % 2 ? "a" : "b", qPrintable(Timestamp::toIso(us("2025-02-01T00:00:00Z") + qint64(i) * 1000000)), 1);
    mixed += "]";
    const Reply part = postTo(u"/usage/meter/batch"_s, mixed);
    QCOMPARE(part.status, 201);
    QCOMPARE(part.json.value(u"stored").toInt(), 599);
    QCOMPARE(part.json.value(u"duplicates").toInt(), 1);
    // An atomic batch with one clash (same key, another value): nothing of it stays.
    QByteArray clash = "[" + event("b", "2025-02-01T00:00:00Z", 99);
    for (int i = 2000; i < 2600; ++i)
        clash += "," + event("a", qPrintable(Timestamp::toIso(us("2025-02-01T00:00:00Z") + qint64(i) * 1000000)), 1);
    clash += "]";
    QCOMPARE(postTo(u"/usage/meter/batch"_s, clash).status, 409);
    QCOMPARE(postTo(u"/usage/meter"_s, event("b", "2025-03-31T23:00:00Z", 8)).status, 201);

    const Aggregate::Result r = run(*m_ws, query(m_def, u"n"_s, Aggregate::Function::Sum, Aggregate::Window::Month,
                                                 "2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z"));
    QCOMPARE(byKey(r), (QMap<QString, QString>{{u"a@2025-01-01T00:00:00.000Z"_s, u"3"_s},
                                               {u"b@2025-01-01T00:00:00.000Z"_s, u"4"_s},
                                               {u"a@2025-02-01T00:00:00.000Z"_s, u"599"_s},
                                               {u"b@2025-02-01T00:00:00.000Z"_s, u"600"_s},
                                               {u"b@2025-03-01T00:00:00.000Z"_s, u"8"_s}}));
    if (!test::onPostgres())
        return;
    const QSqlDatabase db = m_ws->database();
    QSqlQuery q(db);
    QVERIFY2(q.exec(u"SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'usage_meter'::regclass"_s),
             qPrintable(q.lastError().text()));
    QStringList partitions;
    while (q.next())
        partitions.append(q.value(0).toString());
    partitions.sort();
    QCOMPARE(partitions, (QStringList{u"usage_meter$202501"_s, u"usage_meter$202502"_s, u"usage_meter$202503"_s,
                                      u"usage_meter$default"_s}));
    const auto rowsIn = [&db](const QString &table) {
        QSqlQuery c(db);
        if (!c.exec(u"SELECT count(*) FROM \""_s + table + u'"') || !c.next())
            return qint64(-1);
        return c.value(0).toLongLong();
    };
    QCOMPARE(rowsIn(u"usage_meter$202501"_s), 3);
    QCOMPARE(rowsIn(u"usage_meter$202502"_s), 1199);
    QCOMPARE(rowsIn(u"usage_meter$202503"_s), 1);
    QCOMPARE(rowsIn(u"usage_meter$default"_s), 0);
    // A month's scan reads that month's partition only (plan-time pruning).
    QVERIFY(q.exec(u"EXPLAIN SELECT count(*) FROM usage_meter WHERE \"timestamp\" >= %1 AND \"timestamp\" < %2"_s
                       .arg(us("2025-02-01T00:00:00Z"))
                       .arg(us("2025-03-01T00:00:00Z"))));
    QString plan;
    while (q.next())
        plan += q.value(0).toString() + u'\n';
    QVERIFY2(plan.contains(u"usage_meter$202502"_s), qPrintable(plan));
    QVERIFY2(!plan.contains(u"usage_meter$202501"_s) && !plan.contains(u"usage_meter$202503"_s)
                 && !plan.contains(u"usage_meter$default"_s),
             qPrintable(plan));
}

#include "tst_aggregate.moc"
