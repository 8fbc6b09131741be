// Usage alerts end to end over real loopback: the in-process endpoint (IngestService
// on port 0, a real SQLite file or, with MDK_TEST_BACKEND=postgresql, a fresh
// PostgreSQL database), the AlertMonitor wired to its commits as the app wires it,
// and a webhook receiver on a real QTcpServer that counts POSTs and keeps bodies.
// Then the Alerts tab (form validation inline, history) and the desktop app's
// notification on the offscreen platform (no tray).
#include "alertmonitor.h"
#include "alertnotifier.h"
#include "alerts.h"
#include "alertstab.h"
#include "apikeys.h"
#include "desktopapp.h"
#include "eventpage.h"
#include "ingestservice.h"
#include "mainwindow.h"
#include "eventloop.h"
#include "testbackend.h"
#include "workspace.h"
#include "workspaceservice.h"

#include <QCheckBox>
#include <QComboBox>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QElapsedTimer>
#include <QTest>

using namespace meterdesk;

namespace {

const QString kSlug = QStringLiteral("cpu_usage");
const QString kField = QStringLiteral("cpu_usage_hours_per_day");

// A webhook receiver: HTTP/1.1 over a real socket, one request per connection.
// Answers with the queued statuses, then 200; a silent one never answers.
class WebhookReceiver : public QObject
{
public:
    struct Request
    {
        QByteArray head;
        QByteArray body;
    };
    QList<Request> requests;
    QList<int> answers;
    bool silent = false;

