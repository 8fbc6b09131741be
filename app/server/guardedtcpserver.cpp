#include "guardedtcpserver.h"

#include "httpproblem.h"

#include <QTcpSocket>
#include <QTimer>

#include <sys/socket.h>

namespace meterdesk {

GuardedTcpServer::GuardedTcpServer(EndpointLimits limits, QObject *parent)
    : QTcpServer(parent), m_limits(limits), m_sweeper(new QTimer(this))
{
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
    if (m_connections.size() >= m_limits.maxConnections || m_refuseNew) {
        // Not handed to Qt HTTP Server at all: answer, then close.
        const HttpError why = m_refuseNew ? HttpError::Unavailable : HttpError::Unavailable;
        socket->write(rawProblemResponse(why, m_refuseNew ? QStringLiteral("The endpoint is shutting down.")
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
        if (it != m_connections.end() && it->state == State::Draining && socket->bytesToWrite() == 0)
            ::shutdown(int(socket->socketDescriptor()), SHUT_WR); // the answer is out; say we are done
    });
    addPendingConnection(socket);
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
    const qint64 available = socket->bytesAvailable();
    if (available > 0)
        scan(socket, c, available);
}

// Qt HTTP Server reads everything available in its own slot, so the `available`
// bytes at the read position are exactly what arrived since the last call. Body
// bytes are only counted; only a request head is ever copied and looked at.
void GuardedTcpServer::scan(QTcpSocket *socket, Conn &c, qint64 available)
{
    qint64 offset = 0;
    while (offset < available && c.state != State::Draining) {
        if (c.state == State::Body || c.state == State::Chunked) {
            const qint64 n = c.state == State::Body ? std::min(available - offset, c.bodyRemaining) : available - offset;
            c.bodySeen += n;
            offset += n;
            if (c.bodySeen > c.bodyLimit)
                return refuse(socket, c, int(HttpError::PayloadTooLarge),
                              QStringLiteral("The body is over the limit of %1 bytes.").arg(c.bodyLimit));
            if (c.state == State::Body) {
                c.bodyRemaining -= n;
                if (c.bodyRemaining == 0) {
                    c.state = State::Head;
                    c.bodySeen = 0;
                    c.requestStartMs = -1;
                }
            }
            continue;
        }
        if (c.requestStartMs < 0)
            c.requestStartMs = m_clock.elapsed();
        // Head: look for the blank line, taking at most what fits the head limit.
        const qint64 room = m_limits.maxHeadBytes - c.head.size() + 1;
        const qint64 take = std::min(available - offset, room);
        const QByteArray chunk = socket->peek(offset + take).mid(offset);
        const qsizetype before = c.head.size();
        c.head.append(chunk);
        const qsizetype end = c.head.indexOf("\r\n\r\n", std::max<qsizetype>(0, before - 3));
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
    if (requestLine.size() != 3 || !requestLine[2].startsWith("HTTP/1.")) {
        refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Malformed request line."));
        return false;
    }
    const QByteArray path = requestLine[1];
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
        if (name == "content-length") {
            bool ok = false;
            const qint64 n = value.toLongLong(&ok);
            if (!ok || n < 0 || (contentLength >= 0 && contentLength != n)) {
                refuse(socket, c, int(HttpError::BadRequest), QStringLiteral("Invalid or conflicting Content-Length."));
                return false;
            }
            contentLength = n;
        } else if (name == "transfer-encoding") {
            if (value.toLower() != "chunked") {
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
    } else if (contentLength > 0) {
        c.state = State::Body;
        c.bodyRemaining = contentLength;
    } else {
        c.state = State::Head;
        c.requestStartMs = -1;
    }
    return true;
}

void GuardedTcpServer::refuse(QTcpSocket *socket, Conn &c, int error, const QString &detail)
{
    const auto httpError = HttpError(error);
    // Take the socket away from Qt HTTP Server: nothing more of this stream is parsed.
    disconnect(socket, &QTcpSocket::readyRead, nullptr, nullptr);
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
    if (socket->isTransactionStarted())
        socket->commitTransaction();
    socket->skip(socket->bytesAvailable());
    c.state = State::Draining;
    c.head.clear();
    c.drainUntilMs = m_clock.elapsed() + m_limits.lingerMs;
    socket->write(rawProblemResponse(httpError, detail));
    emit refused(httpErrorInfo(httpError).status, detail);
}

void GuardedTcpServer::requestDispatched(QTcpSocket *socket)
{
    auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    if (it->state == State::Chunked) {
        it->state = State::Head;
        it->bodySeen = 0;
    }
    if (it->state == State::Head && it->head.isEmpty())
        it->requestStartMs = -1;
}

void GuardedTcpServer::responsePending(QTcpSocket *socket, bool pending)
{
    auto it = m_connections.find(socket);
    if (it != m_connections.end()) {
        it->pending += pending ? 1 : -1;
        it->lastActivityMs = m_clock.elapsed();
    }
}

void GuardedTcpServer::sweep()
{
    const qint64 now = m_clock.elapsed();
    QList<QTcpSocket *> toAbort;
    QList<QPair<QTcpSocket *, QString>> timedOut;
    for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
        Conn &c = it.value();
        if (c.state == State::Draining) {
            if (now > c.drainUntilMs)
                toAbort.append(it.key());
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
