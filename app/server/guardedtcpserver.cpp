#include "guardedtcpserver.h"

#include "httpproblem.h"

#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <utility>

namespace meterdesk {

GuardedTcpServer::GuardedTcpServer(EndpointLimits limits, QObject *parent)
    : QTcpServer(parent), m_limits(limits), m_sweeper(new QTimer(this))
{
    // Qt listens with a backlog of 50: a burst of connections (a crowd of clients, all
    // at once) would drop the SYN of the next one, which then waits a second for its
    // retransmit. The kernel caps this at net.core.somaxconn.
    setListenBacklogSize(std::max(m_limits.maxConnections, 128));
    m_clock.start();
    m_sweeper->setInterval(250);
    connect(m_sweeper, &QTimer::timeout, this, &GuardedTcpServer::sweep);
    m_sweeper->start();
}

void GuardedTcpServer::incomingConnection(qintptr handle)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(handle)) {
        delete socket;
        return;
    }
    // A crowd of idle keep-alive connections must not lock out a client with a request:
    // at the cap, the one idle the longest makes room (what a browser would reopen).
    if (m_connections.size() >= m_limits.maxConnections && !m_refuseNew)
        evictIdle();
    if (m_connections.size() >= m_limits.maxConnections || m_refuseNew) {
        // Not handed to Qt HTTP Server at all: answer, then close.
        // 503 either way: full now, or shutting down; only the detail differs.
        socket->write(rawProblemResponse(HttpError::Unavailable, m_refuseNew ? QStringLiteral("The endpoint is shutting down.")
                                                          : QStringLiteral("Too many open connections; retry shortly.")));
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        socket->disconnectFromHost();
        emit refused(503, QStringLiteral("connection limit"));
        return;
    }
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); // answers are whole; do not wait for ACKs
    Conn c;
    c.lastActivityMs = m_clock.elapsed();
    m_connections.insert(socket, c);
    // Connected before Qt HTTP Server connects its own slot, so it runs first.
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] { m_connections.remove(socket); });
    connect(socket, &QObject::destroyed, this, [this, socket] { m_connections.remove(socket); });
    connect(socket, &QTcpSocket::bytesWritten, this, [this, socket] {
        auto it = m_connections.find(socket);
        if (it != m_connections.end() && it->state == State::Draining && it->deferredAnswer.isEmpty()
            && socket->bytesToWrite() == 0)
            ::shutdown(int(socket->socketDescriptor()), SHUT_WR); // the answer is out; say we are done
    });
    addPendingConnection(socket);
    // Qt HTTP Server connected its readyRead slot in addPendingConnection (through
    // pendingConnectionAvailable), so this one runs after it.
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { afterQtRead(socket); });
}

void GuardedTcpServer::afterQtRead(QTcpSocket *socket)
{
    auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    it->unread = it->state == State::Draining ? 0 : socket->bytesAvailable(); // what Qt HTTP Server left unread
    // Qt HTTP Server takes one request per readyRead (and signals again for the next):
    // once it has taken every request before the refused one, that one is refused,
    // before Qt HTTP Server reads any of it.
    if (it->state == State::Refusing && it->headAt <= it->arrived - socket->bytesAvailable())
        refuse(socket, *it, it->refusal, it->refusalDetail, false);
}

void GuardedTcpServer::onReadyRead(QTcpSocket *socket)
{
    auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    Conn &c = *it;
    c.lastActivityMs = m_clock.elapsed();
    if (c.state == State::Draining) {
        if (socket->isTransactionStarted())
            socket->commitTransaction();
        socket->skip(socket->bytesAvailable());
        return;
    }
    // Bytes Qt HTTP Server left unread last time (it may stop inside a chunked body)
    // were scanned already: only what follows them is new.
    const qint64 available = socket->bytesAvailable();
    if (available <= c.unread)
        return;
    c.arrived += available - c.unread;
    if (c.state != State::Refusing) // nothing after a refused request is looked at
        scan(socket, c, c.unread, available);
}

