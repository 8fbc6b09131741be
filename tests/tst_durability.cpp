// The real binary as a child process: every acknowledged event survives SIGKILL,
// and hostile bodies do not grow its memory.
#include "apikeys.h"
#include "workspace.h"

#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRandomGenerator>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace meterdesk;

class TestDurability : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_db;
    QString m_key;
    QString m_org;

    // Starts `meterdesk --headless` on a free port; returns its base URL.
    QUrl startChild(QProcess &child)
    {
        child.setProgram(QStringLiteral(MDK_BINARY));
        child.setArguments({QStringLiteral("--headless"), QStringLiteral("--database"), m_db, QStringLiteral("--listen"),
                            QStringLiteral("127.0.0.1:0")});
        child.setProcessChannelMode(QProcess::SeparateChannels);
        child.start();
        if (!child.waitForStarted(5000))
            return {};
        QByteArray line;
        while (!line.contains('\n') && child.waitForReadyRead(10000))
            line += child.readAllStandardOutput();
        if (!line.startsWith("listening on "))
            return {};
        return QUrl(QString::fromUtf8(line.mid(13).trimmed()));
    }

    static qint64 peakRssKb(qint64 pid)
    {
        QFile f(QStringLiteral("/proc/%1/status").arg(pid));
        if (!f.open(QIODevice::ReadOnly))
            return -1;
        for (const QByteArray &line : f.readAll().split('\n'))
            if (line.startsWith("VmHWM:"))
                return line.mid(6).trimmed().split(' ').first().toLongLong();
        return -1;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_db = m_dir.filePath(QStringLiteral("durable.db"));
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QVERIFY2(ws, qPrintable(error));
        m_org = ws->organisation();
        UsageEventDefinition d;
        d.name = QStringLiteral("durable");
        d.schema.fields = {{QStringLiteral("n"), FieldType::Integer, true, {}}};
        QVERIFY(ws->createDefinition(d).isEmpty());
        m_key = ApiKeys::create(*ws, QStringLiteral("durability"), &error)->key;
    }

    void acknowledgedEventsSurviveSigkill()
    {
        for (int round = 0; round < 5; ++round) {
            QProcess child;
            const QUrl base = startChild(child);
            QVERIFY2(base.isValid(), child.readAllStandardError().constData());
            QNetworkAccessManager nam;
            QSet<int> acked;
            int sent = 0;
            const QByteArray customer = "round-" + QByteArray::number(round);
            auto sendOne = [&](auto &&self) -> void {
                const int i = sent++;
                QNetworkRequest req(base.resolved(QUrl(QStringLiteral("/usage/durable"))));
                req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
                req.setRawHeader("organisation", m_org.toUtf8());
                req.setRawHeader("x-api-key", m_key.toUtf8());
                QNetworkReply *reply = nam.post(req, "{\"data\":{\"n\":" + QByteArray::number(i) + "},\"customer_id\":\""
                                                         + customer + "\",\"timestamp\":" + QByteArray::number(i) + "}");
                connect(reply, &QNetworkReply::finished, this, [&, reply, i, self] {
                    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                    if (status == 201 || status == 200)
                        acked.insert(i);
                    reply->deleteLater();
                    if (child.state() == QProcess::Running && sent < 100000)
                        self(self);
                });
            };
            for (int c = 0; c < 16; ++c)
                sendOne(sendOne);
            // Kill at a random moment under load.
            QTest::qWait(300 + int(QRandomGenerator::global()->bounded(700)));
            ::kill(pid_t(child.processId()), SIGKILL);
            QVERIFY(child.waitForFinished(5000));
            QTest::qWait(100); // let the last replies (errors) arrive
            QVERIFY2(acked.size() > 50, "the load did not get going");

            // Restart on the same file: every acknowledged event is there.
            QProcess again;
            QVERIFY(startChild(again).isValid());
            QString error;
            auto ws = Workspace::open(m_db, &error);
            QVERIFY2(ws, qPrintable(error));
            QSqlQuery q(ws->database());
            q.prepare(QStringLiteral("SELECT \"timestamp\" FROM usage_durable WHERE customer_id = ?"));
            q.addBindValue(QString::fromLatin1(customer));
            QVERIFY(q.exec());
            QSet<int> stored;
            while (q.next())
                stored.insert(int(q.value(0).toLongLong() / 1000000));
            const QSet<int> lost = acked - stored;
            QVERIFY2(lost.isEmpty(), qPrintable(QStringLiteral("round %1: %2 of %3 acknowledged events lost")
                                                   .arg(round).arg(lost.size()).arg(acked.size())));
            qInfo("round %d: %lld acknowledged, %lld stored, none lost", round, qlonglong(acked.size()),
                  qlonglong(stored.size()));
            again.terminate(); // SIGTERM: a clean drain
            QVERIFY(again.waitForFinished(10000));
            QCOMPARE(again.exitCode(), 0);
        }
    }

    void anotherProgramOpeningTheFileLosesNothing()
    {
        // DB Browser for SQLite, the sqlite3 shell or `meterdesk export` open the same
        // file while the endpoint serves, then close it. The last connection to close
        // checkpoints and deletes the WAL; SQLite knows it is not the last one from the
        // locks the endpoint holds. The endpoint once dropped those locks itself (it read
        // the file's header through a file of its own, and closing any descriptor of a
        // file ends all of a process's POSIX locks on it): the other program deleted the
        // WAL under it, and every event acknowledged after that went into a deleted file.
        QProcess child;
        const QUrl base = startChild(child);
        QVERIFY2(base.isValid(), child.readAllStandardError().constData());
        const auto post = [&](int i) {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, quint16(base.port()));
            if (!s.waitForConnected(3000))
                return 0;
            const QByteArray body = "{\"data\":{\"n\":" + QByteArray::number(i)
                + "},\"customer_id\":\"other-program\",\"timestamp\":" + QByteArray::number(i) + "}";
            s.write("POST /usage/durable HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\norganisation: "
                    + m_org.toUtf8() + "\r\nx-api-key: " + m_key.toUtf8() + "\r\nConnection: close\r\nContent-Length: "
                    + QByteArray::number(body.size()) + "\r\n\r\n" + body);
            QByteArray answer;
            while (!answer.contains("\r\n") && s.waitForReadyRead(5000))
                answer += s.readAll();
            return answer.mid(9, 3).toInt();
        };
        const auto stored = [&] {
            const QString name = QStringLiteral("count-%1").arg(QRandomGenerator::global()->generate());
            qint64 n = -1;
            {
                QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
                db.setDatabaseName(m_db);
                if (db.open()) { // read-write, as other programs open it
                    QSqlQuery q(db);
                    if (q.exec(QStringLiteral("SELECT count(*) FROM usage_durable WHERE customer_id = 'other-program'")) && q.next())
                        n = q.value(0).toLongLong();
                }
            }
            QSqlDatabase::removeDatabase(name);
            return n;
        };
        QCOMPARE(post(0), 201);
        QCOMPARE(stored(), 1);
        int acked = 1;
        for (int round = 1; round <= 3; ++round) {
            for (int i = 0; i < 10; ++i)
                acked += post(round * 100 + i) == 201;
            QCOMPARE(acked, 1 + round * 10);
            QCOMPARE(stored(), qint64(acked)); // each look opens and closes the file once more
        }
        child.terminate();
        QVERIFY(child.waitForFinished(10000));
        QCOMPARE(child.exitCode(), 0);
        QCOMPARE(stored(), qint64(acked));
    }

    void hugeBodiesDoNotGrowMemory()
    {
        QProcess child;
        const QUrl base = startChild(child);
        QVERIFY(base.isValid());
        // 1. Content-Length of 200 MB, then the bytes keep coming: 413 at once.
        // 2. The same without a length (chunked): cut off after 1 MiB.
        for (const bool chunked : {false, true}) {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, quint16(base.port()));
            QVERIFY(s.waitForConnected(3000));
            s.write(chunked ? QByteArray("POST /usage/durable HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                            : QByteArray("POST /usage/durable HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n"));
            const QByteArray block(qsizetype(1024) * 1024, 'x');
            const QByteArray chunk = QByteArray::number(block.size(), 16) + "\r\n" + block + "\r\n";
            QByteArray answer;
            qint64 pushed = 0;
            while (pushed < 200LL * 1024 * 1024 && s.state() == QAbstractSocket::ConnectedState) {
                s.write(chunked ? chunk : block);
                pushed += block.size();
                s.waitForBytesWritten(200);
                answer += s.readAll();
            }
            while (s.waitForReadyRead(500))
                answer += s.readAll();
            QVERIFY2(answer.startsWith("HTTP/1.1 413"), answer.left(100).constData());
        }
        const qint64 peakKb = peakRssKb(child.processId());
        qInfo("peak RSS of the endpoint after two 200 MB bodies: %lld KiB", peakKb);
        QVERIFY(peakKb > 0);
#ifdef __SANITIZE_ADDRESS__
        // ASan's shadow memory and quarantine triple the endpoint's resting RSS (34 -> 103 MB
        // measured); a buffered 200 MB body would still break this bound.
        const qint64 boundKb = 200LL * 1024;
#else
        const qint64 boundKb = 100LL * 1024;
#endif
        QVERIFY2(peakKb < boundKb, qPrintable(QStringLiteral("peak RSS %1 KiB").arg(peakKb)));
        // Still serving.
        QTcpSocket probe;
        probe.connectToHost(QHostAddress::LocalHost, quint16(base.port()));
        QVERIFY(probe.waitForConnected(3000));
        probe.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        QVERIFY(probe.waitForReadyRead(1000));
        QVERIFY(probe.readAll().startsWith("HTTP/1.1 200"));
        child.terminate();
        QVERIFY(child.waitForFinished(10000));
    }
};

QTEST_GUILESS_MAIN(TestDurability)
#include "tst_durability.moc"
