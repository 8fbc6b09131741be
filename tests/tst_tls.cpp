// HTTPS (--tls-cert/--tls-key): the endpoint on a self-signed certificate made at test
// time (the openssl tool), spoken to by Qt's TLS client over loopback. The seed's event
// over HTTPS is stored; a client that does not trust the certificate, or speaks plain
// HTTP to the TLS port, stores nothing; a certificate that cannot be read stops the start
// with a message; a plain listen beyond loopback warns and names the flags.
#include "apikeys.h"
#include "ingestservice.h"
#include "workspace.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace meterdesk;

namespace {
const QByteArray SeedEvent =
    R"({"data":{"cpu_usage_hours_per_day":5},"timestamp":"2023-05-21 09:30:38.731","customer_id":"[email protected]"})";
}

class TestTls : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_db, m_cert, m_key;
    QByteArray m_apiKey, m_org;
    std::unique_ptr<IngestService> m_service;
    QUrl m_base;

    qint64 rows()
    {
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QSqlQuery q(ws->database());
        if (!q.exec(QStringLiteral("SELECT count(*) FROM usage_test_1")) || !q.next())
            return -1;
        return q.value(0).toLongLong();
    }

    // POSTs the seed's event; trusting our certificate or not. Status 0: no HTTP answer.
    int postSeed(bool trust, QNetworkReply::NetworkError *error = nullptr, QByteArray *body = nullptr)
    {
        QNetworkAccessManager nam;
        QNetworkRequest req(m_base.resolved(QUrl(QStringLiteral("/usage/test_1"))));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        req.setRawHeader("organisation", m_org);
        req.setRawHeader("authorization", "Bearer " + m_apiKey);
        if (trust) {
            QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
            tls.setCaCertificates(QSslCertificate::fromPath(m_cert));
            req.setSslConfiguration(tls);
        }
        QNetworkReply *reply = nam.post(req, SeedEvent);
        QSignalSpy done(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            done.wait(15000);
        if (error)
            *error = reply->error();
        if (body)
            *body = reply->readAll();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        delete reply;
        return status;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_db = m_dir.filePath(QStringLiteral("tls.db"));
        m_cert = m_dir.filePath(QStringLiteral("cert.pem"));
        m_key = m_dir.filePath(QStringLiteral("key.pem"));
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
                      {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
                       QStringLiteral("-nodes"), QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"),
                       QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                       QStringLiteral("subjectAltName=IP:127.0.0.1"), QStringLiteral("-keyout"), m_key,
                       QStringLiteral("-out"), m_cert});
        QVERIFY2(openssl.waitForFinished(60000) && openssl.exitCode() == 0, openssl.readAllStandardError().constData());
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QVERIFY2(ws, qPrintable(error));
        m_org = ws->organisation().toUtf8();
        UsageEventDefinition d;
        d.name = QStringLiteral("test 1");
        d.slug = QStringLiteral("test_1");
        d.schema.fields = {{QStringLiteral("cpu_usage_hours_per_day"), FieldType::Float, false, {}}};
        QVERIFY(ws->createDefinition(d).isEmpty());
        m_apiKey = ApiKeys::create(*ws, QStringLiteral("tls"), &error)->key.toUtf8();

        EndpointLimits limits;
        limits.tlsCertFile = m_cert;
        limits.tlsKeyFile = m_key;
        m_service = std::make_unique<IngestService>(m_db, limits);
        QSignalSpy started(m_service.get(), &IngestService::started);
        m_service->start(QStringLiteral("127.0.0.1"), 0);
        QVERIFY(started.wait(10000));
        m_base = QUrl(started.first().first().toString());
        QCOMPARE(m_base.scheme(), QStringLiteral("https"));
    }

    void httpsStoresTheSeedEvent()
    {
        QByteArray body;
        QNetworkReply::NetworkError error = QNetworkReply::NoError;
        QCOMPARE(postSeed(true, &error, &body), 201);
        QCOMPARE(error, QNetworkReply::NoError);
        QCOMPARE(QJsonDocument::fromJson(body).object().value(u"customer_id").toString(),
                 QStringLiteral("[email protected]"));
        QCOMPARE(rows(), 1);
        // The exact same event again: a duplicate (200), not stored twice.
        QCOMPARE(postSeed(true), 200);
        QCOMPARE(rows(), 1);
    }

    void untrustedClientStoresNothing()
    {
        const qint64 before = rows();
        QNetworkReply::NetworkError error = QNetworkReply::NoError;
        QCOMPARE(postSeed(false, &error), 0);
        QCOMPARE(error, QNetworkReply::SslHandshakeFailedError);
        QCOMPARE(rows(), before);
    }

    void plainHttpOnTheTlsPortGetsNoHttpAnswer()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(m_base.port()));
        QVERIFY(s.waitForConnected(3000));
        s.write("POST /usage/test_1 HTTP/1.1\r\nHost: x\r\norganisation: " + m_org + "\r\nauthorization: Bearer " + m_apiKey
                + "\r\nContent-Length: " + QByteArray::number(SeedEvent.size()) + "\r\n\r\n" + SeedEvent);
        QByteArray answer;
        while (s.state() == QAbstractSocket::ConnectedState && s.waitForReadyRead(3000))
            answer += s.readAll();
        answer += s.readAll();
        QVERIFY2(!answer.startsWith("HTTP/"), answer.left(100).constData());
        QCOMPARE(s.state(), QAbstractSocket::UnconnectedState); // the handshake failed: closed
    }

    void unreadableCertificateFailsTheStart()
    {
        EndpointLimits limits;
        limits.tlsCertFile = m_dir.filePath(QStringLiteral("missing.pem"));
        limits.tlsKeyFile = m_key;
        IngestService service(m_db, limits);
        QSignalSpy failed(&service, &IngestService::failed);
        service.start(QStringLiteral("127.0.0.1"), 0);
        QVERIFY(failed.wait(10000));
        const QString error = failed.first().first().toString();
        QVERIFY2(error.contains(QLatin1String("certificate")) && error.contains(QLatin1String("missing.pem")),
                 qPrintable(error));
    }

    void plainListenBeyondLoopbackWarns()
    {
        EndpointLimits tls;
        tls.tlsCertFile = m_cert;
        tls.tlsKeyFile = m_key;
        QVERIFY(plainTextWarning(QStringLiteral("127.0.0.1"), {}).isEmpty());
        QVERIFY(plainTextWarning(QStringLiteral("::1"), {}).isEmpty());
        QVERIFY(plainTextWarning(QStringLiteral("localhost"), {}).isEmpty());
        QVERIFY(plainTextWarning(QStringLiteral("0.0.0.0"), tls).isEmpty());
        const QString warning = plainTextWarning(QStringLiteral("0.0.0.0"), {});
        QVERIFY(warning.contains(QLatin1String("--tls-cert")) && warning.contains(QLatin1String("--tls-key")));

        // The headless binary says it once, on stderr, and still starts.
        QProcess child;
        child.start(QStringLiteral(MDK_BINARY), {QStringLiteral("--headless"), QStringLiteral("--database"), m_db,
                                                  QStringLiteral("--listen"), QStringLiteral("0.0.0.0:0")});
        QVERIFY(child.waitForStarted(5000));
        QByteArray out, err;
        QTRY_VERIFY_WITH_TIMEOUT((out += child.readAllStandardOutput()).contains("listening on http://0.0.0.0:"), 20000);
        child.terminate();
        QVERIFY(child.waitForFinished(15000));
        err = child.readAllStandardError();
        QCOMPARE(child.exitCode(), 0);
        QCOMPARE(err.count("without TLS"), 1);
        QVERIFY(err.contains("--tls-cert FILE --tls-key FILE"));
    }

    void headlessServesHttps()
    {
        QProcess child;
        child.start(QStringLiteral(MDK_BINARY), {QStringLiteral("--headless"), QStringLiteral("--database"), m_db,
                                                  QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                                                  QStringLiteral("--tls-cert"), m_cert, QStringLiteral("--tls-key"), m_key});
        QVERIFY(child.waitForStarted(5000));
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += child.readAllStandardOutput()).contains("\n"), 20000);
        QVERIFY2(out.startsWith("listening on https://127.0.0.1:"), out.constData());
        const QUrl saved = m_base;
        m_base = QUrl(QString::fromLatin1(out.mid(13).trimmed()));
        QCOMPARE(postSeed(true), 200); // stored by the in-process endpoint already: a duplicate
        m_base = saved;
        child.terminate();
        QVERIFY(child.waitForFinished(15000));
        QCOMPARE(child.exitCode(), 0);
        QVERIFY(child.readAllStandardError().isEmpty());
    }

    void cleanupTestCase()
    {
        m_service.reset();
    }
};

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"