    WebhookReceiver()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, this, [this, s] { read(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
        m_server.listen(QHostAddress::LocalHost, 0);
    }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1/hooks/usage").arg(m_server.serverPort()); }
    QList<QByteArray> bodies() const
    {
        QList<QByteArray> out;
        for (const Request &r : requests)
            out.append(r.body);
        return out;
    }

private:
    void read(QTcpSocket *s)
    {
        QByteArray &buffer = m_buffers[s];
        buffer += s->readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QByteArray head = buffer.left(end);
        qsizetype length = 0;
        for (const QByteArray &line : head.split('\n'))
            if (line.toLower().startsWith("content-length:"))
                length = line.mid(15).trimmed().toLongLong();
        if (buffer.size() < end + 4 + length)
            return;
        requests.append({head, buffer.mid(end + 4, length)});
        m_buffers.remove(s);
        if (silent)
            return;
        const int status = answers.isEmpty() ? 200 : answers.takeFirst();
        s->write("HTTP/1.1 " + QByteArray::number(status) + " Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        s->disconnectFromHost();
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

QByteArray eventJson(const QString &customer, const QString &timestamp, const QByteArray &value)
{
    return "{\"data\":{\"cpu_usage_hours_per_day\":" + value + ",\"region\":\"eu\"},\"timestamp\":\"" + timestamp.toUtf8()
         + "\",\"customer_id\":\"" + customer.toUtf8() + "\"}";
}

bool noProblems(const Problems &problems)
{
    for (const Problem &p : problems)
        qWarning() << p.pointer << p.message;
    return problems.isEmpty();
}

} // namespace

class TestAlerts : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_db;
    QString m_key;
    QString m_org;
    std::unique_ptr<Workspace> m_ws; // the test's own connection
    UsageEventDefinition m_definition;
    std::unique_ptr<IngestService> m_service;
    std::unique_ptr<AlertMonitor> m_monitor;
    WebhookReceiver m_receiver;
    QNetworkAccessManager m_nam;
    QUrl m_base;
    AlertDefinition m_alert;
    AlertMonitor::Options m_options;

    int post(const QString &path, const QByteArray &body)
    {
        QNetworkRequest req(m_base.resolved(QUrl(path)));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        req.setRawHeader("organisation", m_org.toUtf8());
        req.setRawHeader("authorization", "Bearer " + m_key.toUtf8());
        QNetworkReply *reply = m_nam.post(req, body);
        QSignalSpy done(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            done.wait(10000);
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status != 201)
            qWarning() << status << reply->readAll();
        reply->deleteLater();
        return status;
    }
    int ingest(const QString &customer, const QString &timestamp, const QByteArray &value)
    {
        return post(QStringLiteral("/usage/") + kSlug, eventJson(customer, timestamp, value));
    }

    qint64 maxRowId()
    {
        QSqlQuery q(m_ws->database());
        if (!q.exec(QStringLiteral("SELECT max(id) FROM usage_cpu_usage")) || !q.next())
            return -1;
        return q.value(0).toLongLong();
    }
    qint64 lastRowId(qint64 alertId) { return Alerts::get(*m_ws, alertId).value_or(AlertDefinition{}).lastRowId; }
    // Until the monitor has evaluated every stored row for this alert.
    bool waitEvaluated(qint64 alertId)
    {
        const qint64 target = maxRowId();
        QElapsedTimer t;
        t.start();
        while (lastRowId(alertId) < target && t.elapsed() < 5000)
            QTest::qWait(10);
        return lastRowId(alertId) >= target;
    }
    QList<AlertFiring> firingsOf(qint64 alertId) { return Alerts::firings(*m_ws, alertId); }
    std::optional<AlertFiring> firingFor(qint64 alertId, const QString &customer)
    {
        for (const AlertFiring &f : firingsOf(alertId))
            if (f.customerId == customer)
                return f;
        return std::nullopt;
    }
    QList<QJsonObject> postedFor(const QString &customer) const
    {
        QList<QJsonObject> out;
        for (const QByteArray &b : m_receiver.bodies()) {
            const QJsonObject o = QJsonDocument::fromJson(b).object();
            if (o.value(u"customer_id").toString() == customer)
                out.append(o);
        }
        return out;
    }
    void startMonitor()
    {
        m_monitor = std::make_unique<AlertMonitor>(m_db, m_options);
        connect(m_service.get(), &IngestService::committed, m_monitor.get(), &AlertMonitor::rowsCommitted);
        m_monitor->start();
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        QString error;
        m_db = test::workspaceLocation(m_dir, QStringLiteral("alerts.db"), &error);
        QVERIFY2(!m_db.isEmpty(), qPrintable(error));
        m_ws = Workspace::open(m_db, &error);
        QVERIFY2(m_ws, qPrintable(error));
        m_org = m_ws->organisation();
        m_definition.name = QStringLiteral("cpu usage");
        m_definition.slug = kSlug;
        m_definition.schema.fields = {{kField, FieldType::Decimal, true, {}}, {QStringLiteral("region"), FieldType::String, false, {}}};
        QVERIFY(m_ws->createDefinition(m_definition).isEmpty());
        const auto key = ApiKeys::create(*m_ws, QStringLiteral("test"), &error);
        QVERIFY(key);
        m_key = key->key;

        m_service = std::make_unique<IngestService>(m_db);
        QSignalSpy started(m_service.get(), &IngestService::started);
        m_service->start(QStringLiteral("127.0.0.1"), 0);
        QVERIFY(started.wait(5000));
        m_base = QUrl(started.first().first().toString());

        // Rows stored before the alert exists are not evaluated.
        QCOMPARE(ingest(QStringLiteral("early"), QStringLiteral("2023-05-02 00:00:00"), "1000"), 201);

        m_alert.slug = kSlug;
        m_alert.name = QStringLiteral("CPU over plan");
        m_alert.field = kField;
        m_alert.function = Aggregate::Function::Sum;
        m_alert.window = Aggregate::Window::Month;
        m_alert.comparison = AlertDefinition::Comparison::Above;
        m_alert.threshold = QStringLiteral("300.00");
        m_alert.webhookUrl = m_receiver.url();
        QVERIFY(noProblems(Alerts::create(*m_ws, m_alert)));
        QVERIFY(m_alert.id > 0);
        QCOMPARE(m_alert.threshold, QStringLiteral("300")); // canonical
        QCOMPARE(m_alert.lastRowId, maxRowId());

        m_options.debounceMs = 30;
        m_options.pollMs = 0;
        m_options.webhookTimeoutMs = 700;
        m_options.retryDelayMs = 50;
        startMonitor();
    }

    void cleanupTestCase()
    {
        m_monitor.reset();
        m_service.reset();
        m_ws.reset();
    }

    void belowThenCrossingThenOncePerWindow()
    {
        const QString a = QStringLiteral("[email protected]");
        QCOMPARE(ingest(a, QStringLiteral("2023-05-03 10:00:00"), "100.25"), 201);
        QCOMPARE(ingest(a, QStringLiteral("2023-05-04 10:00:00"), "150.5"), 201);
        QVERIFY(waitEvaluated(m_alert.id));
        QCOMPARE(firingsOf(m_alert.id).size(), 0); // 250.75
        QTest::qWait(100);
        QCOMPARE(m_receiver.requests.size(), 0);
        QCOMPARE(firingFor(m_alert.id, QStringLiteral("early")), std::nullopt);

        // 300.05 > 300: exactly one POST, exact value (a double would say 300.04999…).
        QCOMPARE(ingest(a, QStringLiteral("2023-05-20 23:59:59.999"), "49.3"), 201);
        QTRY_COMPARE_WITH_TIMEOUT(m_receiver.requests.size(), 1, 5000);
        const QByteArray body = m_receiver.requests.first().body;
        QVERIFY2(body.contains("\"value\":300.05,"), body.constData());
        QVERIFY2(body.contains("\"threshold\":300,"), body.constData());
        QVERIFY(m_receiver.requests.first().head.startsWith("POST /hooks/usage HTTP/1.1"));
        QVERIFY(m_receiver.requests.first().head.toLower().contains("content-type: application/json"));
        const QJsonObject json = QJsonDocument::fromJson(body).object();
        QCOMPARE(json.value(u"alert").toString(), m_alert.name);
        QCOMPARE(json.value(u"alert_id").toInteger(), m_alert.id);
        QCOMPARE(json.value(u"slug").toString(), kSlug);
        QCOMPARE(json.value(u"customer_id").toString(), a);
        QCOMPARE(json.value(u"field").toString(), kField);
        QCOMPARE(json.value(u"fn").toString(), QStringLiteral("sum"));
        QCOMPARE(json.value(u"window").toString(), QStringLiteral("month"));
        QCOMPARE(json.value(u"window_start").toString(), QStringLiteral("2023-05-01T00:00:00Z"));
        QCOMPARE(json.keys().size(), 11);
        const QDateTime firedAt = QDateTime::fromString(json.value(u"fired_at").toString(), Qt::ISODateWithMs);
        QVERIFY(firedAt.isValid());
        QVERIFY(qAbs(firedAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);
        QTRY_COMPARE_WITH_TIMEOUT(firingFor(m_alert.id, a).value_or(AlertFiring{}).webhookStatus, std::optional<int>(200), 5000);
        QCOMPARE(firingFor(m_alert.id, a)->value, QStringLiteral("300.05"));

        // More in the same month: still one.
        QCOMPARE(ingest(a, QStringLiteral("2023-05-21 00:00:00"), "10"), 201);
        QCOMPARE(ingest(a, QStringLiteral("2023-05-31 23:00:00"), "1"), 201);
        QVERIFY(waitEvaluated(m_alert.id));
        QTest::qWait(150);
        QCOMPARE(m_receiver.requests.size(), 1);
        QCOMPARE(firingsOf(m_alert.id).size(), 1);

        // The next month crosses on its own: a second POST.
        QCOMPARE(ingest(a, QStringLiteral("2023-06-01 00:00:00"), "300"), 201); // not above
        QVERIFY(waitEvaluated(m_alert.id));
        QCOMPARE(firingsOf(m_alert.id).size(), 1);
        QCOMPARE(ingest(a, QStringLiteral("2023-06-15 00:00:00"), "0.01"), 201);
        QTRY_COMPARE_WITH_TIMEOUT(m_receiver.requests.size(), 2, 5000);
        const QJsonObject june = QJsonDocument::fromJson(m_receiver.requests.last().body).object();
        QCOMPARE(june.value(u"window_start").toString(), QStringLiteral("2023-06-01T00:00:00Z"));
        QVERIFY(m_receiver.requests.last().body.contains("\"value\":300.01,"));
    }

    void twoCustomersOneEach()
    {
        // One batch: B crosses with its second event, C with its only one, D stays below.
        const QByteArray batch = "[" + eventJson(QStringLiteral("b"), QStringLiteral("2023-05-10 00:00:00"), "200") + ","
                               + eventJson(QStringLiteral("b"), QStringLiteral("2023-05-11 00:00:00"), "200") + ","
                               + eventJson(QStringLiteral("c"), QStringLiteral("2023-05-12 00:00:00"), "301") + ","
                               + eventJson(QStringLiteral("d"), QStringLiteral("2023-05-12 00:00:00"), "5") + "]";
        QCOMPARE(post(QStringLiteral("/usage/%1/batch").arg(kSlug), batch), 201);
        QTRY_COMPARE_WITH_TIMEOUT(m_receiver.requests.size(), 4, 5000);
        QVERIFY(waitEvaluated(m_alert.id));
        QTest::qWait(150);
        QCOMPARE(m_receiver.requests.size(), 4);
        QCOMPARE(postedFor(QStringLiteral("b")).size(), 1);
        QCOMPARE(postedFor(QStringLiteral("c")).size(), 1);
        QCOMPARE(postedFor(QStringLiteral("d")).size(), 0);
        bool exact = false;
        for (const QByteArray &b : m_receiver.bodies())
            exact = exact || (b.contains("\"customer_id\":\"b\"") && b.contains("\"value\":400,"));
        QVERIFY(exact);
    }

    void restartDoesNotRefire()
    {
        m_monitor.reset(); // stopped
        // While no monitor runs: an event in A's fired window and a new crossing for E.
        QCOMPARE(ingest(QStringLiteral("[email protected]"), QStringLiteral("2023-05-25 00:00:00"), "1"), 201);
        QCOMPARE(ingest(QStringLiteral("e"), QStringLiteral("2023-05-25 00:00:00"), "999"), 201);
        QTest::qWait(100);
        QCOMPARE(m_receiver.requests.size(), 4);
        startMonitor(); // catches up at start
        QTRY_COMPARE_WITH_TIMEOUT(m_receiver.requests.size(), 5, 5000);
        QCOMPARE(postedFor(QStringLiteral("e")).size(), 1);
        QVERIFY(waitEvaluated(m_alert.id));

        // Evaluate every row again (as a second node would): the UNIQUE guard holds.
        QSqlQuery q(m_ws->database());
        q.prepare(QStringLiteral("UPDATE alerts SET last_row_id = ? WHERE id = ?"));
        q.addBindValue(m_alert.lastRowId); // where it started
        q.addBindValue(m_alert.id);
        QVERIFY(q.exec());
        m_monitor->checkNow();
        QVERIFY(waitEvaluated(m_alert.id));
        QTest::qWait(150);
        QCOMPARE(m_receiver.requests.size(), 5);
        QCOMPARE(firingsOf(m_alert.id).size(), 5); // A May, A June, B, C, E
        QCOMPARE(firingFor(m_alert.id, QStringLiteral("early")), std::nullopt); // stored before the alert
    }

    void twoEvaluatorsAtOnceFireOnce()
    {
        // Two connections evaluate the same position of a (disabled) alert, as two nodes would.
        AlertDefinition count;
        count.slug = kSlug;
        count.name = QStringLiteral("many events");
        count.function = Aggregate::Function::Count;
        count.window = Aggregate::Window::Day;
        count.comparison = AlertDefinition::Comparison::AtLeast;
        count.threshold = QStringLiteral("2");
        count.enabled = false;
        QVERIFY(noProblems(Alerts::create(*m_ws, count)));
        QCOMPARE(ingest(QStringLiteral("n"), QStringLiteral("2023-07-01 01:00:00"), "1"), 201);
        QCOMPARE(ingest(QStringLiteral("n"), QStringLiteral("2023-07-01 02:00:00"), "1"), 201);
        QString error;
        auto other = Workspace::open(m_db, &error);
        QVERIFY(other);
        const auto first = Alerts::evaluate(*m_ws, count, &error);
        QVERIFY2(first, qPrintable(error));
        const auto second = Alerts::evaluate(*other, count, &error);
        QVERIFY2(second, qPrintable(error));
        const QList<AlertFiring> fired = first->fired + second->fired;
        QCOMPARE(fired.size(), 1);
        QCOMPARE(fired.first().value, QStringLiteral("2"));
        QCOMPARE(firingsOf(count.id).size(), 1);
        QCOMPARE(firingsOf(count.id).first().webhookStatus, std::nullopt); // no webhook
        QCOMPARE(lastRowId(count.id), maxRowId());
    }

    void webhookRetriedOnce()
    {
        m_receiver.answers = {500};
        QCOMPARE(ingest(QStringLiteral("f"), QStringLiteral("2023-05-05 00:00:00"), "301"), 201);
        QTRY_COMPARE_WITH_TIMEOUT(firingFor(m_alert.id, QStringLiteral("f")).value_or(AlertFiring{}).webhookStatus,
                                  std::optional<int>(200), 5000);
        const QList<QJsonObject> posted = postedFor(QStringLiteral("f"));
        QCOMPARE(posted.size(), 2); // the 500, then the retry
        QCOMPARE(posted.first(), posted.last());

        m_receiver.answers = {503, 502};
        QCOMPARE(ingest(QStringLiteral("g"), QStringLiteral("2023-05-05 00:00:00"), "301"), 201);
        QTRY_COMPARE_WITH_TIMEOUT(firingFor(m_alert.id, QStringLiteral("g")).value_or(AlertFiring{}).webhookStatus,
                                  std::optional<int>(502), 5000);
        QCOMPARE(postedFor(QStringLiteral("g")).size(), 2); // one retry, not more
        QCOMPARE(Alerts::webhookStatusText(502), QStringLiteral("failed: HTTP 502"));
    }

    void webhookDownStillRecorded()
    {
        quint16 deadPort = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            deadPort = probe.serverPort();
        }
        AlertDefinition changed = *Alerts::get(*m_ws, m_alert.id);
        changed.webhookUrl = QStringLiteral("http://127.0.0.1:%1/down").arg(deadPort);
        QVERIFY(noProblems(Alerts::update(*m_ws, changed)));
        QSignalSpy problems(m_monitor.get(), &AlertMonitor::problem);
        const qsizetype before = m_receiver.requests.size();
        QCOMPARE(ingest(QStringLiteral("h"), QStringLiteral("2023-05-05 00:00:00"), "301"), 201);
        QTRY_COMPARE_WITH_TIMEOUT(firingFor(m_alert.id, QStringLiteral("h")).value_or(AlertFiring{}).webhookStatus,
                                  std::optional<int>(Alerts::WebhookUnreachable), 5000);
        QCOMPARE(firingFor(m_alert.id, QStringLiteral("h"))->value, QStringLiteral("301"));
        QCOMPARE(m_receiver.requests.size(), before);
        QCOMPARE(problems.size(), 0); // a webhook failure is the firing's status, not a monitor problem

        // A receiver that accepts and never answers: timed out (both attempts).
        WebhookReceiver silent;
        silent.silent = true;
        changed.webhookUrl = silent.url();
        QVERIFY(noProblems(Alerts::update(*m_ws, changed)));
        QCOMPARE(ingest(QStringLiteral("i"), QStringLiteral("2023-05-05 00:00:00"), "301"), 201);
        QTRY_COMPARE_WITH_TIMEOUT(firingFor(m_alert.id, QStringLiteral("i")).value_or(AlertFiring{}).webhookStatus,
                                  std::optional<int>(Alerts::WebhookTimedOut), 6000);
        QCOMPARE(silent.requests.size(), 2);
        QCOMPARE(Alerts::webhookStatusText(Alerts::WebhookTimedOut), QStringLiteral("failed: timed out"));

        // And the monitor goes on: back to the working receiver.
        changed.webhookUrl = m_receiver.url();
        QVERIFY(noProblems(Alerts::update(*m_ws, changed)));
        QCOMPARE(ingest(QStringLiteral("j"), QStringLiteral("2023-05-05 00:00:00"), "301"), 201);
        QTRY_COMPARE_WITH_TIMEOUT(postedFor(QStringLiteral("j")).size(), 1, 5000);
    }

    void validation_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<int>("function");
        QTest::addColumn<QString>("threshold");
        QTest::addColumn<QString>("webhook");
        QTest::addColumn<QString>("zone");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("problemAt"); // empty: valid
        const int sum = int(Aggregate::Function::Sum), count = int(Aggregate::Function::Count),
                  latest = int(Aggregate::Function::Latest), uniq = int(Aggregate::Function::UniqueCount);
        const QString f = kField, region = QStringLiteral("region"), ok = QStringLiteral("300"), utc = QStringLiteral("UTC"),
                      n = QStringLiteral("alert");
        QTest::newRow("valid") << f << sum << ok << QString() << utc << n << QString();
        QTest::newRow("https webhook") << f << sum << ok << QStringLiteral("https://example.com/h?x=1") << utc << n << QString();
        QTest::newRow("rows count") << QString() << count << ok << QString() << utc << n << QString();
        QTest::newRow("count of a string") << region << count << ok << QString() << utc << n << QString();
        QTest::newRow("unique count of a string") << region << uniq << ok << QString() << utc << n << QString();
        QTest::newRow("decimal exponent") << f << sum << QStringLiteral("1e3") << QString() << utc << n << QString();
        QTest::newRow("zone") << f << sum << ok << QString() << QStringLiteral("Europe/Berlin") << n << QString();
        QTest::newRow("sum of a string") << region << sum << ok << QString() << utc << n << QStringLiteral("function");
        QTest::newRow("latest of a string") << region << latest << ok << QString() << utc << n << QStringLiteral("function");
        QTest::newRow("sum of rows") << QString() << sum << ok << QString() << utc << n << QStringLiteral("function");
        QTest::newRow("unknown field") << QStringLiteral("nope") << sum << ok << QString() << utc << n << QStringLiteral("field");
        QTest::newRow("threshold text") << f << sum << QStringLiteral("abc") << QString() << utc << n << QStringLiteral("threshold");
        QTest::newRow("threshold comma") << f << sum << QStringLiteral("1,5") << QString() << utc << n << QStringLiteral("threshold");
        QTest::newRow("threshold empty") << f << sum << QString() << QString() << utc << n << QStringLiteral("threshold");
        QTest::newRow("ftp webhook") << f << sum << ok << QStringLiteral("ftp://example.com/x") << utc << n << QStringLiteral("webhookUrl");
        QTest::newRow("no host") << f << sum << ok << QStringLiteral("http://") << utc << n << QStringLiteral("webhookUrl");
        QTest::newRow("not a url") << f << sum << ok << QStringLiteral("example.com/hook") << utc << n << QStringLiteral("webhookUrl");
        QTest::newRow("bad zone") << f << sum << ok << QString() << QStringLiteral("Mars/Olympus") << n << QStringLiteral("timeZone");
        QTest::newRow("no name") << f << sum << ok << QString() << utc << QStringLiteral("  ") << QStringLiteral("name");
    }

    void validation()
    {
        QFETCH(QString, field);
        QFETCH(int, function);
        QFETCH(QString, threshold);
        QFETCH(QString, webhook);
        QFETCH(QString, zone);
        QFETCH(QString, name);
        QFETCH(QString, problemAt);
        AlertDefinition a;
        a.slug = kSlug;
        a.name = name;
        a.field = field;
        a.function = Aggregate::Function(function);
        a.threshold = threshold;
        a.webhookUrl = webhook;
        a.timeZone = zone;
        const Problems problems = Alerts::validate(a, m_definition);
        if (problemAt.isEmpty()) {
            QVERIFY2(problems.isEmpty(), qPrintable(problems.value(0).message));
        } else {
            QCOMPARE(problems.size(), 1);
            QCOMPARE(problems.first().pointer, problemAt);
            QVERIFY(!problems.first().message.isEmpty());
            // create() refuses the same, and stores nothing.
            const qsizetype before = Alerts::list(*m_ws, kSlug).size();
            QCOMPARE(Alerts::create(*m_ws, a).size(), 1);
            QCOMPARE(Alerts::list(*m_ws, kSlug).size(), before);
        }
    }

    void exactComparison_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("symbol");
        QTest::addColumn<QString>("threshold");
        QTest::addColumn<bool>("crosses");
        QTest::newRow("equal >") << "300" << ">" << "300" << false;
        QTest::newRow("equal >=") << "300.000" << ">=" << "300" << true;
        QTest::newRow("tiny above") << "300.0000000000000000000001" << ">" << "300" << true;
        QTest::newRow("tiny below") << "299.9999999999999999999999" << ">=" << "300" << false;
        QTest::newRow("negative") << "-5" << ">" << "-10" << true;
        QTest::newRow("long exact sum") << "123456789012345678901234567890123456789012.5" << ">" << "1" << true;
        QTest::newRow("float text") << "3.0000000000000004e2" << ">" << "300" << true;
        QTest::newRow("not a number") << "abc" << ">" << "1" << false;
    }

