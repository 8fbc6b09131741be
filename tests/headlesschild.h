#pragma once

// The real `meterdesk --headless` as a child process, and plain POSIX sockets to
// talk to it the way hostile clients do (no Qt parser in between: bytes as written).
// Used by tst_hostile, tst_auth and tst_diskfault.

#include <QByteArray>
#include <QElapsedTimer>
#include <QFile>
#include <QList>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QTest>
#include <QThread>
#include <QUrl>
#include <QUuid>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace meterdesk::test {

// The child writes its stdout and stderr to files (a pipe nobody reads would block
// its logging under load); they are read back for "listening on" and for leaks.
class HeadlessChild
{
public:
    QProcess process;
    quint16 port = 0;
    QString outPath;
    QString errPath;

    bool start(const QString &database, const QString &logPrefix, const QStringList &extra = {})
    {
        outPath = logPrefix + QStringLiteral(".out");
        errPath = logPrefix + QStringLiteral(".err");
        process.setProgram(QStringLiteral(MDK_BINARY));
        process.setArguments(QStringList{QStringLiteral("--headless"), QStringLiteral("--database"), database,
                                         QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")}
                             + extra);
        process.setStandardOutputFile(outPath, QIODevice::Append);
        process.setStandardErrorFile(errPath, QIODevice::Append);
        process.start();
        if (!process.waitForStarted(5000))
            return false;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 20000 && process.state() == QProcess::Running) {
            const QByteArray out = readFile(outPath);
            const qsizetype at = out.lastIndexOf("listening on http://127.0.0.1:");
            if (at >= 0 && out.indexOf('\n', at) > at) {
                const QByteArray rest = out.mid(at + 30);
                port = quint16(rest.left(rest.indexOf('\n')).trimmed().toUInt());
                return port != 0;
            }
            QThread::msleep(20);
        }
        return false;
    }

    // SIGTERM, then the exit code (a crash is a failure of the caller's check).
    bool stop(int timeoutMs = 15000)
    {
        if (process.state() == QProcess::NotRunning)
            return process.exitStatus() == QProcess::NormalExit;
        process.terminate();
        if (!process.waitForFinished(timeoutMs)) {
            process.kill();
            process.waitForFinished(3000);
            return false;
        }
        return process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
    }

    QByteArray logs() const { return readFile(outPath) + readFile(errPath); }

    // Resident memory now and at its peak, in KiB.
    qint64 statusKb(const char *field) const
    {
        const QByteArray status = readFile(QStringLiteral("/proc/%1/status").arg(process.processId()));
        for (const QByteArray &line : status.split('\n'))
            if (line.startsWith(field))
                return line.mid(qsizetype(qstrlen(field))).trimmed().split(' ').first().toLongLong();
        return -1;
    }

    static QByteArray readFile(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
};

// One HTTP answer taken off the wire.
struct RawResponse
{
    int status = 0;
    QByteArray head;
    QByteArray body;
    QByteArray header(const QByteArray &name) const
    {
        for (const QByteArray &line : head.split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }
};

// Splits what a server sent into whole responses (Content-Length framed); a torn
// tail is left out.
inline QList<RawResponse> parseResponses(const QByteArray &bytes)
{
    QList<RawResponse> out;
    qsizetype at = 0;
    while (at < bytes.size()) {
        const qsizetype end = bytes.indexOf("\r\n\r\n", at);
        if (end < 0 || !bytes.mid(at, 9).startsWith("HTTP/1."))
            break;
        RawResponse r;
        r.head = bytes.mid(at, end - at);
        r.status = r.head.mid(9, 3).toInt();
        const qint64 length = r.header("content-length").toLongLong();
        if (end + 4 + length > bytes.size())
            break;
        r.body = bytes.mid(end + 4, length);
        out.append(r);
        at = end + 4 + length;
    }
    return out;
}

inline int openSocket(quint16 port, bool blocking = true)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
    if (fd < 0)
        return -1;
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Waits until every non-blocking connect has finished; returns how many connected.
inline int waitConnected(const QList<int> &fds, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    int connected = 0;
    for (const int fd : fds) {
        pollfd p = {fd, POLLOUT, 0};
        if (::poll(&p, 1, std::max<int>(1, timeoutMs - int(t.elapsed()))) > 0 && (p.revents & POLLOUT)) {
            int error = 0;
            socklen_t len = sizeof error;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
            connected += error == 0;
        }
    }
    return connected;
}

inline bool writeAll(int fd, const QByteArray &bytes)
{
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + done, size_t(bytes.size() - done), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += n;
    }
    return true;
}

// Reads until the peer closes, `expected` whole responses have arrived, or nothing
// came for `quietMs`. `closed` tells whether the server closed the connection.
inline QByteArray readAnswer(int fd, int quietMs, int expected = 1, bool *closed = nullptr)
{
    QByteArray out;
    char buf[65536];
    if (closed)
        *closed = false;
    for (;;) {
        pollfd p = {fd, POLLIN, 0};
        const int r = ::poll(&p, 1, quietMs);
        if (r <= 0)
            break;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (closed)
                *closed = true;
            break;
        }
        out.append(buf, n);
        const QList<RawResponse> responses = expected > 0 ? parseResponses(out) : QList<RawResponse>{};
        if (expected > 0 && responses.size() >= expected) {
            // A refusal closes after its answer: notice it without waiting quietMs. An
            // answer that says "Connection: close" gets quietMs for its FIN (a loaded
            // machine may run the server's shutdown late); any other gets 50 ms.
            const bool announced = responses.last().header("Connection").compare("close", Qt::CaseInsensitive) == 0;
            pollfd q = {fd, POLLIN, 0};
            if (closed && ::poll(&q, 1, announced ? quietMs : 50) > 0 && ::recv(fd, buf, sizeof buf, MSG_PEEK) == 0)
                *closed = true;
            break;
        }
    }
    return out;
}

// Connect, send, read the answer(s), close.
inline QByteArray exchange(quint16 port, const QByteArray &request, int quietMs = 2000, int expected = 1,
                           bool *closed = nullptr)
{
    const int fd = openSocket(port);
    if (fd < 0)
        return {};
    writeAll(fd, request);
    QByteArray answer = readAnswer(fd, quietMs, expected, closed);
    ::close(fd);
    return answer;
}

inline QByteArray httpRequest(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                              const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QByteArray out = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto &[k, v] : headers)
        out += k + ": " + v + "\r\n";
    if (!body.isEmpty() || method == "POST")
        out += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    return out + "\r\n" + body;
}

// Rows of a table, read through a read-only connection of its own (the child may
// still be running; WAL lets both read).
inline qint64 countRows(const QString &database, const QString &table, const QString &where = {})
{
    const QString name = QUuid::createUuid().toString();
    qint64 n = -1;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(database);
        db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"));
        if (db.open()) {
            QSqlQuery q(db);
            if (q.exec(QStringLiteral("SELECT count(*) FROM \"%1\"%2").arg(table, where.isEmpty() ? QString() : QStringLiteral(" WHERE ") + where))
                && q.next())
                n = q.value(0).toLongLong();
        }
    }
    QSqlDatabase::removeDatabase(name);
    return n;
}

inline bool raiseOpenFileLimit(rlim_t want)
{
    rlimit lim = {};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return false;
    if (lim.rlim_cur >= want)
        return true;
    lim.rlim_cur = std::min(want, lim.rlim_max);
    if (lim.rlim_cur < want) { // root may raise the hard limit too
        lim.rlim_max = want;
        lim.rlim_cur = want;
    }
    return ::setrlimit(RLIMIT_NOFILE, &lim) == 0;
}

} // namespace meterdesk::test
