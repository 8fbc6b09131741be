// The HTTP request path, bytes in -> answer out, through the code the server runs:
// an in-process IngestService (the HttpEngine: Beast's parser with our limits and
// timeouts; IngestServer's routes, auth, validation, the group-commit writer and dead
// letters) on a real SQLite workspace in a temporary folder, started once.
// Each input is written to a fresh loopback connection; "@ORG@" and "@KEY@" in it
// are replaced by the workspace's organisation and a valid API key so the fuzzer
// can get past authentication. Properties: whatever comes back is HTTP/1.1 with a
// status of 1xx-4xx or 503 (never a 500: that is our bug), the connection ends once
// the client has sent all and half-closed it, and afterwards the server still answers
// GET /healthz with 200.
#include "apikeys.h"
#include "fuzz_common.h"
#include "ingestservice.h"
#include "workspace.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTemporaryDir>
#include <QTimer>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

using namespace meterdesk;

namespace {

struct Harness
{
    QCoreApplication *app = nullptr;
    QTemporaryDir *dir = nullptr;
    IngestService *service = nullptr; // stopped at exit (below), never deleted
    quint16 port = 0;
    QByteArray organisation;
    QByteArray key;
};

Harness &harness()
{
    static Harness h;
    return h;
}

int connectLoopback(quint16 port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        // libFuzzer's timers interrupt system calls; an interrupted connect goes on.
        int error = errno;
        if (error == EINTR) {
            pollfd p{fd, POLLOUT, 0};
            while (::poll(&p, 1, 5000) < 0 && errno == EINTR) {
            }
            socklen_t len = sizeof error;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
        }
        if (error != 0) {
            std::fprintf(stderr, "connect: %s\n", strerror(error));
            FUZZ_CHECK(false);
        }
    }
    return fd;
}

// Sends what the server takes before the deadline (it may refuse and stop reading).
void sendAll(int fd, const QByteArray &bytes, const QDeadlineTimer &deadline)
{
    qsizetype sent = 0;
    while (sent < bytes.size() && !deadline.hasExpired()) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, int(qMax<qint64>(1, deadline.remainingTime()))) <= 0)
            continue;
        const ssize_t n = ::send(fd, bytes.constData() + sent, size_t(bytes.size() - sent), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // the server closed: what it answered is still readable
        sent += n;
    }
}

// Reads until the peer closes (true) or `quietMs` pass without a byte / the deadline ends (false).
bool readUntil(int fd, QByteArray &out, const QDeadlineTimer &deadline, int quietMs)
{
    char buf[16384];
    while (!deadline.hasExpired()) {
        pollfd p{fd, POLLIN, 0};
        const qint64 left = qMax<qint64>(1, deadline.remainingTime());
        const int wait = int(quietMs > 0 ? qMin<qint64>(quietMs, left) : left);
        const int ready = ::poll(&p, 1, wait);
        if (ready < 0)
            continue; // EINTR
        if (ready == 0) {
            if (quietMs > 0 && wait == quietMs)
                return false; // quiet
            continue;
        }
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return true; // closed (or reset)
        out.append(buf, qsizetype(n));
    }
    return false;
}

void checkAnswers(const QByteArray &answer)
{
    // Every response in the stream: "HTTP/1.1 NNN ...". Only status lines are looked
    // at (bodies may hold anything), found at the start and after each blank line
    // that ends a head with its Content-Length body.
    qsizetype pos = 0;
    while (pos < answer.size()) {
        const QByteArray rest = answer.mid(pos);
        if (rest.size() < 12)
            break; // a cut answer (the connection went away mid-write) is not checked
        if (!rest.startsWith("HTTP/1.1 ")) {
            std::fprintf(stderr, "answer is not HTTP/1.1: %s\n", rest.left(200).constData());
            FUZZ_CHECK(false);
        }
        const int status = rest.mid(9, 3).toInt();
        if (status < 100 || status > 599 || status == 500) {
            std::fprintf(stderr, "status %d in answer: %s\n", status, rest.left(2000).constData());
            FUZZ_CHECK(false);
        }
        const qsizetype headEnd = rest.indexOf("\r\n\r\n");
        if (headEnd < 0)
            break;
        const QByteArray head = rest.left(headEnd).toLower();
        const qsizetype cl = head.indexOf("\r\ncontent-length:");
        qint64 length = 0;
        if (cl >= 0) {
            const qsizetype eol = head.indexOf("\r\n", cl + 2);
            length = head.mid(cl + 17, eol < 0 ? -1 : eol - cl - 17).trimmed().toLongLong();
        }
        // An answer to HEAD carries the Content-Length of the body it leaves out (RFC 9110
        // §9.3.2): when the next answer starts right after the head, that was one.
        const qsizetype afterHead = pos + headEnd + 4;
        if (length > 0 && answer.mid(afterHead, 9) == "HTTP/1.1 " && answer.mid(afterHead + length, 9) != "HTTP/1.1 ")
            length = 0;
        pos += headEnd + 4 + length;
    }
}