    void exactComparison()
    {
        QFETCH(QString, value);
        QFETCH(QString, symbol);
        QFETCH(QString, threshold);
        QFETCH(bool, crosses);
        QCOMPARE(Alerts::crosses(value, *AlertDefinition::comparisonFromSymbol(symbol), threshold), crosses);
    }

    void alertsTabFormAndHistory()
    {
        AlertsTab tab(m_db);
        tab.resize(1000, 700);
        tab.showDefinition(m_definition);
        tab.show();
        QVERIFY(QTest::qWaitForWindowExposed(&tab));
        // Read on the tab's own thread: the rows come when the answer does.
        QTRY_COMPARE_WITH_TIMEOUT(tab.alertsTable()->rowCount(), 2, 5000); // "CPU over plan" and "many events"

        // SUM on a string field: refused inline, before Save.
        auto *field = tab.findChild<QComboBox *>(QStringLiteral("alert_field"));
        auto *function = tab.findChild<QComboBox *>(QStringLiteral("alert_function"));
        auto *name = tab.findChild<QLineEdit *>(QStringLiteral("alert_name"));
        auto *threshold = tab.findChild<QLineEdit *>(QStringLiteral("alert_threshold"));
        auto *webhook = tab.findChild<QLineEdit *>(QStringLiteral("alert_webhookUrl"));
        auto *save = tab.findChild<QPushButton *>(QStringLiteral("saveAlert"));
        QVERIFY(field && function && name && threshold && webhook && save);
        function->setCurrentIndex(function->findData(int(Aggregate::Function::Sum)));
        field->setCurrentIndex(field->findData(QStringLiteral("region")));
        QVERIFY2(tab.fieldMessage(QStringLiteral("function")).contains(QLatin1String("SUM")),
                 qPrintable(tab.fieldMessage(QStringLiteral("function"))));
        QVERIFY(tab.findChild<QLabel *>(QStringLiteral("alert_function_message"))->isVisible());
        QTest::keyClicks(name, QStringLiteral("EU regions"));
        QTest::keyClicks(threshold, QStringLiteral("12,5"));
        QVERIFY(!tab.fieldMessage(QStringLiteral("threshold")).isEmpty());
        QSignalSpy saved(&tab, &AlertsTab::saved);
        QTest::mouseClick(save, Qt::LeftButton); // refused by the form: nothing is sent
        QVERIFY(!tab.fieldMessage(QStringLiteral("function")).isEmpty());
        QTest::qWait(200);
        QCOMPARE(saved.count(), 0);
        QCOMPARE(tab.alertsTable()->rowCount(), 2); // nothing saved

        // UNIQUE COUNT of the string field, a valid threshold and webhook: saved.
        function->setCurrentIndex(function->findData(int(Aggregate::Function::UniqueCount)));
        QCOMPARE(tab.fieldMessage(QStringLiteral("function")), QString());
        threshold->clear();
        QTest::keyClicks(threshold, QStringLiteral("3"));
        QTest::keyClicks(webhook, QStringLiteral("ftp://nope"));
        QVERIFY(!tab.fieldMessage(QStringLiteral("webhookUrl")).isEmpty());
        webhook->clear();
        QTest::keyClicks(webhook, QStringLiteral("https://example.com/hook"));
        QCOMPARE(tab.fieldMessage(QStringLiteral("webhookUrl")), QString());
        QTest::mouseClick(save, Qt::LeftButton);
        QVERIFY(!save->isEnabled()); // one save at a time
        QVERIFY(saved.wait(5000));
        QVERIFY(save->isEnabled());
        QCOMPARE(tab.alertsTable()->rowCount(), 3);
        const auto stored = Alerts::list(*m_ws, kSlug).last();
        QCOMPARE(stored.name, QStringLiteral("EU regions"));
        QCOMPARE(stored.function, Aggregate::Function::UniqueCount);
        QCOMPARE(stored.field, QStringLiteral("region"));
        QCOMPARE(stored.webhookUrl, QStringLiteral("https://example.com/hook"));

        // Disable in the list: stored.
        QTableWidgetItem *toggle = tab.alertsTable()->item(2, 0);
        toggle->setCheckState(Qt::Unchecked);
        QTRY_COMPARE_WITH_TIMEOUT(Alerts::get(*m_ws, stored.id)->enabled, false, 5000);

        // The first alert's history: one row per firing, newest first, with the webhook outcome.
        tab.alertsTable()->selectRow(0);
        const QList<AlertFiring> firings = firingsOf(m_alert.id);
        QVERIFY(!firings.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(tab.firingsTable()->rowCount(), firings.size(), 5000);
        QStringList customers, windows, statuses;
        for (int r = 0; r < tab.firingsTable()->rowCount(); ++r) {
            customers << tab.firingsTable()->item(r, 1)->text();
            windows << tab.firingsTable()->item(r, 2)->text();
            statuses << tab.firingsTable()->item(r, 4)->text();
        }
        QVERIFY(customers.contains(QStringLiteral("[email protected]")));
        QVERIFY(windows.contains(QStringLiteral("2023-06")));
        QVERIFY(statuses.contains(QStringLiteral("delivered (HTTP 200)")));
        QVERIFY(statuses.contains(QStringLiteral("failed: receiver unreachable")));
        QCOMPARE(name->text(), m_alert.name); // the form shows the selected alert

        // Delete the new one: gone with its history.
        tab.alertsTable()->selectRow(2);
        QSignalSpy removed(&tab, &AlertsTab::removed);
        QVERIFY(tab.deleteSelected());
        QVERIFY(removed.wait(5000));
        QCOMPARE(removed.first().first().toLongLong(), stored.id);
        QTRY_COMPARE_WITH_TIMEOUT(tab.alertsTable()->rowCount(), 2, 5000);
        QCOMPARE(Alerts::get(*m_ws, stored.id), std::nullopt);
    }

    void alertsTabDoesNotFreezeOnASilentServer()
    {
        // The tab's queries run on a thread of their own: a PostgreSQL host that accepts
        // the connection and never answers does not hold up the window (the old tab
        // opened its connection on the GUI thread: 10 s frozen, the connect timeout).
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        QElapsedTimer clock;
        clock.start();
        AlertsTab tab(QStringLiteral("postgresql://nobody@127.0.0.1:%1/nothing").arg(silent.serverPort()));
        tab.showDefinition(m_definition);
        tab.show();
        QVERIFY(QTest::qWaitForWindowExposed(&tab));
        QVERIFY2(clock.elapsed() < 2000, qPrintable(QStringLiteral("shown after %1 ms").arg(clock.elapsed())));
        QTRY_VERIFY_WITH_TIMEOUT(silent.hasPendingConnections(), 5000); // the tab's thread waits for an answer
        auto *status = tab.findChild<QLabel *>(QStringLiteral("alertsStatus"));
        QVERIFY(status);
        QCOMPARE(status->text(), QStringLiteral("Reading the alerts…"));
        // The event loop is not blocked: a 50 ms timer fires on time, again and again.
        const qint64 ticksMs = test::tenTimerTicksMs();
        QVERIFY2(ticksMs >= 0 && ticksMs < 1500, qPrintable(QString::number(ticksMs)));
        // The host hangs up: the tab says so where the list would be.
        while (QTcpSocket *s = silent.nextPendingConnection())
            s->abort();
        silent.close();
        QTRY_VERIFY_WITH_TIMEOUT(status->text().startsWith(QLatin1String("Cannot open the workspace")), 5000);
        QCOMPARE(tab.alertsTable()->rowCount(), 0);
    }

    void headlessModeFiresToo()
    {
        // The real `meterdesk --headless`: its monitor evaluates after its own commits.
        QString error;
        const QString location = test::workspaceLocation(m_dir, QStringLiteral("headless.db"), &error);
        QVERIFY2(!location.isEmpty(), qPrintable(error));
        QString key, org;
        WebhookReceiver receiver;
        {
            auto ws = Workspace::open(location, &error);
            QVERIFY2(ws, qPrintable(error));
            org = ws->organisation();
            UsageEventDefinition d = m_definition;
            QVERIFY(ws->createDefinition(d).isEmpty());
            key = ApiKeys::create(*ws, QStringLiteral("k"), &error)->key;
            AlertDefinition a;
            a.slug = kSlug;
            a.name = QStringLiteral("Headless alert");
            a.field = kField;
            a.window = Aggregate::Window::Day;
            a.timeZone = QStringLiteral("Asia/Kolkata");
            a.comparison = AlertDefinition::Comparison::AtLeast;
            a.threshold = QStringLiteral("5");
            a.webhookUrl = receiver.url();
            QVERIFY(noProblems(Alerts::create(*ws, a)));
        }
        QProcess child;
        child.setProgram(QStringLiteral(MDK_BINARY));
        child.setArguments({QStringLiteral("--headless"), QStringLiteral("--database"), location,
                            QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")});
        child.start();
        QVERIFY(child.waitForStarted(5000));
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += child.readAllStandardOutput()).contains("listening on http://"), 10000);
        const qsizetype at = out.indexOf("http://");
        const QUrl base(QString::fromLatin1(out.mid(at, out.indexOf('\n', at) - at).trimmed()));
        QVERIFY(base.port() > 0);

        QNetworkRequest req(base.resolved(QUrl(QStringLiteral("/usage/") + kSlug)));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        req.setRawHeader("organisation", org.toUtf8());
        req.setRawHeader("authorization", "Bearer " + key.toUtf8());
        // 2024-03-01 19:00Z is 2 March 00:30 in Kolkata: the second event is in the next day there.
        for (const QByteArray &e : {eventJson(QStringLiteral("k"), QStringLiteral("2024-03-01T10:00:00Z"), "3"),
                                    eventJson(QStringLiteral("k"), QStringLiteral("2024-03-01T19:00:00Z"), "2"),
                                    eventJson(QStringLiteral("k"), QStringLiteral("2024-03-01T18:00:00Z"), "2")}) {
            QNetworkReply *reply = m_nam.post(req, e);
            QSignalSpy done(reply, &QNetworkReply::finished);
            QVERIFY(done.wait(5000));
            QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 201);
            reply->deleteLater();
        }
        QTRY_COMPARE_WITH_TIMEOUT(receiver.requests.size(), 1, 5000);
        const QJsonObject json = QJsonDocument::fromJson(receiver.requests.first().body).object();
        QCOMPARE(json.value(u"window_start").toString(), QStringLiteral("2024-03-01T00:00:00+05:30"));
        QCOMPARE(json.value(u"value").toInteger(), 5);
        QTRY_VERIFY_WITH_TIMEOUT((out += child.readAllStandardOutput()).contains("alert Headless alert: k: SUM"), 5000);
        child.terminate();
        QVERIFY(child.waitForFinished(10000));
        QCOMPARE(child.exitCode(), 0);
        QCOMPARE(receiver.requests.size(), 1);
        auto ws = Workspace::open(location, &error);
        QCOMPARE(Alerts::firings(*ws, 1).value(0).webhookStatus, std::optional<int>(200));
    }

