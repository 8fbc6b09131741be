// Disk faults against the real binary: a database on a small tmpfs that fills up
// mid-load (507 with a problem body, nothing acknowledged lost, ingestion resumes when
// space returns), a database another process holds locked at start, and corrupt files
// (refused with a message, never written to). Mounting needs root: CI runs as root.
#include "apikeys.h"
#include "headlesschild.h"
#include "workspace.h"

#include <QCryptographicHash>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <sys/mount.h>
#include <sys/statvfs.h>

using namespace meterdesk;
using namespace meterdesk::test;

namespace {

QByteArray sha256(const QString &path)
{
    return QCryptographicHash::hash(HeadlessChild::readFile(path), QCryptographicHash::Sha256).toHex();
}

struct Created
{
    QByteArray key;
    QByteArray org;
};

std::optional<Created> createWorkspace(const QString &path, QString *error)
{
    auto ws = Workspace::open(path, error);
    if (!ws)
        return std::nullopt;
    UsageEventDefinition d;
    d.name = QStringLiteral("load");
    d.schema.fields = {{QStringLiteral("n"), FieldType::Integer, true, {}}, {QStringLiteral("pad"), FieldType::String, false, {}}};
    if (const Problems e = ws->createDefinition(d); !e.isEmpty()) {
        *error = e.first().message;
        return std::nullopt;
    }
    const auto key = ApiKeys::create(*ws, QStringLiteral("disk"), error);
    if (!key)
        return std::nullopt;
    return Created{key->key.toUtf8(), ws->organisation().toUtf8()};
}

} // namespace

