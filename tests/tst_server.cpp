// The ingestion endpoint over real loopback HTTP: an in-process IngestService on
// port 0 with a real SQLite file, QNetworkAccessManager for well-formed requests
// and raw QTcpSocket for malformed ones. Parametrized: with MDK_TEST_BACKEND=postgresql
// (the tst_server_postgresql ctest entry) the workspace is a fresh database on the
// private PostgreSQL of scripts/pgtest, and two nodes share it.
#include "apikeys.h"
#include "ingestservice.h"
#include "testbackend.h"
#include "workspace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <functional>

using namespace meterdesk;

namespace {

struct Reply
{
    int status = 0;
    QByteArray body;
    QJsonObject json;
    QHash<QByteArray, QByteArray> headers;
};

const QByteArray kSeedOne =
    R"({"data":{"cpu_usage_hours_per_day":5},"timestamp":"2023-05-21 09:30:38.731","customer_id":"[email protected]"})";
const QByteArray kSeedTwo =
    R"({"data":{"cpu_usage_hours_per_month":300},"timestamp":"2023-05-21 09:30:38.731","customer_id":"[email protected]"})";

} // namespace

class TestServer : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_db;
    QString m_key;
    QString m_org;
    std::unique_ptr<IngestService> m_service;
    QNetworkAccessManager m_nam;
    QUrl m_base;

    void startService(const EndpointLimits &limits = {})
    {
        m_service = std::make_unique<IngestService>(m_db, limits);
        QSignalSpy started(m_service.get(), &IngestService::started);
        m_service->start(QStringLiteral("127.0.0.1"), 0);
        QVERIFY(started.wait(5000));
        m_base = QUrl(started.first().first().toString());
    }

    Reply request(const QByteArray &verb, const QString &path, const QByteArray &body = {},
                  const QList<QPair<QByteArray, QByteArray>> &headers = {}, bool auth = true)
    {
        QNetworkRequest req(m_base.resolved(QUrl(path)));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        if (auth) {
            req.setRawHeader("organisation", m_org.toUtf8());
            req.setRawHeader("authorization", "Bearer " + m_key.toUtf8());
        }
        for (const auto &[k, v] : headers)
            req.setRawHeader(k, v);
        QNetworkReply *reply = m_nam.sendCustomRequest(req, verb, body);
        QSignalSpy done(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            done.wait(20000);
        Reply r;
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r.body = reply->readAll();
        r.json = QJsonDocument::fromJson(r.body).object();
        for (const auto &[k, v] : reply->rawHeaderPairs())
            r.headers.insert(k.toLower(), v);
        reply->deleteLater();
        return r;
    }
    Reply post(const QString &path, const QByteArray &body, const QList<QPair<QByteArray, QByteArray>> &headers = {},
               bool auth = true)
    {
        return request("POST", path, body, headers, auth);
    }

    // Sends raw bytes, returns everything the server answers until it closes or goes quiet.
    QByteArray raw(const QByteArray &bytes, int quietMs = 1500)
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(m_base.port()));
        if (!s.waitForConnected(3000))
            return "no connection";
        s.write(bytes);
        s.waitForBytesWritten(3000);
        QByteArray out;
        while (s.state() == QAbstractSocket::ConnectedState && s.waitForReadyRead(quietMs))
            out += s.readAll();
        out += s.readAll();
        return out;
    }

    qint64 rows(const QString &table)
    {
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QSqlQuery q(ws->database());
        if (!q.exec(QStringLiteral("SELECT count(*) FROM \"%1\"").arg(table)) || !q.next())
            return -1;
        return q.value(0).toLongLong();
    }

    void checkProblem(const Reply &r, int status)
    {
        QCOMPARE(r.status, status);
        QCOMPARE(r.headers.value("content-type"), QByteArray("application/problem+json"));
        QCOMPARE(r.json.value(u"status").toInt(), status);
        QVERIFY(r.json.value(u"type").toString().startsWith(QLatin1String("urn:meterdesk:problem:")));
        QVERIFY(!r.json.value(u"title").toString().isEmpty());
        QVERIFY(!r.json.value(u"detail").toString().isEmpty());
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QString error;
        m_db = test::workspaceLocation(m_dir, QStringLiteral("server.db"), &error);
        QVERIFY2(!m_db.isEmpty(), qPrintable(error));
        auto ws = Workspace::open(m_db, &error);
        QVERIFY2(ws, qPrintable(error));
        m_org = ws->organisation();
        UsageEventDefinition day;
        day.name = QStringLiteral("test 1");
        day.slug = QStringLiteral("test_1");
        day.schema.fields = {{QStringLiteral("cpu_usage_hours_per_day"), FieldType::Float, false, {}}};
        QVERIFY(ws->createDefinition(day).isEmpty());
        UsageEventDefinition month;
        month.name = QStringLiteral("cpu monthly aggregate");
        month.slug = QStringLiteral("cpu_month");
        month.schema.fields = {{QStringLiteral("cpu_usage_hours_per_month"), FieldType::Decimal, true, {}}};
        QVERIFY(ws->createDefinition(month).isEmpty());
        UsageEventDefinition typed;
        typed.name = QStringLiteral("typed");
        typed.schema.fields = {{QStringLiteral("count"), FieldType::Integer, true, {}},
                               {QStringLiteral("region"), FieldType::String, true, {}},
                               {QStringLiteral("meta.ok"), FieldType::Boolean, false, {}}};
        QVERIFY(ws->createDefinition(typed).isEmpty());
        UsageEventDefinition over;
        over.name = QStringLiteral("overwritten");
        over.policy = DuplicatePolicy::Overwrite;
        over.schema.fields = {{QStringLiteral("n"), FieldType::Integer, false, {}}};
        QVERIFY(ws->createDefinition(over).isEmpty());
        const auto key = ApiKeys::create(*ws, QStringLiteral("test"), &error);
        QVERIFY(key);
        m_key = key->key;
        startService();
    }

    void cleanupTestCase() { m_service.reset(); }

    void seedCurlsVerbatim()
    {
        const Reply first = post(QStringLiteral("/usage/test_1"), kSeedOne);
        QCOMPARE(first.status, 201);
        QCOMPARE(first.json.value(u"customer_id").toString(), QStringLiteral("[email protected]"));
        QCOMPARE(first.json.value(u"timestamp").toString(), QStringLiteral("2023-05-21T09:30:38.731Z"));
        QVERIFY(first.json.value(u"id").toInteger() > 0);
        QCOMPARE(rows(QStringLiteral("usage_test_1")), 1);
        // The seed's rule: customer_id + timestamp identify an event. Other data -> 409.
        const Reply second = post(QStringLiteral("/usage/test_1"), kSeedTwo);
        checkProblem(second, 409);
        QCOMPARE(second.json.value(u"existing_id").toInteger(), first.json.value(u"id").toInteger());
        QCOMPARE(rows(QStringLiteral("usage_test_1")), 1);
        // The monthly aggregate as its own usage event.
        QCOMPARE(post(QStringLiteral("/usage/cpu_month"), kSeedTwo).status, 201);
        // Exact duplicate: 200, stored once.
        const Reply again = post(QStringLiteral("/usage/test_1"), kSeedOne);
        QCOMPARE(again.status, 200);
        QCOMPARE(rows(QStringLiteral("usage_test_1")), 1);
    }

    void numericStringsAndTimestampForms_data()
    {
        QTest::addColumn<QByteArray>("timestamp");
        QTest::addColumn<QString>("canonical");
        QTest::newRow("seed form") << QByteArray("\"2023-06-01 10:00:00.5\"") << QStringLiteral("2023-06-01T10:00:00.500Z");
        QTest::newRow("rfc3339 Z") << QByteArray("\"2023-06-01T10:00:01Z\"") << QStringLiteral("2023-06-01T10:00:01.000Z");
        QTest::newRow("offset") << QByteArray("\"2023-06-01T15:30:02+05:30\"") << QStringLiteral("2023-06-01T10:00:02.000Z");
        QTest::newRow("micros") << QByteArray("\"2023-06-01 10:00:03.123456\"") << QStringLiteral("2023-06-01T10:00:03.123456Z");
        QTest::newRow("epoch") << QByteArray("1685613604") << QStringLiteral("2023-06-01T10:00:04.000Z");
        QTest::newRow("epoch fraction") << QByteArray("1685613605.25") << QStringLiteral("2023-06-01T10:00:05.250Z");
    }
    void numericStringsAndTimestampForms()
    {
        QFETCH(QByteArray, timestamp);
        QFETCH(QString, canonical);
        const Reply r = post(QStringLiteral("/usage/test_1"),
                             R"({"data":{"cpu_usage_hours_per_day":"7.5"},"customer_id":"forms","timestamp":)" + timestamp + "}");
        QCOMPARE(r.status, 201);
        QCOMPARE(r.json.value(u"timestamp").toString(), canonical);
    }

    void decimalStaysExact()
    {
        const Reply r = post(QStringLiteral("/usage/cpu_month"),
                             R"({"data":{"cpu_usage_hours_per_month":"12345678901234567890.123456789"},"customer_id":"dec","timestamp":1})");
        QCOMPARE(r.status, 201);
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QSqlQuery q(ws->database());
        QVERIFY(q.exec(QStringLiteral("SELECT \"data.cpu_usage_hours_per_month\" FROM usage_cpu_month WHERE customer_id = 'dec'")));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("12345678901234567890.123456789"));
    }

    void badRequests400()
    {
        checkProblem(post(QStringLiteral("/usage/test_1"), "{not json"), 400);
        checkProblem(post(QStringLiteral("/usage/test_1"), "[1,2]"), 400);
        checkProblem(post(QStringLiteral("/usage/test_1"), ""), 400);
        const Reply missing = post(QStringLiteral("/usage/test_1"), R"({"data":{}})");
        checkProblem(missing, 400);
        QStringList pointers;
        for (const QJsonValue &e : missing.json.value(u"errors").toArray())
            pointers.append(e.toObject().value(u"pointer").toString());
        QVERIFY(pointers.contains(QStringLiteral("/customer_id")));
        QVERIFY(pointers.contains(QStringLiteral("/timestamp")));
        checkProblem(post(QStringLiteral("/usage/test_1"), R"({"data":5,"customer_id":"c","timestamp":1})"), 400);
        checkProblem(post(QStringLiteral("/usage/test_1"), R"({"data":{},"customer_id":"c","timestamp":1,"data":{}})"), 400);
        checkProblem(post(QStringLiteral("/usage/test_1"), R"({"data":{"x":NaN},"customer_id":"c","timestamp":1})"), 400);
        checkProblem(post(QStringLiteral("/usage/test_1"), "{\"data\":{\"x\":\"\xff\xfe\"},\"customer_id\":\"c\",\"timestamp\":1}"), 400);
        checkProblem(post(QStringLiteral("/usage/test_1"), QByteArray(100000, '[') + QByteArray(100000, ']')), 400);
    }

    void auth401and403()
    {
        checkProblem(post(QStringLiteral("/usage/test_1"), kSeedOne, {}, false), 401);
        const Reply wrongKey = post(QStringLiteral("/usage/test_1"), kSeedOne,
                                    {{"organisation", m_org.toUtf8()}, {"authorization", "Bearer mdk_wrong"}}, false);
        checkProblem(wrongKey, 401);
        QCOMPARE(wrongKey.headers.value("www-authenticate"), QByteArray("Bearer"));
        checkProblem(post(QStringLiteral("/usage/test_1"), kSeedOne, {{"x-api-key", m_key.toUtf8()}}, false), 403);
        checkProblem(post(QStringLiteral("/usage/test_1"), kSeedOne,
                          {{"x-api-key", m_key.toUtf8()}, {"organisation", "23507783-d5b4-4854-b012-2bf4ea922205"}}, false),
                     403);
        // x-api-key works like Bearer.
        const Reply viaHeader = post(QStringLiteral("/usage/test_1"),
                                     R"({"data":{},"customer_id":"xkey","timestamp":2})",
                                     {{"x-api-key", m_key.toUtf8()}, {"organisation", m_org.toUtf8()}}, false);
        QCOMPARE(viaHeader.status, 201);
        // A revoked key stops working within the cache refresh.
        QString error;
        auto ws = Workspace::open(m_db, &error);
        const auto second = ApiKeys::create(*ws, QStringLiteral("short-lived"), &error);
        QVERIFY(second);
        const auto withSecond = [&] {
            return post(QStringLiteral("/usage/test_1"), R"({"data":{},"customer_id":"rev","timestamp":3})",
                        {{"x-api-key", second->key.toUtf8()}, {"organisation", m_org.toUtf8()}}, false);
        };
        QTRY_COMPARE_WITH_TIMEOUT(withSecond().status / 100, 2, 5000);
        QVERIFY(ApiKeys::revoke(*ws, second->info.id, &error));
        QTRY_COMPARE_WITH_TIMEOUT(withSecond().status, 401, 5000);
    }

    void routes404and405()
    {
        checkProblem(post(QStringLiteral("/usage/no_such_event"), kSeedOne), 404);
        checkProblem(request("GET", QStringLiteral("/nothing/here")), 404);
        checkProblem(post(QStringLiteral("/usage/x';DROP%20TABLE%20definitions;--"), kSeedOne), 404);
        const Reply put = request("PUT", QStringLiteral("/usage/test_1"), kSeedOne);
        checkProblem(put, 405);
        QVERIFY(put.headers.value("allow").contains("POST"));
        checkProblem(request("DELETE", QStringLiteral("/healthz")), 405);
        QVERIFY(rows(QStringLiteral("definitions")) >= 4);
    }

    void schema422EveryProblemAtOnce()
    {
        const Reply r = post(QStringLiteral("/usage/typed"),
                             R"({"data":{"count":"1.5","meta":{"ok":"maybe"}},"customer_id":"c","timestamp":"2023-02-30 00:00:00"})");
        checkProblem(r, 422);
        QMap<QString, QString> byPointer;
        for (const QJsonValue &e : r.json.value(u"errors").toArray())
            byPointer.insert(e.toObject().value(u"pointer").toString(), e.toObject().value(u"detail").toString());
        QVERIFY2(byPointer.contains(QStringLiteral("/data/count")), r.body.constData());
        QVERIFY(byPointer.contains(QStringLiteral("/data/region")));
        QVERIFY(byPointer.contains(QStringLiteral("/data/meta/ok")));
        QVERIFY(byPointer.contains(QStringLiteral("/timestamp")));
        QVERIFY(byPointer.value(QStringLiteral("/timestamp")).contains(QLatin1String("Accepted forms")));
        QCOMPARE(rows(QStringLiteral("usage_typed")), 0);
    }

    void overwritePolicyAudits()
    {
        QCOMPARE(post(QStringLiteral("/usage/overwritten"), R"({"data":{"n":1},"customer_id":"o","timestamp":10})").status, 201);
        QCOMPARE(post(QStringLiteral("/usage/overwritten"), R"({"data":{"n":2},"customer_id":"o","timestamp":10})").status, 201);
        QCOMPARE(rows(QStringLiteral("usage_overwritten")), 1);
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QSqlQuery q(ws->database());
        QVERIFY(q.exec(QStringLiteral("SELECT before_json, after_json FROM audit_log WHERE action = 'overwrite'")));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("{\"n\":1}"));
        QCOMPARE(q.value(1).toString(), QStringLiteral("{\"n\":2}"));
    }

    void payloadTooLarge413BeforeTheBody()
    {
        // The head alone announces 2 MiB: the answer comes without sending a byte of body.
        const QByteArray head = "POST /usage/test_1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                "Content-Length: 2097152\r\n\r\n";
        const QByteArray answer = raw(head);
        QVERIFY2(answer.startsWith("HTTP/1.1 413"), answer.constData());
        QVERIFY(answer.contains("application/problem+json"));
        // A chunked body that grows past the limit is cut off too.
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(m_base.port()));
        QVERIFY(s.waitForConnected(3000));
        s.write("POST /usage/test_1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        const QByteArray chunk = QByteArray::number(64 * 1024, 16) + "\r\n" + QByteArray(qsizetype(64) * 1024, ' ') + "\r\n";
        QByteArray got;
        for (int i = 0; i < 40 && !got.contains("413"); ++i) {
            s.write(chunk);
            s.waitForBytesWritten(1000);
            if (s.waitForReadyRead(10))
                got += s.readAll();
        }
        while (!got.contains("413") && s.waitForReadyRead(1000))
            got += s.readAll();
        QVERIFY2(got.startsWith("HTTP/1.1 413"), got.left(200).constData());
        // A batch may be larger than an event.
        QByteArray batch = "[";
        for (int i = 0; i < 15000; ++i)
            batch += (i ? "," : "") + QByteArray(R"({"data":{"note":"a batch may be larger than one event"},"customer_id":"big","timestamp":)") + QByteArray::number(i) + "}";
        batch += "]";
        QVERIFY(batch.size() > qsizetype(1024) * 1024);
        checkProblem(post(QStringLiteral("/usage/test_1/batch"), batch), 413); // over 10,000 events
    }

    void headersTooLarge431()
    {
        const QByteArray answer = raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(20000, 'a') + "\r\n\r\n");
        QVERIFY2(answer.startsWith("HTTP/1.1 431"), answer.left(100).constData());
    }

    void conflictingLengths400()
    {
        const QByteArray answer = raw("POST /usage/test_1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                      "Transfer-Encoding: chunked\r\n\r\n");
        QVERIFY2(answer.startsWith("HTTP/1.1 400"), answer.left(100).constData());
    }

    void batchAtomicAndPartial()
    {
        const QByteArray good = R"({"data":{"count":1,"region":"eu"},"customer_id":"b","timestamp":100})";
        const QByteArray good2 = R"({"data":{"count":2,"region":"eu"},"customer_id":"b","timestamp":101})";
        const QByteArray bad = R"({"data":{"count":"x","region":"eu"},"customer_id":"b","timestamp":102})";
        const Reply atomic = post(QStringLiteral("/usage/typed/batch"), "[" + good + "," + bad + "]");
        checkProblem(atomic, 422);
        QCOMPARE(atomic.json.value(u"errors").toArray().first().toObject().value(u"pointer").toString(),
                 QStringLiteral("/1/data/count"));
        QCOMPARE(rows(QStringLiteral("usage_typed")), 0);

        const Reply partial = post(QStringLiteral("/usage/typed/batch?partial=true"), "[" + good + "," + bad + "]");
        QCOMPARE(partial.status, 200);
        QCOMPARE(partial.json.value(u"stored").toInt(), 1);
        QCOMPARE(partial.json.value(u"rejected").toArray().first().toObject().value(u"index").toInt(), 1);
        QCOMPARE(rows(QStringLiteral("usage_typed")), 1);

        const Reply ndjson = post(QStringLiteral("/usage/typed/batch"), good + "\n" + good2 + "\n",
                                  {{"content-type", "application/x-ndjson"}});
        QCOMPARE(ndjson.status, 201);
        QCOMPARE(ndjson.json.value(u"stored").toInt(), 1);
        QCOMPARE(ndjson.json.value(u"duplicates").toInt(), 1);
        QCOMPARE(rows(QStringLiteral("usage_typed")), 2);

        // A conflict inside an atomic batch rolls the whole batch back.
        const QByteArray clash = R"({"data":{"count":9,"region":"eu"},"customer_id":"b","timestamp":100})";
        const QByteArray fresh = R"({"data":{"count":3,"region":"eu"},"customer_id":"b","timestamp":103})";
        const Reply conflict = post(QStringLiteral("/usage/typed/batch"), "[" + fresh + "," + clash + "]");
        checkProblem(conflict, 409);
        QCOMPARE(rows(QStringLiteral("usage_typed")), 2);
    }

    void batchLimitFollowsTheParsedPath()
    {
        // 10,000 events, ~1.2 MB: over the 1 MiB of a single event, within the 16 MiB of a
        // batch. Only /usage/{slug}/batch gets the batch limit — the parsed path decides,
        // not "/batch" anywhere in the target.
        QByteArray body = "[";
        for (int i = 0; i < 10000; ++i)
            body += (i ? "," : "") + QByteArray("{\"data\":{\"count\":") + QByteArray::number(i)
                + ",\"region\":\"eu-west-1-availability-zone-a\"},\"customer_id\":\"big-" + QByteArray::number(i % 16)
                + "\",\"timestamp\":" + QByteArray::number(1700000000 + i) + "}";
        body += "]";
        QVERIFY(body.size() > qsizetype(1024) * 1024);
        const qint64 before = rows(QStringLiteral("usage_typed"));
        const Reply big = post(QStringLiteral("/usage/typed/batch"), body);
        QCOMPARE(big.status, 201);
        QCOMPARE(big.json.value(u"stored").toInt(), 10000);
        QCOMPARE(rows(QStringLiteral("usage_typed")), before + 10000);
        checkProblem(post(QStringLiteral("/usage/typed?a=/batch"), body), 413);
        checkProblem(post(QStringLiteral("/usage/typed/x/batch"), body), 413);
        QCOMPARE(rows(QStringLiteral("usage_typed")), before + 10000);
    }

    void listWithFiltersAndCursor()
    {
        QByteArray batch = "[";
        for (int i = 0; i < 25; ++i)
            batch += (i ? "," : "") + QByteArray(R"({"data":{"n":)") + QByteArray::number(i)
                + "},\"customer_id\":\"" + (i % 2 ? "odd" : "even") + "\",\"timestamp\":" + QByteArray::number(1000 + i) + "}";
        batch += "]";
        QCOMPARE(post(QStringLiteral("/usage/overwritten/batch"), batch).status, 201);
        QList<int> seen;
        QString cursor;
        for (int page = 0; page < 10; ++page) {
            const Reply r = request("GET", QStringLiteral("/usage/overwritten?customer_id=odd&limit=5&from=1000&to=1100")
                                               + (cursor.isEmpty() ? QString() : QStringLiteral("&cursor=") + cursor));
            QCOMPARE(r.status, 200);
            for (const QJsonValue &v : r.json.value(u"data").toArray()) {
                QCOMPARE(v.toObject().value(u"customer_id").toString(), QStringLiteral("odd"));
                seen.append(v.toObject().value(u"data").toObject().value(u"n").toInt());
            }
            if (r.json.value(u"next_cursor").isNull())
                break;
            cursor = r.json.value(u"next_cursor").toString();
        }
        QCOMPARE(seen.size(), 12);
        QCOMPARE(seen.first(), 23); // newest first
        QCOMPARE(seen.last(), 1);
        checkProblem(request("GET", QStringLiteral("/usage/overwritten?from=yesterday")), 400);
        checkProblem(request("GET", QStringLiteral("/usage/overwritten"), {}, {}, false), 401);
    }

    void openRoutesNeedNoKey()
    {
        const Reply health = request("GET", QStringLiteral("/healthz"), {}, {}, false);
        QCOMPARE(health.status, 200);
        QCOMPARE(health.json.value(u"status").toString(), QStringLiteral("ok"));
        const Reply metrics = request("GET", QStringLiteral("/metrics"), {}, {}, false);
        QCOMPARE(metrics.status, 200);
        QVERIFY(metrics.body.contains("meterdesk_events_accepted_total "));
        QVERIFY(metrics.body.contains("meterdesk_commit_seconds_bucket{le=\"+Inf\"}"));
        QVERIFY(metrics.body.contains("meterdesk_requests_rejected_total{status=\"401\"}"));
        const Reply api = request("GET", QStringLiteral("/openapi.json"), {}, {}, false);
        QCOMPARE(api.status, 200);
        QCOMPARE(api.json.value(u"openapi").toString(), QStringLiteral("3.1.0"));
        const QJsonObject post = api.json.value(u"paths").toObject().value(u"/usage/test_1").toObject().value(u"post").toObject();
        const QJsonObject data = post.value(u"requestBody").toObject().value(u"content").toObject()
                                     .value(u"application/json").toObject().value(u"schema").toObject()
                                     .value(u"properties").toObject().value(u"data").toObject();
        QCOMPARE(data.value(u"properties").toObject().value(u"cpu_usage_hours_per_day").toObject().value(u"type").toString(),
                 QStringLiteral("number"));
    }

    void keyLastUseIsRecorded()
    {
        QCOMPARE(request("GET", QStringLiteral("/usage/test_1?limit=1")).status, 200);
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (const ApiKeyInfo &k : ApiKeys::list(*ws))
                    if (k.name == QLatin1String("test") && k.lastUsedAtUs && *k.lastUsedAtUs > Workspace::nowUs() - 60000000)
                        return true;
                return false;
            }(),
            5000);
    }

    void rejectedRequestsAreDeadLettered()
    {
        post(QStringLiteral("/usage/test_1"), "{broken", {{"x-trace", "dl-probe"}});
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                QSqlQuery q(ws->database());
                return q.exec(QStringLiteral("SELECT count(*) FROM dead_letters WHERE body = '{broken' AND status = 400 "
                                             "AND headers LIKE '%dl-probe%' AND headers NOT LIKE '%Bearer%'"))
                    && q.next() && q.value(0).toInt() == 1;
            }(),
            5000);
    }

    void unroutedUsagePathsAreDeadLettered()
    {
        // Found by fuzz_http: a 404 under /usage/ had a null slug, so its dead letter broke
        // NOT NULL and the writer dropped that group's dead letters and key use with it.
        QCOMPARE(post(QStringLiteral("/usage/test_1/nope"), "{}", {{"x-trace", "dl-unrouted"}}).status, 404);
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                QSqlQuery q(ws->database());
                return q.exec(QStringLiteral("SELECT count(*) FROM dead_letters WHERE status = 404 AND slug = '' "
                                             "AND headers LIKE '%dl-unrouted%'"))
                    && q.next() && q.value(0).toInt() == 1;
            }(),
            5000);
    }

    void concurrentDedupe()
    {
        // 1,000 events sent 3 times by 4 concurrent clients -> exactly 1,000 rows.
        QList<QNetworkAccessManager *> clients;
        for (int c = 0; c < 4; ++c)
            clients.append(new QNetworkAccessManager(this));
        int finished = 0, bad = 0;
        const int total = 1000 * 3;
        for (int round = 0; round < 3; ++round) {
            for (int i = 0; i < 1000; ++i) {
                QNetworkRequest req(m_base.resolved(QUrl(QStringLiteral("/usage/cpu_month"))));
                req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
                req.setRawHeader("organisation", m_org.toUtf8());
                req.setRawHeader("x-api-key", m_key.toUtf8());
                const QByteArray body = R"({"data":{"cpu_usage_hours_per_month":)" + QByteArray::number(i)
                    + "},\"customer_id\":\"dedupe-" + QByteArray::number(i % 37) + "\",\"timestamp\":"
                    + QByteArray::number(1700000000 + i) + "}";
                QNetworkReply *reply = clients[(i + round) % 4]->post(req, body);
                connect(reply, &QNetworkReply::finished, this, [&finished, &bad, reply] {
                    const int s = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                    if (s != 201 && s != 200)
                        ++bad;
                    ++finished;
                    reply->deleteLater();
                });
            }
        }
        QTRY_COMPARE_WITH_TIMEOUT(finished, total, 60000);
        QCOMPARE(bad, 0);
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QSqlQuery q(ws->database());
        QVERIFY(q.exec(QStringLiteral("SELECT count(*) FROM usage_cpu_month WHERE customer_id LIKE 'dedupe-%'")) && q.next());
        QCOMPARE(q.value(0).toInt(), 1000);
        qDeleteAll(clients);
    }

    void twoNodesOneDatabase()
    {
        // A second node on the same workspace (on PostgreSQL: the scale-out setup).
        IngestService second(m_db);
        QSignalSpy started(&second, &IngestService::started);
        second.start(QStringLiteral("127.0.0.1"), 0);
        QVERIFY(started.wait(5000));
        const QList<QUrl> nodes = {m_base, QUrl(started.first().first().toString())};

        // A definition added elsewhere (here: as `meterdesk events add` would) is served by
        // both running nodes within a few seconds, without a restart.
        {
            QString error;
            auto ws = Workspace::open(m_db, &error);
            QVERIFY2(ws, qPrintable(error));
            UsageEventDefinition spread;
            spread.name = QStringLiteral("spread");
            spread.schema.fields = {{QStringLiteral("n"), FieldType::Integer, true, {}}};
            const Problems problems = ws->createDefinition(spread);
            QVERIFY(problems.isEmpty());
        }
        const QUrl saved = m_base;
        for (const QUrl &node : nodes) {
            m_base = node;
            QTRY_COMPARE_WITH_TIMEOUT(post(QStringLiteral("/usage/spread"),
                                           "{\"data\":{\"n\":0},\"customer_id\":\"probe\",\"timestamp\":1}").status / 100,
                                      2, 5000);
        }
        m_base = saved;

        // 4 clients send the same 2,000 events, spread over both nodes: exactly 2,000
        // rows, every answer 201 (stored) or 200 (already stored). A request the database
        // could not commit (503, e.g. two nodes' groups deadlocking) is sent again.
        constexpr int Events = 2000;
        QList<QNetworkAccessManager *> clients;
        for (int c = 0; c < 4; ++c)
            clients.append(new QNetworkAccessManager(this));
        int finished = 0, created = 0, duplicates = 0, retries = 0;
        QList<int> unexpected;
        std::function<void(int, int, int)> send = [&](int client, int i, int attempt) {
            QNetworkRequest req(nodes[(i + client) % 2].resolved(QUrl(QStringLiteral("/usage/spread"))));
            req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
            req.setRawHeader("organisation", m_org.toUtf8());
            req.setRawHeader("x-api-key", m_key.toUtf8());
            const QByteArray body = "{\"data\":{\"n\":" + QByteArray::number(i) + "},\"customer_id\":\"node-"
                + QByteArray::number(i % 41) + "\",\"timestamp\":" + QByteArray::number(1800000000 + i) + "}";
            QNetworkReply *reply = clients[client]->post(req, body);
            connect(reply, &QNetworkReply::finished, this, [&, reply, client, i, attempt] {
                const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                reply->deleteLater();
                if ((status == 503 || status == 429) && attempt < 20) {
                    ++retries;
                    QTimer::singleShot(20 * (attempt + 1), this, [&send, client, i, attempt] { send(client, i, attempt + 1); });
                    return;
                }
                if (status == 201)
                    ++created;
                else if (status == 200)
                    ++duplicates;
                else
                    unexpected.append(status);
                ++finished;
            });
        };
        for (int client = 0; client < 4; ++client)
            for (int i = 0; i < Events; ++i)
                send(client, i, 0);
        QTRY_COMPARE_WITH_TIMEOUT(finished, 4 * Events, 120000);
        QCOMPARE(unexpected, QList<int>());
        QCOMPARE(created, Events); // the database's unique constraint decided, across nodes
        QCOMPARE(duplicates, 3 * Events);
        QCOMPARE(rows(QStringLiteral("usage_spread")), qint64(Events + 1)); // + the probe
        qDeleteAll(clients);
        if (retries > 0)
            qInfo() << "requests sent again after a 503/429:" << retries;
    }

    void clientsThatHangUp()
    {
        // Mid-head, mid-body, and right after a full request (the answer is deferred
        // until the commit: writing it to a vanished socket must not crash).
        for (const QByteArray &bytes : {QByteArray("POST /usage/test_1 HTTP/1.1\r\nHost:"),
                                        QByteArray("POST /usage/test_1 HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"da"),
                                        QByteArray()}) {
            for (int i = 0; i < 50; ++i) {
                QTcpSocket s;
                s.connectToHost(QHostAddress::LocalHost, quint16(m_base.port()));
                QVERIFY(s.waitForConnected(3000));
                QByteArray payload = bytes;
                if (payload.isEmpty()) {
                    const QByteArray body = R"({"data":{},"customer_id":"hangup","timestamp":)" + QByteArray::number(5000 + i) + "}";
                    payload = "POST /usage/test_1 HTTP/1.1\r\nHost: x\r\norganisation: " + m_org.toUtf8()
                        + "\r\nx-api-key: " + m_key.toUtf8() + "\r\nContent-Length: " + QByteArray::number(body.size())
                        + "\r\n\r\n" + body;
                }
                s.write(payload);
                s.waitForBytesWritten(1000);
                s.abort();
            }
        }
        QTest::qWait(300);
        QCOMPARE(request("GET", QStringLiteral("/healthz")).status, 200);
        // Events whose client vanished after sending were still stored (the server had them whole).
        QTRY_COMPARE_WITH_TIMEOUT(rows(QStringLiteral("usage_test_1")) >= 2, true, 3000);
    }

    void idleConnectionsDoNotBlockOthers()
    {
        QList<QTcpSocket *> idle;
        for (int i = 0; i < 500; ++i) {
            auto *s = new QTcpSocket(this);
            s->connectToHost(QHostAddress::LocalHost, quint16(m_base.port()));
            idle.append(s);
        }
        for (QTcpSocket *s : std::as_const(idle))
            QVERIFY(s->state() == QAbstractSocket::ConnectedState || s->waitForConnected(3000));
        QElapsedTimer t;
        t.start();
        QCOMPARE(request("GET", QStringLiteral("/healthz")).status, 200);
        QVERIFY(t.elapsed() < 1000);
        qDeleteAll(idle);
    }

    void slowHeadTimesOut408()
    {
        EndpointLimits limits;
        limits.headTimeoutMs = 300;
        IngestService quick(m_db, limits);
        QSignalSpy started(&quick, &IngestService::started);
        quick.start(QStringLiteral("127.0.0.1"), 0);
        QVERIFY(started.wait(5000));
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(QUrl(started.first().first().toString()).port()));
        QVERIFY(s.waitForConnected(3000));
        s.write("POST /usage/test_1 HTTP/1.1\r\n");
        QByteArray got;
        while (!got.contains("\r\n\r\n") && s.waitForReadyRead(3000))
            got += s.readAll();
        QVERIFY2(got.startsWith("HTTP/1.1 408"), got.constData());
    }

    void queueFull429()
    {
        EndpointLimits limits;
        limits.maxQueuedEvents = 1;
        IngestService tiny(m_db, limits);
        QSignalSpy started(&tiny, &IngestService::started);
        tiny.start(QStringLiteral("127.0.0.1"), 0);
        QVERIFY(started.wait(5000));
        const QUrl saved = m_base;
        m_base = QUrl(started.first().first().toString());
        const Reply r = post(QStringLiteral("/usage/test_1/batch"),
                             R"([{"data":{},"customer_id":"q","timestamp":1},{"data":{},"customer_id":"q","timestamp":2}])");
        checkProblem(r, 429);
        QCOMPARE(r.headers.value("retry-after"), QByteArray("1"));
        m_base = saved;
    }

    void shuttingDown503()
    {
        IngestService closing(m_db);
        QSignalSpy started(&closing, &IngestService::started);
        closing.start(QStringLiteral("127.0.0.1"), 0);
        QVERIFY(started.wait(5000));
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(QUrl(started.first().first().toString()).port()));
        QVERIFY(s.waitForConnected(3000));
        QTest::qWait(100); // the connection is accepted before shutdown begins
        closing.beginShutdown();
        const QByteArray body = R"({"data":{},"customer_id":"late","timestamp":1})";
        s.write("POST /usage/test_1 HTTP/1.1\r\nHost: x\r\norganisation: " + m_org.toUtf8() + "\r\nx-api-key: "
                + m_key.toUtf8() + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QByteArray got;
        while (!got.contains("}") && s.waitForReadyRead(3000))
            got += s.readAll();
        QVERIFY2(got.startsWith("HTTP/1.1 503"), got.constData());
        QVERIFY(got.toLower().contains("retry-after: 1"));
    }
};

QTEST_GUILESS_MAIN(TestServer)
#include "tst_server.moc"