    void desktopAppNotifiesWithoutTray()
    {
        // The composed app: endpoint, monitor and notification as `meterdesk` runs them.
        QString error;
        const QString location = test::workspaceLocation(m_dir, QStringLiteral("desktop.db"), &error);
        QVERIFY2(!location.isEmpty(), qPrintable(error));
        QString key, org;
        {
            auto ws = Workspace::open(location, &error);
            QVERIFY2(ws, qPrintable(error));
            org = ws->organisation();
            UsageEventDefinition d = m_definition;
            QVERIFY(ws->createDefinition(d).isEmpty());
            key = ApiKeys::create(*ws, QStringLiteral("k"), &error)->key;
            AlertDefinition a;
            a.slug = kSlug;
            a.name = QStringLiteral("Desk alert");
            a.field = kField;
            a.threshold = QStringLiteral("10");
            QVERIFY(noProblems(Alerts::create(*ws, a)));
        }
        auto app = DesktopApp::create(location, QStringLiteral("127.0.0.1:0"), &error);
        QVERIFY2(app, qPrintable(error));
        QSignalSpy started(&app->endpoint(), &IngestService::started);
        app->start();
        QVERIFY(started.wait(5000));
        QVERIFY(app->alertNotifier());
        QCOMPARE(app->alertNotifier()->usesTray(), false); // offscreen: no tray, no crash
        app->openEvent(kSlug);
        auto *tabs = app->eventPage()->findChild<QTabWidget *>();
        QVERIFY(tabs);
        AlertsTab *alertsTab = nullptr;
        for (int i = 0; i < tabs->count(); ++i)
            if (tabs->tabText(i) == QLatin1String("Alerts"))
                alertsTab = qobject_cast<AlertsTab *>(tabs->widget(i));
        QVERIFY(alertsTab);
        tabs->setCurrentWidget(alertsTab);
        QTRY_COMPARE_WITH_TIMEOUT(alertsTab->alertsTable()->rowCount(), 1, 5000); // read on the tab's thread
        alertsTab->alertsTable()->selectRow(0);

        QNetworkRequest req(QUrl(started.first().first().toString() + QStringLiteral("/usage/") + kSlug));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        req.setRawHeader("organisation", org.toUtf8());
        req.setRawHeader("authorization", "Bearer " + key.toUtf8());
        QNetworkReply *reply = m_nam.post(req, eventJson(QStringLiteral("desk"), QStringLiteral("2024-02-29 12:00:00"), "10.5"));
        QSignalSpy done(reply, &QNetworkReply::finished);
        QVERIFY(done.wait(5000));
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 201);
        reply->deleteLater();

        QTRY_COMPARE_WITH_TIMEOUT(app->alertNotifier()->count(), 1, 5000);
        QVERIFY2(app->alertNotifier()->lastMessage().contains(QLatin1String("desk: SUM(cpu_usage_hours_per_day) = 10.5 in 2024-02")),
                 qPrintable(app->alertNotifier()->lastMessage()));
        QVERIFY(app->window().statusBar()->currentMessage().contains(QLatin1String("Desk alert")));
        QTRY_COMPARE_WITH_TIMEOUT(alertsTab->firingsTable()->rowCount(), 1, 5000);
        QCOMPARE(alertsTab->firingsTable()->item(0, 3)->text(), QStringLiteral("10.5"));
        QCOMPARE(alertsTab->firingsTable()->item(0, 4)->text(), QStringLiteral("no webhook"));
        app->shutdown();
    }
};

QTEST_MAIN(TestAlerts)
#include "tst_alerts.moc"