class TestDiskFault : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_mount;
    bool m_mounted = false;

    // Runs the binary to its end; returns exit code (-1: crashed or hung) and stderr.
    static int runToEnd(const QString &database, QByteArray *err, qint64 *ms, int timeoutMs = 30000)
    {
        QProcess p;
        p.setProgram(QStringLiteral(MDK_BINARY));
        p.setArguments({QStringLiteral("--headless"), QStringLiteral("--database"), database, QStringLiteral("--listen"),
                        QStringLiteral("127.0.0.1:0")});
        QElapsedTimer t;
        t.start();
        p.start();
        if (!p.waitForFinished(timeoutMs)) {
            p.kill();
            p.waitForFinished(3000);
            *err = p.readAllStandardError();
            return -1;
        }
        *ms = t.elapsed();
        *err = p.readAllStandardError() + p.readAllStandardOutput();
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        if (::geteuid() != 0)
            QFAIL("tst_diskfault mounts a tmpfs (mount -t tmpfs -o size=8m) and needs root; CI runs as root.");
        m_mount = m_dir.filePath(QStringLiteral("small"));
        QVERIFY(QDir().mkpath(m_mount));
        QVERIFY2(::mount("tmpfs", m_mount.toLocal8Bit().constData(), "tmpfs", 0, "size=8m") == 0,
                 qPrintable(QStringLiteral("mount -t tmpfs -o size=8m tmpfs %1: %2").arg(m_mount, qt_error_string(errno))));
        m_mounted = true;
    }

    void cleanupTestCase()
    {
        if (m_mounted)
            QVERIFY2(::umount2(m_mount.toLocal8Bit().constData(), MNT_DETACH) == 0, qPrintable(qt_error_string(errno)));
    }

    void fullDiskAnswers507AndRecovers()
    {
        const QString db = m_mount + QStringLiteral("/full.db");
        QString error;
        const auto created = createWorkspace(db, &error);
        QVERIFY2(created, qPrintable(error));
        // Leave about 3 MB free: the load fills that in a second or two.
        const QString filler = m_mount + QStringLiteral("/filler");
        {
            struct statvfs st = {};
            QVERIFY(::statvfs(m_mount.toLocal8Bit().constData(), &st) == 0);
            const qint64 freeBytes = qint64(st.f_bavail) * qint64(st.f_frsize);
            QFile f(filler);
            QVERIFY(f.open(QIODevice::WriteOnly));
            const QByteArray block(qsizetype(64) * 1024, 'f');
            for (qint64 left = freeBytes - 3LL * 1024 * 1024; left > 0; left -= block.size())
                QVERIFY(f.write(block.constData(), std::min<qint64>(left, block.size())) > 0);
        }
        HeadlessChild child;
        QVERIFY2(child.start(db, m_dir.filePath(QStringLiteral("full"))), child.logs().constData());
        const QList<QPair<QByteArray, QByteArray>> auth = {{"organisation", created->org}, {"x-api-key", created->key}};
        const QByteArray pad(2000, 'p');
        QSet<int> acked;
        int next = 0;
        auto sendOne = [&](int *status, QByteArray *body = nullptr) {
            const int n = next++;
            const QByteArray event = "{\"data\":{\"n\":" + QByteArray::number(n) + ",\"pad\":\"" + pad
                + "\"},\"customer_id\":\"disk\",\"timestamp\":" + QByteArray::number(n) + '}';
            const QList<RawResponse> r = parseResponses(exchange(child.port, httpRequest("POST", "/usage/load", event, auth), 15000));
            *status = r.isEmpty() ? 0 : r.first().status;
            if (*status == 201)
                acked.insert(n);
            if (!r.isEmpty() && body)
                *body = r.first().body;
            if (!r.isEmpty() && *status >= 400) {
                QCOMPARE(r.first().header("content-type"), QByteArray("application/problem+json"));
                QCOMPARE(QJsonDocument::fromJson(r.first().body).object().value(u"status").toInt(), *status);
            }
        };
        // 1. Load until the disk is full: a run of refusals.
        int refusedInARow = 0, refused = 0, firstRefusalAt = -1;
        QByteArray refusal;
        while (refusedInARow < 20 && next < 20000) {
            int status = 0;
            QByteArray body;
            sendOne(&status, &body);
            if (status == 201) {
                refusedInARow = 0;
                continue;
            }
            QVERIFY2(status == 507, qPrintable(QStringLiteral("event %1: status %2: %3").arg(next - 1).arg(status)
                                                   .arg(QString::fromUtf8(body.left(300)))));
            if (firstRefusalAt < 0) {
                firstRefusalAt = next - 1;
                refusal = body;
            }
            ++refusedInARow;
            ++refused;
        }
        qInfo("disk full after %d events (%lld acknowledged); first refusal: %s", firstRefusalAt,
              qlonglong(acked.size()), refusal.left(200).constData());
        QVERIFY2(refusedInARow >= 20, "the disk never filled up");
        QVERIFY(acked.size() > 50);
        // A batch is refused the same way, atomically.
        {
            QByteArray batch = "[";
            for (int i = 0; i < 20; ++i)
                batch += QByteArray(i ? "," : "") + "{\"data\":{\"n\":1,\"pad\":\"" + pad + "\"},\"customer_id\":\"batch\",\"timestamp\":"
                    + QByteArray::number(i) + '}';
            const QList<RawResponse> r = parseResponses(exchange(child.port, httpRequest("POST", "/usage/load/batch", batch + ']', auth), 15000));
            QVERIFY(!r.isEmpty());
            QCOMPARE(r.first().status, 507);
            QVERIFY(!r.first().header("retry-after").isEmpty());
        }
        // The endpoint itself still answers: health and reads.
        QCOMPARE(parseResponses(exchange(child.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")).value(0).status, 200);
        QCOMPARE(parseResponses(exchange(child.port, httpRequest("GET", "/usage/load?limit=5", {}, auth))).value(0).status, 200);
        // 2. Space returns: ingestion resumes without a restart.
        QVERIFY(QFile::remove(filler));
        QElapsedTimer resume;
        resume.start();
        int status = 0;
        while (status != 201 && resume.elapsed() < 10000)
            sendOne(&status);
        qInfo("ingestion resumed %lld ms after the filler was deleted", resume.elapsed());
        QCOMPARE(status, 201);
        for (int i = 0; i < 50; ++i) {
            sendOne(&status);
            QCOMPARE(status, 201);
        }
        // 3. Every acknowledged event is there; no refused one is.
        QVERIFY2(child.stop(), "the endpoint did not drain and exit 0 on SIGTERM");
        QString e;
        auto ws = Workspace::open(db, &e);
        QVERIFY2(ws, qPrintable(e));
        QSqlQuery q(ws->database());
        QVERIFY(q.exec(QStringLiteral("SELECT \"data.n\" FROM usage_load WHERE customer_id = 'disk'")));
        QSet<int> stored;
        while (q.next())
            stored.insert(q.value(0).toInt());
        const QSet<int> lost = acked - stored;
        const QSet<int> extra = stored - acked;
        qInfo("%lld acknowledged, %lld stored, %d refused with 507", qlonglong(acked.size()), qlonglong(stored.size()), refused);
        QVERIFY2(lost.isEmpty(), qPrintable(QStringLiteral("%1 acknowledged events lost").arg(lost.size())));
        QVERIFY2(extra.isEmpty(), qPrintable(QStringLiteral("%1 refused events stored").arg(extra.size())));
        QCOMPARE(countRows(db, QStringLiteral("usage_load"), QStringLiteral("customer_id = 'batch'")), 0);
    }

    void lockedDatabaseAtStart()
    {
        // Decision (docs/TESTING.md, "Disk faults"): the endpoint waits up to 10 s for
        // another process's write lock, says so on stderr, then exits 1 with a message.
        const QString db = m_dir.filePath(QStringLiteral("locked.db"));
        QString error;
        QVERIFY2(createWorkspace(db, &error), qPrintable(error));
        QProcess holder;
        holder.setProgram(QStringLiteral("sqlite3"));
        holder.setArguments({db});
        holder.start();
        QVERIFY2(holder.waitForStarted(5000), "sqlite3 (Debian package sqlite3) is needed");
        holder.write("BEGIN EXCLUSIVE;\nINSERT INTO meta(key, value) VALUES ('holder', 'x');\nSELECT 'locked';\n");
        QByteArray said;
        while (!said.contains("locked") && holder.waitForReadyRead(5000))
            said += holder.readAllStandardOutput();
        QVERIFY2(said.contains("locked"), holder.readAllStandardError().constData());
        const QByteArray before = sha256(db);
        QByteArray err;
        qint64 ms = 0;
        const int code = runToEnd(db, &err, &ms);
        qInfo("locked: exit %d after %lld ms: %s", code, ms, err.trimmed().constData());
        QCOMPARE(code, 1);
        QVERIFY2(err.contains("locked by another process"), err.constData());
        QVERIFY2(err.contains("waiting"), err.constData());
        QVERIFY(ms >= 9000 && ms < 25000);
        QCOMPARE(sha256(db), before);
        // The holder lets go: the same file serves.
        holder.write("ROLLBACK;\n.quit\n");
        QVERIFY(holder.waitForFinished(5000));
        HeadlessChild child;
        QVERIFY2(child.start(db, m_dir.filePath(QStringLiteral("locked"))), child.logs().constData());
        QVERIFY(child.stop());
    }

    void corruptFilesAreRefusedUntouched_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("garbage") << QStringLiteral("garbage");
        QTest::newRow("garbage after a SQLite header") << QStringLiteral("header");
        QTest::newRow("truncated workspace") << QStringLiteral("truncated");
        QTest::newRow("another application's database") << QStringLiteral("foreign");
    }

    void corruptFilesAreRefusedUntouched()
    {
        QFETCH(QString, kind);
        const QString db = m_dir.filePath(kind + QStringLiteral(".db"));
        QByteArray bytes;
        if (kind == QLatin1String("garbage") || kind == QLatin1String("header")) {
            bytes.resize(qsizetype(256) * 1024);
            QRandomGenerator rng(42);
            rng.fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
            if (kind == QLatin1String("header"))
                bytes.replace(0, 16, QByteArray("SQLite format 3\0", 16));
        } else if (kind == QLatin1String("truncated")) {
            // A real workspace with a few thousand rows, cut in half.
            const QString whole = m_dir.filePath(QStringLiteral("whole.db"));
            QString error;
            QVERIFY2(createWorkspace(whole, &error), qPrintable(error));
            {
                auto ws = Workspace::open(whole, &error);
                QVERIFY(ws);
                QSqlQuery q(ws->database());
                QVERIFY2(q.exec(QStringLiteral("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) "
                                              "INSERT INTO usage_load (customer_id, \"timestamp\", \"data.n\", \"data.pad\", data, received_at, source) "
                                              "SELECT 'c' || i, i, i, printf('%.200c', 'x'), '{}', 0, 'api' FROM s")),
                         qPrintable(q.lastError().text()));
                QVERIFY(q.exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")));
            }
            bytes = HeadlessChild::readFile(whole);
            QVERIFY(bytes.size() > qsizetype(512) * 1024);
            bytes.truncate(bytes.size() / 2);
        } else {
            QSqlDatabase other = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("foreign"));
            other.setDatabaseName(db);
            QVERIFY(other.open());
            QVERIFY(QSqlQuery(other).exec(QStringLiteral("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total TEXT)")));
            other.close();
            other = QSqlDatabase();
            QSqlDatabase::removeDatabase(QStringLiteral("foreign"));
            bytes = HeadlessChild::readFile(db);
        }
        {
            QFile f(db);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            QCOMPARE(f.write(bytes), bytes.size());
        }
        const QByteArray before = sha256(db);
        QByteArray err;
        qint64 ms = 0;
        const int code = runToEnd(db, &err, &ms);
        qInfo("%s: exit %d after %lld ms: %s", qPrintable(kind), code, ms, err.trimmed().constData());
        QCOMPARE(code, 1);
        QVERIFY2(err.contains("meterdesk: ") && err.contains(db.toUtf8()), err.constData());
        QVERIFY2(err.contains("left untouched"), err.constData());
        QCOMPARE(sha256(db), before);
        QVERIFY(!QFile::exists(db + QStringLiteral("-wal")) || QFileInfo(db + QStringLiteral("-wal")).size() == 0);
        // The subcommands refuse it the same way.
        QProcess cli;
        cli.start(QStringLiteral(MDK_BINARY), {QStringLiteral("--database"), db, QStringLiteral("events"), QStringLiteral("list")});
        QVERIFY(cli.waitForFinished(30000));
        QCOMPARE(cli.exitStatus(), QProcess::NormalExit);
        QCOMPARE(cli.exitCode(), 1);
        QCOMPARE(sha256(db), before);
    }
};

QTEST_GUILESS_MAIN(TestDiskFault)
#include "tst_diskfault.moc"