void checkHealthy(quint16 port)
{
    const int fd = connectLoopback(port);
    const QDeadlineTimer deadline(5000);
    // Half-closed after the request: the server answers, then ends the connection (it
    // keeps one that says only "Connection: close" open until the idle timeout).
    sendAll(fd, "GET /healthz HTTP/1.1\r\nHost: fuzz\r\n\r\n", deadline);
    ::shutdown(fd, SHUT_WR);
    QByteArray answer;
    readUntil(fd, answer, deadline, 0);
    ::close(fd);
    if (!answer.startsWith("HTTP/1.1 200")) {
        std::fprintf(stderr, "GET /healthz after the input: %s\n", answer.left(500).constData());
        FUZZ_CHECK(false);
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    Harness &h = harness();
    h.app = new QCoreApplication(*argc, *argv);
    h.dir = new QTemporaryDir;
    FUZZ_CHECK(h.dir->isValid());
    const QString location = h.dir->filePath(QStringLiteral("fuzz.db"));
    {
        QString error;
        auto ws = Workspace::open(location, &error);
        if (!ws)
            std::fprintf(stderr, "workspace: %s\n", qPrintable(error));
        FUZZ_CHECK(ws);
        h.organisation = ws->organisation().toUtf8();
        UsageEventDefinition typed;
        typed.name = QStringLiteral("fuzz");
        typed.slug = QStringLiteral("fuzz");
        typed.schema = fuzz::everyTypeSchema();
        FUZZ_CHECK(ws->createDefinition(typed).isEmpty());
        UsageEventDefinition over;
        over.name = QStringLiteral("over");
        over.slug = QStringLiteral("over");
        over.policy = DuplicatePolicy::Overwrite;
        over.schema.fields = {{QStringLiteral("n"), FieldType::Integer, false, {}}};
        FUZZ_CHECK(ws->createDefinition(over).isEmpty());
        const auto key = ApiKeys::create(*ws, QStringLiteral("fuzz"), &error);
        FUZZ_CHECK(key);
        h.key = key->key.toUtf8();
    }
    EndpointLimits limits;
    limits.maxConnections = 64;
    limits.headTimeoutMs = 2000;
    limits.requestTimeoutMs = 3000;
    limits.idleTimeoutMs = 2000;
    limits.lingerMs = 200;
    h.service = new IngestService(location, limits);
    QEventLoop loop;
    QObject::connect(h.service, &IngestService::started, &loop, &QEventLoop::quit);
    QObject::connect(h.service, &IngestService::failed, &loop, [&loop](const QString &error) {
        std::fprintf(stderr, "the endpoint did not start: %s\n", qPrintable(error));
        loop.quit();
    });
    QTimer::singleShot(10000, &loop, &QEventLoop::quit);
    h.service->start(QStringLiteral("127.0.0.1"), 0);
    loop.exec();
    FUZZ_CHECK(h.service->isRunning());
    h.port = h.service->port();
    // libFuzzer ends a timed run with exit(): stop the writer and server threads first,
    // or they race the destruction of Qt's global connection registry (a SEGV in
    // QSqlDatabase::database() on the writer thread, seen once in a 60 s run). Registered
    // last, so it runs before the static destructors registered while opening above.
    std::atexit([] { harness().service->stop(); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Harness &h = harness();
    QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    bytes.replace("@ORG@", h.organisation);
    bytes.replace("@KEY@", h.key);

    QElapsedTimer clock;
    clock.start();
    const bool trace = qEnvironmentVariableIsSet("MDK_FUZZ_TRACE");
    const int fd = connectLoopback(h.port);
    const QDeadlineTimer deadline(6000);
    sendAll(fd, bytes, deadline);
    // Answers first (an accepted event is answered after the writer's commit), then
    // the half-close: the server must end the connection.
    QByteArray answer;
    bool closed = readUntil(fd, answer, QDeadlineTimer(qMin<qint64>(deadline.remainingTime(), 300)), 10);
    if (!closed) {
        ::shutdown(fd, SHUT_WR);
        closed = readUntil(fd, answer, deadline, 0);
    }
    ::close(fd);
    if (trace)
        std::fprintf(stderr, "input: %lld ms, %lld bytes back\n", qint64(clock.elapsed()), qint64(answer.size()));
    if (!closed)
        std::fprintf(stderr, "the server kept the half-closed connection open for 6 s\n");
    FUZZ_CHECK(closed);
    checkAnswers(answer);
    checkHealthy(h.port);
    if (trace)
        std::fprintf(stderr, "with /healthz: %lld ms\n", qint64(clock.elapsed()));
    QCoreApplication::processEvents(); // the service's queued signals (committed)
    return 0;
}
