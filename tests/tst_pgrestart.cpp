// Connection loss on PostgreSQL: the server restarts (fast shutdown: every open
// connection is cut, as in a crash or a failover) while clients keep sending.
// Every request must get an answer (2xx, or 503/429 with Retry-After: never a
// hang), every 2xx-acknowledged event must be in the table afterwards, and the
// same node must serve again (writes, reads, a new definition) without a restart.
// It restarts a private server of its own (scripts/pgtest on another port), so the
// other PostgreSQL suites never see the restart.
#include "apikeys.h"
#include "ingestservice.h"
#include "testbackend.h"
#include "workspace.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSet>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTest>
#include <QTimer>

#include <functional>

using namespace meterdesk;

class TestPgRestart : public QObject
{
    Q_OBJECT

    QProcessEnvironment m_env;
    QString m_db;
    QString m_key;
    QString m_org;
    std::unique_ptr<IngestService> m_service;
    QUrl m_base;
    QNetworkAccessManager m_nam;

    // Runs scripts/pgtest VERB on the private port; its stdout, or empty on failure.
    QByteArray pgtest(const QString &verb, QString *error)
    {
        QProcess p;
        p.setProcessEnvironment(m_env);
        p.start(QStringLiteral(MDK_PGTEST), {verb});
        if (!p.waitForFinished(120000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
            *error = QStringLiteral("scripts/pgtest %1 failed: %2").arg(verb, QString::fromUtf8(p.readAllStandardError()));
            return {};
        }
        return p.readAllStandardOutput().trimmed();
    }

    QNetworkReply *send(const QString &path, const QByteArray &body, const QByteArray &verb = "POST")
    {
        QNetworkRequest req(m_base.resolved(QUrl(path)));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        req.setRawHeader("organisation", m_org.toUtf8());
        req.setRawHeader("x-api-key", m_key.toUtf8());
        req.setTransferTimeout(60000); // a hang fails the test (status 0), it does not stall it
        return m_nam.sendCustomRequest(req, verb, body);
    }

    int status(const QString &path, const QByteArray &body, const QByteArray &verb = "POST")
    {
        QNetworkReply *reply = send(path, body, verb);
        QSignalSpy done(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            done.wait(60000);
        const int s = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        reply->deleteLater();
        return s;
    }

private slots:
    void initTestCase()
    {
        m_env = QProcessEnvironment::systemEnvironment();
        m_env.insert(QStringLiteral("MDK_TEST_POSTGRES_PORT"), qEnvironmentVariable("MDK_TEST_RESTART_PORT", QStringLiteral("55433")));
        QString error;
        const QByteArray url = pgtest(QStringLiteral("start"), &error);
        QVERIFY2(!url.isEmpty(), qPrintable(error));
        qputenv("MDK_TEST_POSTGRES_URL", url); // testbackend's helpers use this server
        m_db = test::freshPostgresDatabase(&error);
        QVERIFY2(!m_db.isEmpty(), qPrintable(error));
        QSqlDatabase::removeDatabase(QStringLiteral("mdk-test-admin")); // its connection dies with the restart
        auto ws = Workspace::open(m_db, &error);
        QVERIFY2(ws, qPrintable(error));
        m_org = ws->organisation();
        UsageEventDefinition d;
        d.name = QStringLiteral("restart");
        d.schema.fields = {{QStringLiteral("n"), FieldType::Integer, true, {}}};
        QVERIFY(ws->createDefinition(d).isEmpty());
        const auto key = ApiKeys::create(*ws, QStringLiteral("test"), &error);
        QVERIFY2(key, qPrintable(error));
        m_key = key->key;
        m_service = std::make_unique<IngestService>(m_db);
        QSignalSpy started(m_service.get(), &IngestService::started);
        m_service->start(QStringLiteral("127.0.0.1"), 0);
        QVERIFY(started.wait(10000));
        m_base = QUrl(started.first().first().toString());
    }

    void cleanupTestCase()
    {
        m_service.reset();
        QString error;
        pgtest(QStringLiteral("stop"), &error);
    }

    void restartMidLoad()
    {
        // 8 closed-loop clients: single events, and every 4th request a batch of 50.
        // Load for 1.5 s, restart the server, keep the load 2 s after it is back.
        constexpr int Clients = 8;
        QSet<QString> acknowledged; // "customer|timestamp" of every event answered 2xx
        QList<QString> unexpected;
        int outstanding = 0, answers = 0, unavailable = 0, afterRestartOk = 0;
        bool sending = true, restarted = false;
        QList<int> seq(Clients, 0);
        std::function<void(int)> next = [&](int client) {
            const int n = seq[client]++;
            const bool batch = n % 4 == 3;
            QList<QString> keys;
            QByteArray body;
            const auto event = [&](int i) -> QByteArray {
                const QString customer = QStringLiteral("c%1").arg(client);
                const qint64 ts = 1700000000000LL + qint64(n) * 1000 + i; // milliseconds: unique per event
                keys.append(customer + u'|' + QString::number(ts * 1000));
                return "{\"data\":{\"n\":" + QByteArray::number(n) + "},\"customer_id\":\"" + customer.toUtf8()
                    + "\",\"timestamp\":\"" + QDateTime::fromMSecsSinceEpoch(ts, Qt::UTC).toString(Qt::ISODateWithMs).toUtf8()
                    + "\"}";
            };
            if (batch) {
                body = "[";
                for (int i = 0; i < 50; ++i)
                    body += (i ? "," : "") + event(i);
                body += "]";
            } else {
                body = event(0);
            }
            QNetworkReply *reply = send(batch ? QStringLiteral("/usage/restart/batch") : QStringLiteral("/usage/restart"), body);
            ++outstanding;
            connect(reply, &QNetworkReply::finished, this, [&, reply, client, keys] {
                --outstanding;
                ++answers;
                const int s = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                if (s / 100 == 2) {
                    for (const QString &k : keys)
                        acknowledged.insert(k);
                    afterRestartOk += restarted;
                } else if (s == 503 || s == 429) {
                    ++unavailable;
                    if (reply->rawHeader("Retry-After").isEmpty())
                        unexpected.append(QStringLiteral("%1 without Retry-After").arg(s));
                } else {
                    unexpected.append(QStringLiteral("%1 %2 %3").arg(s).arg(reply->errorString(),
                                                                         QString::fromUtf8(reply->readAll().left(300))));
                }
                reply->deleteLater();
                if (sending)
                    QTimer::singleShot(unavailable ? 5 : 0, this, [&next, client] { next(client); });
            });
        };
        for (int c = 0; c < Clients; ++c)
            next(c);
        QElapsedTimer clock;
        clock.start();
        QTest::qWait(1500);
        const int before = answers;
        QVERIFY2(before > 0, "no answers before the restart");

        QProcess restart;
        restart.setProcessEnvironment(m_env);
        restart.start(QStringLiteral(MDK_PGTEST), {QStringLiteral("restart")});
        QTRY_VERIFY_WITH_TIMEOUT(restart.state() == QProcess::NotRunning, 120000);
        QCOMPARE(restart.exitCode(), 0);
        restarted = true;
        qInfo() << "restarted after" << clock.elapsed() << "ms";
        // The node serves again by itself (writer reconnected with backoff): some 2xx
        // after the restart, within a generous bound.
        QTRY_VERIFY_WITH_TIMEOUT(afterRestartOk >= 20, 30000);
        qInfo() << "serving again after" << clock.elapsed() << "ms";
        QTest::qWait(1000);
        sending = false;
        QTRY_COMPARE_WITH_TIMEOUT(outstanding, 0, 90000);
        qInfo() << "all answered after" << clock.elapsed() << "ms";

        QCOMPARE(unexpected, QList<QString>());
        qInfo() << "answers:" << answers << "acknowledged events:" << acknowledged.size()
                << "503/429 answers:" << unavailable << "2xx after the restart:" << afterRestartOk;
        // The restart cut the writer's connection mid-load: some requests were told 503.
        QVERIFY(unavailable > 0);

        // Every acknowledged event is in the table.
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QVERIFY2(ws, qPrintable(error));
        QSet<QString> stored;
        {
            QSqlQuery q(ws->database());
            QVERIFY(q.exec(QStringLiteral("SELECT customer_id, \"timestamp\" FROM usage_restart")));
            while (q.next())
                stored.insert(q.value(0).toString() + u'|' + QString::number(q.value(1).toLongLong()));
        }
        QSet<QString> missing = acknowledged - stored;
        QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("%1 acknowledged event(s) missing, e.g. %2")
                                                   .arg(missing.size()).arg(missing.isEmpty() ? QString() : *missing.begin())));

        // The node's read side came back too: the list endpoint, and a definition added
        // after the restart is picked up by the reload.
        QCOMPARE(status(QStringLiteral("/usage/restart?limit=5"), {}, "GET"), 200);
        UsageEventDefinition later;
        later.name = QStringLiteral("after restart");
        later.schema.fields = {{QStringLiteral("n"), FieldType::Integer, true, {}}};
        QVERIFY(ws->createDefinition(later).isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(status(QStringLiteral("/usage/after_restart"),
                                         R"({"data":{"n":1},"customer_id":"x","timestamp":1})") / 100, 2, 15000);
    }

    // /healthz tells a load balancer the truth: 503 while the database is gone, even
    // when nothing is being written (the idle writer probes it), 200 once it is back.
    void healthSaysWhenTheDatabaseIsGone()
    {
        QCOMPARE(status(QStringLiteral("/healthz"), {}, "GET"), 200);
        QString error;
        pgtest(QStringLiteral("halt"), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QTRY_COMPARE_WITH_TIMEOUT(status(QStringLiteral("/healthz"), {}, "GET"), 503, 10000);
        QVERIFY2(!pgtest(QStringLiteral("resume"), &error).isEmpty(), qPrintable(error));
        QTRY_COMPARE_WITH_TIMEOUT(status(QStringLiteral("/healthz"), {}, "GET"), 200, 20000);
        QCOMPARE(status(QStringLiteral("/usage/restart"), R"({"data":{"n":1},"customer_id":"health","timestamp":2})") / 100, 2);
    }
};

QTEST_GUILESS_MAIN(TestPgRestart)
#include "tst_pgrestart.moc"
