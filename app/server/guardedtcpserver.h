#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QTcpServer>

class QTcpSocket;
class QTimer;

namespace meterdesk {

struct EndpointLimits
{
    int maxConnections = 1024;
    qint64 maxHeadBytes = qint64(16) * 1024;
    qint64 maxEventBody = qint64(1024) * 1024;
    qint64 maxBatchBody = qint64(16) * 1024 * 1024;
    int headTimeoutMs = 10000;    // from the first byte of a request to the end of its head
    int requestTimeoutMs = 60000; // from the first byte to the last byte of the body
    int idleTimeoutMs = 60000;    // keep-alive connection with nothing to do
    int lingerMs = 3000;          // after refusing: drain input so the client reads our answer
    int maxQueuedEvents = 100000; // the writer's bounded queue; beyond it requests get 429
};

// The QTcpServer handed to Qt HTTP Server through bind(). Qt HTTP Server 6.4 reads
// whole bodies into memory and has no limits or timeouts, so they live here: this
// class watches each connection's bytes before Qt HTTP Server parses them (its
// readyRead slot is connected first) and answers 413/431/408/400/503 itself,
// without reading a refused body into memory. Lives on the server thread.
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT
public:
    explicit GuardedTcpServer(EndpointLimits limits, QObject *parent = nullptr);

    int openConnections() const { return int(m_connections.size()); }
    // The HTTP layer tells when a request was dispatched (ends a chunked body) and
    // when a deferred answer is pending/written, so idle timeouts spare it.
    void requestDispatched(QTcpSocket *socket);
    void responsePending(QTcpSocket *socket, bool pending);
    void setRefuseNewRequests(bool refuse) { m_refuseNew = refuse; }

signals:
    void refused(int status, const QString &reason);

protected:
    void incomingConnection(qintptr handle) override;

private:
    // Refusing: a bad request waits for Qt HTTP Server to take the good ones pipelined
    // before it (they are stored and answered); then it is refused.
    enum class State { Head, Body, Chunked, Refusing, Draining };
    // Where a chunked body is: a size line, chunk data, the CRLF after it, trailers.
    enum class Chunk { Size, Data, DataEnd, Trailer };
    struct Conn
    {
        State state = State::Head;
        Chunk chunk = Chunk::Size;
        QByteArray head;
        QByteArray line;          // a chunk-size or trailer line being read
        qint64 chunkRemaining = 0;
        qint64 unread = 0;        // bytes Qt HTTP Server left in the socket after its last read
        qint64 bodyRemaining = 0;
        qint64 bodySeen = 0;
        qint64 bodyLimit = 0;
        qint64 requestStartMs = -1;
        qint64 lastActivityMs = 0;
        qint64 drainUntilMs = 0;
        int pending = 0;
        // Stream positions (bytes since the connection opened): all that arrived so far,
        // and where the request being scanned began. What Qt HTTP Server has taken is
        // `arrived - bytesAvailable()`.
        qint64 arrived = 0;
        qint64 headAt = 0;
        // A refusal waiting for its turn: in Refusing, for the requests before it to be
        // taken; once written, for their answers (`pending`), so it does not overtake them.
        int refusal = 0;
        QString refusalDetail;
        qint64 refusingSinceMs = 0;
        QByteArray deferredAnswer;
    };

    void onReadyRead(QTcpSocket *socket);
    void scan(QTcpSocket *socket, Conn &c, qint64 start, qint64 available);
    bool parseHead(QTcpSocket *socket, Conn &c);
    // Walks chunked framing over `bytes`; returns how many it used (the body may end
    // inside them), or -1 after refusing a malformed one.
    qint64 scanChunked(QTcpSocket *socket, Conn &c, QByteArrayView bytes);
    // At the connection cap: gives up the connection idle the longest (between
    // requests, no answer pending). False when none is idle.
    bool evictIdle();
    // Refuses the request that began at c.headAt: at once when nothing before it is left
    // for Qt HTTP Server (or `wait` is false), else when it has taken those requests.
    void refuse(QTcpSocket *socket, Conn &c, int error, const QString &detail, bool wait = true);
    void afterQtRead(QTcpSocket *socket);
    void writeDeferredAnswer(QTcpSocket *socket);
    void sweep();

    EndpointLimits m_limits;
    QHash<QTcpSocket *, Conn> m_connections;
    QElapsedTimer m_clock;
    QTimer *m_sweeper = nullptr;
    bool m_refuseNew = false;
};

} // namespace meterdesk
