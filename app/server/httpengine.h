#pragma once

#include "endpointlimits.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QUrlQuery>

#include <functional>
#include <memory>

namespace meterdesk {

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

// One parsed request, as the routes see it: parsed once, by the engine, within the limits.
struct IncomingRequest
{
    QByteArray method;   // "GET", "POST", … (upper-case letters only; anything else was refused)
    QByteArray target;   // the request-target as sent
    QString path;        // its path, percent-decoded
    QUrlQuery query;
    HeaderList headers;  // in the order sent, names as sent
    QByteArray body;
    bool head = false;   // HEAD: the answer's body is not sent

    // The first value of a header (names compare case-insensitively, RFC 9110).
    QByteArray header(QByteArrayView name) const;
};

namespace detail {
struct ReplySlot;
}

// The answer owed to one request. Copyable; send() may be called from any thread, once:
// the answer goes out on the connection's I/O thread in request order, and is dropped
// when the client has gone. post() runs work on that I/O thread (or drops it likewise).
class Reply
{
public:
    Reply() = default;
    void send(int status, const QByteArray &body, const QByteArray &contentType = QByteArrayLiteral("application/json"),
              const HeaderList &extraHeaders = {}) const;
    void post(std::function<void()> work) const;
    bool isValid() const { return bool(m_slot); }
    // Made by the engine for each request it dispatches.
    explicit Reply(std::shared_ptr<detail::ReplySlot> slot) : m_slot(std::move(slot)) {}

private:
    std::shared_ptr<detail::ReplySlot> m_slot;
};

// The HTTP/1.1 server (DESIGN.md §2, §5) on Boost.Beast's parser and Boost.Asio: one
// parse per request with the head and body limits inside the parser (the body limit
// chosen from the parsed path), head/body/idle timeouts, a cap on connections (the idlest
// one gives way), keep-alive and pipelining with answers in request order, optional TLS.
// `ioThreads` threads each run an io_context of their own; a connection stays on one.
// The handler runs on an I/O thread and must not block: it answers through the Reply,
// now or later (after the writer's commit). Refusals the engine makes itself (400, 408,
// 413, 431, 503 at the cap) are RFC 9457 problem documents too, counted through
// `refused`. Construct, listen() and stop() on one thread; the rest is thread-safe.
class HttpEngine
{
public:
    using Handler = std::function<void(IncomingRequest &&request, Reply reply)>;
    using BodyLimit = std::function<qint64(const QString &path)>;

    HttpEngine(EndpointLimits limits, Handler handler, BodyLimit bodyLimit);
    ~HttpEngine();
    HttpEngine(const HttpEngine &) = delete;
    HttpEngine &operator=(const HttpEngine &) = delete;

    // Binds, starts the I/O threads and accepts. False with *error on failure.
    bool listen(const QString &host, quint16 port, QString *error);
    quint16 port() const;
    bool tls() const;
    int ioThreads() const;
    // New connections get 503 from now on (shutting down); open ones are still served.
    void refuseNewConnections();
    // Waits up to `drainMs` for answers still owed to be written, then closes every
    // connection and ends the I/O threads.
    void stop(int drainMs = 2000);
    int openConnections() const;
    // Called (on an I/O thread) for each refusal the engine makes, with its status.
    std::function<void(int status)> refused;

    // On an I/O thread: runs `work` once the handlers ready in this pass of its event
    // loop have run (the writer is woken once per pass, not once per request). False
    // elsewhere (the caller then runs it itself).
    static bool deferToEndOfPass(std::function<void()> work);

    struct Private;

private:
    std::unique_ptr<Private> d;
};

} // namespace meterdesk