// The bytes from `start` to `available` at the read position arrived since the
// last call (what Qt HTTP Server left unread lies before `start`). Body bytes are
// only counted; only a request head or a chunk-size line is ever copied.
void GuardedTcpServer::scan(QTcpSocket *socket, Conn &c, qint64 start, qint64 available)
{
    qint64 offset = start;
    while (offset < available && c.state != State::Draining) {
        if (c.state == State::Chunked) {
            const QByteArray bytes = socket->peek(available).mid(offset);
            const qint64 used = scanChunked(socket, c, bytes);
            if (used < 0)
                return;
            offset += used;
            continue;
        }
        if (c.state == State::Body) {
            const qint64 n = std::min(available - offset, c.bodyRemaining);
            c.bodySeen += n;
            offset += n;
            if (c.bodySeen > c.bodyLimit)
                return refuse(socket, c, int(HttpError::PayloadTooLarge),
                              QStringLiteral("The body is over the limit of %1 bytes.").arg(c.bodyLimit));
            c.bodyRemaining -= n;
            if (c.bodyRemaining == 0) {
                c.state = State::Head;
                c.bodySeen = 0;
                c.requestStartMs = -1;
            }
            continue;
        }
        if (c.requestStartMs < 0)
            c.requestStartMs = m_clock.elapsed();
        if (c.head.isEmpty())
            c.headAt = c.arrived - available + offset;
        // Head: look for the blank line, taking at most what fits the head limit.
        const qint64 room = m_limits.maxHeadBytes - c.head.size() + 1;
        const qint64 take = std::min(available - offset, room);
        const QByteArray chunk = socket->peek(offset + take).mid(offset);
        const qsizetype before = c.head.size();
        c.head.append(chunk);
        // Lines end with CRLF. A bare LF, a NUL or another control byte is refused:
        // Qt HTTP Server's parser would read such a head differently than this guard
        // (request smuggling), or take a NUL inside a header value.
        const qsizetype end = c.head.indexOf("\r\n\r\n", std::max<qsizetype>(0, before - 3));
        const qsizetype headEnd = end < 0 ? c.head.size() : end + 4; // the body after it is not looked at
        for (qsizetype i = before; i < headEnd; ++i) {
            const uchar ch = uchar(c.head[i]);
            if ((ch == '\n' && (i == 0 || c.head[i - 1] != '\r')) || (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n')
                || ch == 0x7f)
                return refuse(socket, c, int(HttpError::BadRequest),
                              ch == '\n' ? QStringLiteral("Header lines end with CRLF, not a bare LF.")
                                         : QStringLiteral("A control character in the request head."));
        }
        if (end < 0) {
            if (c.head.size() > m_limits.maxHeadBytes)
                return refuse(socket, c, int(HttpError::HeadersTooLarge),
                              QStringLiteral("The request line and headers exceed %1 bytes.").arg(m_limits.maxHeadBytes));
            offset += take;
            continue;
        }
        const qsizetype headLen = end + 4;
        offset += headLen - before;
        c.head.truncate(headLen);
        if (!parseHead(socket, c))
            return;
        c.head.clear();
    }
}

bool GuardedTcpServer::parseHead(QTcpSocket *socket, Conn &c)
{
    const QList<QByteArray> lines = c.head.split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    // method SP request-target SP HTTP/1.x: the method upper-case letters (methods are
    // case-sensitive: "post" is not POST), the target printable ASCII (RFC 9112 §3).
    const auto isUpper = [](char ch) { return ch >= 'A' && ch <= 'Z'; };
    const auto isPrintable = [](char ch) { return ch > 0x20 && ch < 0x7f; };
    if (requestLine.size() != 3 || (requestLine[2] != "HTTP/1.1" && requestLine[2] != "HTTP/1.0")
        || requestLine[0].isEmpty() || requestLine[0].size() > 16
        || !std::all_of(requestLine[0].cbegin(), requestLine[0].cend(), isUpper) || requestLine[1].isEmpty()
        || !std::all_of(requestLine[1].cbegin(), requestLine[1].cend(), isPrintable)) {
        refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Malformed request line."));
        return false;
    }
    const QByteArray &path = requestLine[1];
    c.bodyLimit = path.contains("/batch") ? m_limits.maxBatchBody : m_limits.maxEventBody;
    qint64 contentLength = -1;
    bool chunked = false;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (line.isEmpty())
            continue;
        if (colon <= 0) {
            refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Malformed header line."));
            return false;
        }
        const QByteArray name = line.left(colon).trimmed().toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (name.isEmpty() || name.contains(' ') || name.contains('\t')) {
            refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Malformed header name."));
            return false;
        }
        if (name == "content-length") {
            // Digits only: "+5", "0x5" or "5, 5" are read differently by different parsers.
            bool ok = !value.isEmpty() && value.size() <= 18
                && std::all_of(value.cbegin(), value.cend(), [](char ch) { return ch >= '0' && ch <= '9'; });
            const qint64 n = ok ? value.toLongLong(&ok) : -1;
            if (!ok || n < 0 || (contentLength >= 0 && contentLength != n)) {
                refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Invalid or conflicting Content-Length."));
                return false;
            }
            contentLength = n;
        } else if (name == "transfer-encoding") {
            if (value.toLower() != "chunked" || chunked) {
                refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Only chunked Transfer-Encoding is supported."));
                return false;
            }
            chunked = true;
        }
    }
    if (chunked && contentLength >= 0) {
        refuse(socket, c, int(HttpError::BadRequest),
               QStringLiteral("Content-Length and Transfer-Encoding together are ambiguous."));
        return false;
    }
    if (contentLength > c.bodyLimit) {
        refuse(socket, c, int(HttpError::PayloadTooLarge),
               QStringLiteral("The body is %1 bytes; the limit is %2 bytes (1 MiB per event, 16 MiB per batch).")
                   .arg(contentLength).arg(c.bodyLimit));
        return false;
    }
    c.bodySeen = 0;
    if (chunked) {
        c.state = State::Chunked;
        c.chunk = Chunk::Size;
        c.line.clear();
    } else if (contentLength > 0) {
        c.state = State::Body;
        c.bodyRemaining = contentLength;
    } else {
        c.state = State::Head;
        c.requestStartMs = -1;
    }
    return true;
}

qint64 GuardedTcpServer::scanChunked(QTcpSocket *socket, Conn &c, QByteArrayView bytes)
{
    constexpr qsizetype MaxLine = 1024; // a chunk-size line with extensions, or one trailer
    qint64 at = 0;
    while (at < bytes.size()) {
        if (c.chunk == Chunk::Data) {
            const qint64 n = std::min<qint64>(bytes.size() - at, c.chunkRemaining);
            c.chunkRemaining -= n;
            c.bodySeen += n;
            at += n;
            if (c.bodySeen > c.bodyLimit) {
                refuse(socket, c, int(HttpError::PayloadTooLarge),
                       QStringLiteral("The body is over the limit of %1 bytes.").arg(c.bodyLimit));
                return -1;
            }
            if (c.chunkRemaining == 0)
                c.chunk = Chunk::DataEnd;
            continue;
        }
        // A line: the chunk size, the CRLF after a chunk's data, or a trailer.
        const qsizetype nl = bytes.sliced(at).indexOf('\n');
        const qsizetype take = nl < 0 ? bytes.size() - at : nl + 1;
        c.line.append(bytes.sliced(at, take));
        at += take;
        if (c.line.size() > MaxLine) {
            refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Malformed chunked body: a line is too long."));
            return -1;
        }
        if (nl < 0)
            continue;
        if (!c.line.endsWith("\r\n")) {
            refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Malformed chunked body: lines end with CRLF."));
            return -1;
        }
        const QByteArray line = c.line.chopped(2);
        c.line.clear();
        if (c.chunk == Chunk::DataEnd) {
            if (!line.isEmpty()) {
                refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Malformed chunked body: data longer than its size."));
                return -1;
            }
            c.chunk = Chunk::Size;
            continue;
        }
        if (c.chunk == Chunk::Trailer) {
            // Qt HTTP Server 6.4 dispatches a request with trailer fields, then drops the
            // connection before a deferred answer: the event would be stored unanswered.
            if (!line.isEmpty()) {
                refuse(socket, c, int(HttpError::BadRequest),
                       QStringLiteral("Trailer fields after a chunked body are not supported; send them as headers."));
                return -1;
            }
            c.state = State::Head; // the empty line: the body is over
            c.chunk = Chunk::Size;
            c.bodySeen = 0;
            c.requestStartMs = -1;
            return at;
        }
        const qsizetype semicolon = line.indexOf(';'); // chunk extensions are ignored
        const QByteArray size = (semicolon < 0 ? line : line.left(semicolon)).trimmed();
        const bool hex = !size.isEmpty() && size.size() <= 15
            && std::all_of(size.cbegin(), size.cend(), [](char ch) { return std::isxdigit(uchar(ch)) != 0; });
        if (!hex) {
            refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Malformed chunked body: a bad chunk size."));
            return -1;
        }
        c.chunkRemaining = size.toLongLong(nullptr, 16);
        if (c.bodySeen + c.chunkRemaining > c.bodyLimit) {
            refuse(socket, c, int(HttpError::PayloadTooLarge),
                   QStringLiteral("The body is over the limit of %1 bytes.").arg(c.bodyLimit));
            return -1;
        }
        c.chunk = c.chunkRemaining == 0 ? Chunk::Trailer : Chunk::Data;
    }
    return at;
}

bool GuardedTcpServer::evictIdle()
{
    QTcpSocket *oldest = nullptr;
    qint64 oldestMs = 0;
    for (auto it = m_connections.cbegin(); it != m_connections.cend(); ++it) {
        const Conn &c = it.value();
        const bool idle = c.state == State::Head && c.head.isEmpty() && c.requestStartMs < 0 && c.pending == 0;
        if (idle && (!oldest || c.lastActivityMs < oldestMs)) {
            oldest = it.key();
            oldestMs = c.lastActivityMs;
        }
    }
    if (!oldest)
        return false;
    m_connections.remove(oldest);
    oldest->abort();
    return true;
}

void GuardedTcpServer::refuse(QTcpSocket *socket, Conn &c, int error, const QString &detail, bool wait)
{
    if (wait && c.headAt > c.arrived - socket->bytesAvailable()) {
        // Good requests pipelined before this one are still in the socket, not yet read
        // by Qt HTTP Server: taking the socket now would drop them unanswered, and the
        // client would read this refusal as the answer to the first of them.
        c.state = State::Refusing;
        c.refusal = error;
        c.refusalDetail = detail;
        c.refusingSinceMs = m_clock.elapsed();
        return;
    }
    const auto httpError = HttpError(error);
    // Take the socket away from Qt HTTP Server: nothing more of this stream is parsed.
    disconnect(socket, &QTcpSocket::readyRead, nullptr, nullptr);
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
    if (socket->isTransactionStarted())
        socket->commitTransaction();
    socket->skip(socket->bytesAvailable());
    c.unread = 0;
    c.state = State::Draining;
    c.head.clear();
    c.refusalDetail.clear();
    if (c.pending > 0) {
        // Answers to requests before this one are still to come (after their commit):
        // the refusal follows them (HTTP/1.1 answers in request order).
        c.deferredAnswer = rawProblemResponse(httpError, detail);
        c.drainUntilMs = m_clock.elapsed() + m_limits.requestTimeoutMs;
    } else {
        c.drainUntilMs = m_clock.elapsed() + m_limits.lingerMs;
        socket->write(rawProblemResponse(httpError, detail));
    }
    emit refused(httpErrorInfo(httpError).status, detail);
}

void GuardedTcpServer::writeDeferredAnswer(QTcpSocket *socket)
{
    auto it = m_connections.find(socket);
    if (it == m_connections.end() || it->pending > 0 || it->deferredAnswer.isEmpty())
        return;
    const QByteArray answer = std::exchange(it->deferredAnswer, {});
    if (socket->state() != QAbstractSocket::ConnectedState)
        return; // an earlier request said "Connection: close": its answer was the last
    socket->write(answer);
    it->drainUntilMs = m_clock.elapsed() + m_limits.lingerMs;
}

void GuardedTcpServer::requestDispatched(QTcpSocket *socket)
{
    auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    // A chunked body's end is found by scanChunked(); this guard has already read any
    // pipelined request after this one, so only an empty head is reset here.
    if (it->state == State::Head && it->head.isEmpty())
        it->requestStartMs = -1;
}

void GuardedTcpServer::responsePending(QTcpSocket *socket, bool pending)
{
    auto it = m_connections.find(socket);
    if (it != m_connections.end()) {
        it->pending += pending ? 1 : -1;
        it->lastActivityMs = m_clock.elapsed();
        // The caller writes that answer after this call returns: a refusal waiting
        // behind it goes out after it.
        if (it->pending == 0 && !it->deferredAnswer.isEmpty())
            QMetaObject::invokeMethod(this, [this, s = QPointer<QTcpSocket>(socket)] {
                if (s)
                    writeDeferredAnswer(s);
            }, Qt::QueuedConnection);
    }
}

void GuardedTcpServer::sweep()
{
    const qint64 now = m_clock.elapsed();
    QList<QTcpSocket *> toAbort;
    QList<QPair<QTcpSocket *, QString>> timedOut;
    QList<QTcpSocket *> stuck;
    for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
        Conn &c = it.value();
        if (c.state == State::Draining) {
            if (now > c.drainUntilMs)
                toAbort.append(it.key());
            continue;
        }
        if (c.state == State::Refusing) {
            // Qt HTTP Server always takes the requests before a refused one at once;
            // should it not, the refusal still goes out.
            if (now - c.refusingSinceMs > m_limits.headTimeoutMs)
                stuck.append(it.key());
            continue;
        }
        if (c.requestStartMs >= 0) {
            const bool inHead = c.state == State::Head;
            const qint64 limit = inHead ? m_limits.headTimeoutMs : m_limits.requestTimeoutMs;
            if (now - c.requestStartMs > limit)
                timedOut.append({it.key(), inHead ? QStringLiteral("The request head did not arrive within %1 ms.").arg(limit)
                                                  : QStringLiteral("The request body did not arrive within %1 ms.").arg(limit)});
            continue;
        }
        if (c.pending == 0 && now - c.lastActivityMs > m_limits.idleTimeoutMs)
            toAbort.append(it.key());
    }
    for (QTcpSocket *socket : std::as_const(stuck)) {
        auto it = m_connections.find(socket);
        if (it != m_connections.end())
            refuse(socket, *it, it->refusal, it->refusalDetail, false);
    }
    for (const auto &[socket, why] : std::as_const(timedOut)) {
        auto it = m_connections.find(socket);
        if (it != m_connections.end())
            refuse(socket, *it, int(HttpError::RequestTimeout), why);
    }
    for (QTcpSocket *socket : std::as_const(toAbort)) {
        m_connections.remove(socket);
        socket->abort();
    }
}

} // namespace meterdesk
