// The engine's inside: Asio io_contexts (one per I/O thread), a session per connection in
// the shape of Beast's http_server_async example (request_parser with header_limit and
// body_limit set before the body is read, shared_from_this for lifetime), and one sweeper
// for the timeouts. Timeouts are ours, not beast::tcp_stream's: a timed-out request is
// answered 408 before the connection closes, which tcp_stream's expiry cannot do.
#include "httpengine.h"

#include "httpproblem.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <QLoggingCategory>
#include <QUrl>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

Q_LOGGING_CATEGORY(lcHttp, "meterdesk.http")

namespace meterdesk {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

QByteArray IncomingRequest::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers)
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

namespace {

qint64 nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Where a connection is; read by the sweeper from its own thread.
enum class Phase : int { Handshake, Idle, Head, Body, Handling, Closing };

// The I/O thread's own state (deferToEndOfPass).
struct IoThread
{
    asio::io_context *context = nullptr;
    std::vector<std::function<void()>> atEndOfPass;
    bool flushPosted = false;
};
thread_local IoThread *t_io = nullptr;

constexpr std::size_t HeadReadBytes = 4096;
constexpr std::size_t MaxBodyReadBytes = std::size_t(256) * 1024;

} // namespace

class SessionBase;

struct HttpEngine::Private
{
    EndpointLimits limits;
    Handler handler;
    BodyLimit bodyLimit;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::vector<std::thread> threads;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::unique_ptr<asio::ssl::context> tls;
    std::unique_ptr<asio::steady_timer> sweeper;
    std::unique_ptr<asio::steady_timer> acceptRetry;
    std::size_t nextContext = 0;
    quint16 port = 0;
    std::atomic<bool> refuseNew{false};
    std::atomic<bool> stopping{false};
    std::atomic<int> answersOwed{0};
    // Every open connection, for the cap, the eviction of the idlest and the sweeper.
    mutable std::mutex registryMutex;
    std::unordered_map<quint64, std::weak_ptr<SessionBase>> registry;
    quint64 nextId = 0;

    void refusedOne(int status)
    {
        if (refused)
            refused(status);
    }
    std::function<void(int)> refused;

    void accept();
    void onAccepted(tcp::socket socket);
    void sweep();
    bool evictIdlest();
    void unregister(quint64 id)
    {
        const std::lock_guard lock(registryMutex);
        registry.erase(id);
    }
};

// What a connection offers the engine and the replies, whatever its stream.
class SessionBase : public std::enable_shared_from_this<SessionBase>
{
public:
    SessionBase(HttpEngine::Private &engine, asio::io_context &context, quint64 id)
        : engine(engine), context(context), id(id)
    {
        lastActivityMs.store(nowMs());
    }
    virtual ~SessionBase() { engine.unregister(id); }

    // On the session's thread.
    virtual void deliver(QByteArray bytes, quint64 seq) = 0;
    virtual void sweep(qint64 now) = 0;
    virtual void closeNow() = 0;

    HttpEngine::Private &engine;
    asio::io_context &context;
    const quint64 id;
    std::atomic<int> phase{int(Phase::Idle)};
    std::atomic<qint64> phaseSinceMs{0};
    std::atomic<qint64> lastActivityMs{0};

protected:
    void setPhase(Phase p)
    {
        phase.store(int(p), std::memory_order_relaxed);
        phaseSinceMs.store(nowMs(), std::memory_order_relaxed);
    }
    Phase currentPhase() const { return Phase(phase.load(std::memory_order_relaxed)); }
};

namespace detail {
struct ReplySlot
{
    std::shared_ptr<SessionBase> session; // kept while an answer is owed; dropped with the last Reply
    asio::io_context *context = nullptr;
    quint64 seq = 0;
    bool head = false;
    bool close = false;
    std::atomic<bool> sent{false};
};
} // namespace detail

namespace {

void runOn(const std::shared_ptr<SessionBase> &session, std::function<void()> work)
{
    if (t_io && t_io->context == &session->context)
        work();
    else
        asio::post(session->context, [session, work = std::move(work)] { work(); });
}

tcp::socket &lowest(tcp::socket &s) { return s; }
tcp::socket &lowest(asio::ssl::stream<tcp::socket> &s) { return s.next_layer(); }
constexpr bool isTls(const tcp::socket *) { return false; }
constexpr bool isTls(const asio::ssl::stream<tcp::socket> *) { return true; }

// One connection: read a request (head, then the body within the limit the path allows),
// hand it to the handler, write its answer, read the next. Requests pipelined behind it
// wait in the buffer: answers leave in request order by construction.
template<class Stream>
class Session final : public SessionBase
{
public:
    Session(HttpEngine::Private &engine, asio::io_context &context, quint64 id, Stream stream)
        : SessionBase(engine, context, id), m_stream(std::move(stream))
    {
    }

    void start()
    {
        if constexpr (isTls(static_cast<Stream *>(nullptr))) {
            setPhase(Phase::Handshake);
            m_stream.async_handshake(asio::ssl::stream_base::server,
                                     [self = shared()](const boost::system::error_code &ec) {
                                         if (ec) {
                                             self->closeNow();
                                             return;
                                         }
                                         self->startRequest();
                                     });
        } else {
            startRequest();
        }
    }

    void deliver(QByteArray bytes, quint64 seq) override
    {
        if (m_closed || seq != m_seq || currentPhase() != Phase::Handling)
            return; // the connection was refused or closed meanwhile: the answer has no reader
        engine.answersOwed.fetch_sub(1, std::memory_order_relaxed);
        m_owed = false;
        write(std::move(bytes), m_closeAfter);
    }

    void sweep(qint64 now) override
    {
        if (m_closed)
            return;
        const Phase p = currentPhase();
        const qint64 since = phaseSinceMs.load(std::memory_order_relaxed);
        const EndpointLimits &l = engine.limits;
        // A handshake that does not finish, an idle connection, a refusal's linger: closed.
        const bool close = (p == Phase::Handshake && now - since > l.headTimeoutMs)
            || (p == Phase::Idle && now - lastActivityMs.load(std::memory_order_relaxed) > l.idleTimeoutMs)
            || (p == Phase::Closing && now - since > l.lingerMs);
        if (close)
            closeNow();
        else if (p == Phase::Head && now - m_requestStartMs > l.headTimeoutMs)
            refuse(HttpError::RequestTimeout,
                   QStringLiteral("The request head did not arrive within %1 ms.").arg(l.headTimeoutMs));
        else if (p == Phase::Body && now - m_requestStartMs > l.requestTimeoutMs)
            refuse(HttpError::RequestTimeout,
                   QStringLiteral("The request body did not arrive within %1 ms.").arg(l.requestTimeoutMs));
    }

    void closeNow() override
    {
        if (m_closed)
            return;
        m_closed = true;
        if (m_owed) {
            engine.answersOwed.fetch_sub(1, std::memory_order_relaxed);
            m_owed = false;
        }
        setPhase(Phase::Closing);
        boost::system::error_code ignored;
        lowest(m_stream).shutdown(tcp::socket::shutdown_both, ignored);
        lowest(m_stream).close(ignored);
        engine.unregister(id);
    }

private:
    std::shared_ptr<Session> shared() { return std::static_pointer_cast<Session>(shared_from_this()); }

    void startRequest()
    {
        m_parser.emplace();
        m_parser->header_limit(std::uint32_t(engine.limits.maxHeadBytes));
        // No body limit yet: Beast would check Content-Length against it while parsing the
        // head, before the path is known. checkHead() sets the route's limit.
        m_parser->body_limit(boost::none);
        m_headerChecked = false;
        m_closeAfter = false;
        if (m_buffer.size() > 0) {
            m_requestStartMs = nowMs();
            setPhase(Phase::Head);
        } else {
            setPhase(Phase::Idle);
            if (m_buffer.capacity() > 4 * HeadReadBytes)
                m_buffer.shrink_to_fit(); // a big body's buffer is not kept by an idle connection
        }
        parse();
    }

    // Feeds the buffer to the parser until it needs more input, the head is done (checked
    // before any body byte is parsed: the parser stops there, it is not eager) or the
    // request is complete.
    void parse()
    {
        for (;;) {
            if (m_parser->is_header_done() && !m_headerChecked) {
                if (!checkHead())
                    return;
                continue;
            }
            if (m_parser->is_done()) {
                dispatch();
                return;
            }
            if (m_buffer.size() == 0) {
                read();
                return;
            }
            boost::system::error_code ec;
            const std::size_t used = m_parser->put(m_buffer.data(), ec);
            m_buffer.consume(used);
            if (ec == http::error::need_more || (!ec && used == 0)) {
                read();
                return;
            }
            if (ec) {
                refuseParse(ec);
                return;
            }
        }
    }

    void read()
    {
        std::size_t want = HeadReadBytes;
        if (m_headerChecked) {
            const auto remaining = m_parser->content_length_remaining();
            want = std::clamp<std::size_t>(remaining ? std::size_t(*remaining) : MaxBodyReadBytes, HeadReadBytes,
                                           MaxBodyReadBytes);
        }
        readSome(want);
    }

    void readSome(std::size_t want)
    {
        m_reading = true;
        m_stream.async_read_some(m_buffer.prepare(want), [self = shared()](const boost::system::error_code &ec,
                                                                          std::size_t n) { self->onRead(ec, n); });
    }

    void onRead(const boost::system::error_code &ec, std::size_t n)
    {
        m_reading = false;
        if (m_closed)
            return;
        m_buffer.commit(n);
        lastActivityMs.store(nowMs(), std::memory_order_relaxed);
        if (currentPhase() == Phase::Closing) {
            // Refused: what still arrives is read and dropped until the client closes (or
            // the linger ends), so that it reads our answer instead of a reset.
            m_buffer.consume(m_buffer.size());
            if (ec)
                closeNow();
            else
                readSome(HeadReadBytes);
            return;
        }
        if (ec) {
            const bool started = currentPhase() != Phase::Idle || m_buffer.size() > 0;
            if (started && (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)) {
                boost::system::error_code eofError;
                m_parser->put_eof(eofError);
                if (m_parser->is_done() && !eofError) {
                    parse();
                    return;
                }
                refuse(HttpError::BadRequest, QStringLiteral("The connection ended inside a request: it is incomplete."));
                return;
            }
            closeNow();
            return;
        }
        if (currentPhase() == Phase::Idle) {
            m_requestStartMs = nowMs(); // its first byte
            setPhase(Phase::Head);
        }
        parse();
    }

    // The head is complete: what the parser leaves to us, and the body limit for this path.
    bool checkHead()
    {
        m_headerChecked = true;
        const auto &message = m_parser->get();
        const std::string_view method = message.method_string();
        const bool upper = !method.empty() && method.size() <= 16
            && std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
        const std::string_view target = message.target();
        if (!upper || (message.version() != 10 && message.version() != 11) || target.empty() || target.front() != '/') {
            refuse(HttpError::BadRequest, QStringLiteral("Malformed request line."));
            return false;
        }
        int lengths = 0, codings = 0;
        bool chunkedOnly = true;
        for (const auto &field : message) {
            if (field.name() == http::field::content_length) {
                // Beast takes a list of equal values ("60, 60") as one length; RFC 9112
                // §6.3 lets a server refuse it, and we do: a list is a smuggling tell.
                lengths += field.value().find(',') == std::string_view::npos ? 1 : 2;
            }
            else if (field.name() == http::field::transfer_encoding) {
                ++codings;
                chunkedOnly = chunkedOnly && QByteArrayView(field.value().data(), qsizetype(field.value().size())).trimmed().compare("chunked", Qt::CaseInsensitive) == 0;
            }
        }
        if (lengths > 1) {
            refuse(HttpError::BadRequest, QStringLiteral("Invalid or conflicting Content-Length."));
            return false;
        }
        if (codings > 0 && (codings > 1 || !chunkedOnly)) {
            refuse(HttpError::BadRequest, QStringLiteral("Only chunked Transfer-Encoding is supported."));
            return false;
        }
        if (codings > 0 && lengths > 0) {
            refuse(HttpError::BadRequest, QStringLiteral("Content-Length and Transfer-Encoding together are ambiguous."));
            return false;
        }
        const std::string_view rawPath = target.substr(0, std::min(target.find('?'), target.size()));
        m_path = QUrl::fromPercentEncoding(QByteArray(rawPath.data(), qsizetype(rawPath.size())));
        const qint64 limit = engine.bodyLimit ? engine.bodyLimit(m_path) : engine.limits.maxEventBody;
        const auto length = m_parser->content_length();
        if (length && *length > std::uint64_t(limit)) {
            refuse(HttpError::PayloadTooLarge,
                   QStringLiteral("The body is %1 bytes; the limit is %2 bytes (1 MiB per event, 16 MiB per batch).")
                       .arg(qulonglong(*length)).arg(limit));
            return false;
        }
        m_parser->body_limit(std::uint64_t(limit));
        m_fieldsInHead = std::size_t(std::distance(message.begin(), message.end()));
        setPhase(Phase::Body);
        phaseSinceMs.store(m_requestStartMs, std::memory_order_relaxed);
        const auto expect = message.find(http::field::expect);
        if (expect != message.end() && QByteArrayView(expect->value().data(), qsizetype(expect->value().size()))
                                               .trimmed().compare("100-continue", Qt::CaseInsensitive) == 0
            && !m_parser->is_done()) {
            // The client waits for this before it sends the body (curl does, past 1 KiB).
            static const std::string continueLine = "HTTP/1.1 100 Continue\r\n\r\n";
            m_writing = true;
            asio::async_write(m_stream, asio::buffer(continueLine), [self = shared()](const boost::system::error_code &ec, std::size_t) {
                self->m_writing = false;
                if (ec)
                    self->closeNow();
                else if (self->m_queued)
                    self->write(std::move(self->m_queued->first), self->m_queued->second);
            });
        }
        return true;
    }

    void refuseParse(const boost::system::error_code &ec)
    {
        if (ec == http::error::header_limit)
            return refuse(HttpError::HeadersTooLarge,
                          QStringLiteral("The request line and headers exceed %1 bytes.").arg(engine.limits.maxHeadBytes));
        if (ec == http::error::body_limit)
            return refuse(HttpError::PayloadTooLarge,
                          QStringLiteral("The body is over the limit of %1 bytes.")
                              .arg(engine.bodyLimit ? engine.bodyLimit(m_path) : engine.limits.maxEventBody));
        QString detail;
        if (ec == http::error::bad_line_ending)
            detail = QStringLiteral("Header lines end with CRLF, not a bare LF.");
        else if (ec == http::error::bad_method || ec == http::error::bad_target || ec == http::error::bad_version)
            detail = QStringLiteral("Malformed request line.");
        else if (ec == http::error::bad_field)
            detail = QStringLiteral("Malformed header name.");
        else if (ec == http::error::bad_value || ec == http::error::bad_obs_fold)
            detail = QStringLiteral("Malformed header line.");
        else if (ec == http::error::bad_content_length || ec == http::error::multiple_content_length)
            detail = QStringLiteral("Invalid or conflicting Content-Length.");
        else if (ec == http::error::bad_transfer_encoding)
            detail = QStringLiteral("Only chunked Transfer-Encoding is supported.");
        else if (ec == http::error::bad_chunk || ec == http::error::bad_chunk_extension)
            detail = QStringLiteral("Malformed chunked body: a bad chunk size or framing.");
        else
            detail = QStringLiteral("Malformed request: %1.").arg(QString::fromStdString(ec.message()));
        refuse(HttpError::BadRequest, detail);
    }

    void dispatch()
    {
        auto &message = m_parser->get();
        if (std::size_t(std::distance(message.begin(), message.end())) > m_fieldsInHead)
            return refuse(HttpError::BadRequest,
                          QStringLiteral("Trailer fields after a chunked body are not supported; send them as headers."));
        IncomingRequest request;
        const std::string_view method = message.method_string();
        request.method = QByteArray(method.data(), qsizetype(method.size()));
        request.head = request.method == "HEAD";
        const std::string_view target = message.target();
        request.target = QByteArray(target.data(), qsizetype(target.size()));
        request.path = m_path;
        const qsizetype question = request.target.indexOf('?');
        if (question >= 0)
            request.query = QUrlQuery(QString::fromUtf8(request.target.mid(question + 1)));
        request.headers.reserve(qsizetype(m_fieldsInHead));
        for (const auto &field : message) {
            const std::string_view name = field.name_string();
            const std::string_view value = field.value();
            request.headers.append({QByteArray(name.data(), qsizetype(name.size())),
                                    QByteArray(value.data(), qsizetype(value.size()))});
        }
        const std::string &body = message.body();
        request.body = QByteArray(body.data(), qsizetype(body.size()));
        m_closeAfter = !m_parser->keep_alive();
        m_parser.reset();
        setPhase(Phase::Handling);
        auto slot = std::make_shared<detail::ReplySlot>();
        slot->session = shared_from_this();
        slot->context = &context;
        slot->seq = ++m_seq;
        slot->head = request.head;
        slot->close = m_closeAfter;
        m_owed = true;
        engine.answersOwed.fetch_add(1, std::memory_order_relaxed);
        engine.handler(std::move(request), Reply(std::move(slot)));
    }

    // Answers with a problem document, then closes: the rest of the stream cannot be
    // trusted to start a request (RFC 9112 §9.6, request smuggling).
    void refuse(HttpError error, const QString &detail)
    {
        if (m_closed || currentPhase() == Phase::Closing)
            return;
        engine.refusedOne(httpErrorInfo(error).status);
        m_parser.reset();
        write(rawProblemResponse(error, detail, true), true);
        setPhase(Phase::Closing);
    }

    void write(QByteArray bytes, bool closeAfter)
    {
        if (m_closed)
            return;
        if (m_writing) { // behind the 100 Continue line
            m_queued.emplace(std::move(bytes), closeAfter);
            return;
        }
        m_queued.reset();
        m_writing = true;
        m_out = std::move(bytes);
        asio::async_write(m_stream, asio::buffer(m_out.constData(), std::size_t(m_out.size())),
                          [self = shared(), closeAfter](const boost::system::error_code &ec, std::size_t) {
                              self->onWritten(ec, closeAfter);
                          });
    }

    void onWritten(const boost::system::error_code &ec, bool closeAfter)
    {
        m_writing = false;
        if (m_closed)
            return;
        lastActivityMs.store(nowMs(), std::memory_order_relaxed);
        if (ec) {
            closeNow();
            return;
        }
        if (closeAfter) {
            // Our side is done; the input is drained until the client closes (onRead, Closing).
            setPhase(Phase::Closing);
            boost::system::error_code ignored;
            lowest(m_stream).shutdown(tcp::socket::shutdown_send, ignored);
            if (!m_reading) // a timed-out request still has its read pending
                readSome(HeadReadBytes);
            return;
        }
        startRequest();
    }

    Stream m_stream;
    beast::flat_buffer m_buffer;
    std::optional<http::request_parser<http::string_body>> m_parser;
    bool m_headerChecked = false;
    std::size_t m_fieldsInHead = 0;
    QString m_path;
    qint64 m_requestStartMs = 0;
    quint64 m_seq = 0;
    bool m_closeAfter = false;
    bool m_owed = false;
    bool m_closed = false;
    bool m_reading = false;
    bool m_writing = false;
    QByteArray m_out;
    std::optional<std::pair<QByteArray, bool>> m_queued;
};

} // namespace

void Reply::send(int status, const QByteArray &body, const QByteArray &contentType, const HeaderList &extraHeaders) const
{
    if (!m_slot || m_slot->sent.exchange(true))
        return;
    const std::shared_ptr<SessionBase> &session = m_slot->session;
    // One buffer, one write per answer.
    QByteArray out;
    out.reserve(body.size() + 160);
    out += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\nContent-Type: " + contentType
        + "\r\n";
    for (const auto &[k, v] : extraHeaders)
        out += k + ": " + v + "\r\n";
    if (m_slot->close)
        out += "Connection: close\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n";
    if (!m_slot->head)
        out += body;
    const quint64 seq = m_slot->seq;
    runOn(session, [session, out = std::move(out), seq]() mutable { session->deliver(std::move(out), seq); });
}

void Reply::post(std::function<void()> work) const
{
    if (!m_slot)
        return;
    runOn(m_slot->session, std::move(work));
}

bool HttpEngine::deferToEndOfPass(std::function<void()> work)
{
    IoThread *io = t_io;
    if (!io)
        return false;
    io->atEndOfPass.push_back(std::move(work));
    if (!io->flushPosted) {
        io->flushPosted = true;
        // Posted behind every handler already ready in this pass (the reads epoll reported).
        asio::post(*io->context, [io] {
            io->flushPosted = false;
            std::vector<std::function<void()>> work;
            work.swap(io->atEndOfPass);
            for (auto &w : work)
                w();
        });
    }
    return true;
}

HttpEngine::HttpEngine(EndpointLimits limits, Handler handler, BodyLimit bodyLimit) : d(std::make_unique<Private>())
{
    d->limits = std::move(limits);
    d->handler = std::move(handler);
    d->bodyLimit = std::move(bodyLimit);
}

HttpEngine::~HttpEngine()
{
    try {
        stop(0);
    } catch (const std::exception &e) { // a thread that cannot be joined: nothing left to do but say so
        qCCritical(lcHttp) << "stopping the HTTP engine failed:" << e.what();
    }
}

bool HttpEngine::listen(const QString &host, quint16 port, QString *error)
{
    const int threads = d->limits.ioThreads > 0 ? d->limits.ioThreads : std::max(1, int(std::thread::hardware_concurrency()));
    d->refused = refused;
    boost::system::error_code ec;
    if (!d->limits.tlsCertFile.isEmpty() || !d->limits.tlsKeyFile.isEmpty()) {
        if (d->limits.tlsCertFile.isEmpty() || d->limits.tlsKeyFile.isEmpty()) {
            *error = QStringLiteral("HTTPS needs both --tls-cert and --tls-key.");
            return false;
        }
        d->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
        d->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2
                            | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
        d->tls->use_certificate_chain_file(d->limits.tlsCertFile.toStdString(), ec);
        if (ec) {
            *error = QStringLiteral("Cannot read the TLS certificate %1: %2").arg(d->limits.tlsCertFile, QString::fromStdString(ec.message()));
            return false;
        }
        d->tls->use_private_key_file(d->limits.tlsKeyFile.toStdString(), asio::ssl::context::pem, ec);
        if (ec) {
            *error = QStringLiteral("Cannot read the TLS key %1: %2").arg(d->limits.tlsKeyFile, QString::fromStdString(ec.message()));
            return false;
        }
    }
    const std::string h = host == QLatin1String("localhost") ? std::string("127.0.0.1") : host.toStdString();
    const asio::ip::address address = asio::ip::make_address(h, ec);
    if (ec) {
        *error = QStringLiteral("“%1” is not an IP address to listen on.").arg(host);
        return false;
    }
    for (int i = 0; i < threads; ++i) {
        d->contexts.push_back(std::make_unique<asio::io_context>(1));
        d->work.push_back(asio::make_work_guard(*d->contexts.back()));
    }
    d->acceptor = std::make_unique<tcp::acceptor>(*d->contexts.front());
    const tcp::endpoint endpoint(address, port);
    d->acceptor->open(endpoint.protocol(), ec);
    if (!ec)
        d->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
        d->acceptor->bind(endpoint, ec);
    // A crowd of clients connecting at once must not overflow the backlog (a dropped SYN
    // waits a second for its retransmit); the kernel caps it at net.core.somaxconn.
    if (!ec)
        d->acceptor->listen(std::max(d->limits.maxConnections, 128), ec);
    if (ec) {
        *error = QStringLiteral("Cannot listen on %1:%2: %3").arg(host).arg(port).arg(QString::fromStdString(ec.message()));
        d->acceptor.reset();
        d->work.clear();
        d->contexts.clear();
        return false;
    }
    d->port = d->acceptor->local_endpoint().port();
    d->sweeper = std::make_unique<asio::steady_timer>(*d->contexts.front());
    d->acceptRetry = std::make_unique<asio::steady_timer>(*d->contexts.front());
    d->accept();
    d->sweep();
    for (int i = 0; i < threads; ++i) {
        d->threads.emplace_back([this, i] {
            const std::string name = "http-io-" + std::to_string(i);
            pthread_setname_np(pthread_self(), name.c_str());
            IoThread io;
            io.context = d->contexts[std::size_t(i)].get();
            t_io = &io;
            d->contexts[std::size_t(i)]->run();
            t_io = nullptr;
        });
    }
    return true;
}

void HttpEngine::Private::accept()
{
    asio::io_context &target = *contexts[nextContext++ % contexts.size()];
    acceptor->async_accept(target, [this](const boost::system::error_code &ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor || !acceptor->is_open())
            return;
        if (ec) {
            // Out of descriptors (EMFILE) and the like: try again shortly, do not spin.
            qCWarning(lcHttp) << "accept failed:" << QString::fromStdString(ec.message());
            acceptRetry->expires_after(std::chrono::milliseconds(50));
            acceptRetry->async_wait([this](const boost::system::error_code &e) {
                if (!e)
                    accept();
            });
            return;
        }
        onAccepted(std::move(socket));
        accept();
    });
}

void HttpEngine::Private::onAccepted(tcp::socket socket)
{
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored); // answers are whole; do not wait for ACKs
    bool full = false;
    {
        const std::lock_guard lock(registryMutex);
        full = int(registry.size()) >= limits.maxConnections;
    }
    // A crowd of idle keep-alive connections must not lock out a client with a request:
    // at the cap, the one idle the longest makes room (what a browser would reopen).
    if (full && !refuseNew.load())
        full = !evictIdlest();
    if (full || refuseNew.load()) {
        // 503 either way: full now, or shutting down; only the detail differs. Best effort,
        // non-blocking: the answer is small and the socket's buffer empty.
        const QByteArray answer = rawProblemResponse(HttpError::Unavailable, refuseNew.load()
                                                         ? QStringLiteral("The endpoint is shutting down.")
                                                         : QStringLiteral("Too many open connections; retry shortly."));
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(answer.constData(), std::size_t(answer.size())), ignored);
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        refusedOne(503);
        // Closed after a short linger so the client reads the answer, not a reset.
        auto held = std::make_shared<tcp::socket>(std::move(socket));
        auto timer = std::make_shared<asio::steady_timer>(held->get_executor(), std::chrono::milliseconds(200));
        timer->async_wait([held, timer](const boost::system::error_code &) {
            boost::system::error_code e;
            held->close(e);
        });
        return;
    }
    asio::io_context &context = static_cast<asio::io_context &>(socket.get_executor().context());
    std::shared_ptr<SessionBase> session;
    std::function<void()> start;
    const quint64 id = ++nextId;
    if (tls) {
        auto s = std::make_shared<Session<asio::ssl::stream<tcp::socket>>>(
            *this, context, id, asio::ssl::stream<tcp::socket>(std::move(socket), *tls));
        session = s;
        start = [s] { s->start(); };
    } else {
        auto s = std::make_shared<Session<tcp::socket>>(*this, context, id, std::move(socket));
        session = s;
        start = [s] { s->start(); };
    }
    {
        const std::lock_guard lock(registryMutex);
        registry.emplace(id, session);
    }
    asio::post(context, std::move(start));
}

bool HttpEngine::Private::evictIdlest()
{
    std::shared_ptr<SessionBase> idlest;
    qint64 oldest = std::numeric_limits<qint64>::max();
    {
        const std::lock_guard lock(registryMutex);
        for (const auto &[id, weak] : registry) {
            std::shared_ptr<SessionBase> s = weak.lock();
            if (!s || Phase(s->phase.load(std::memory_order_relaxed)) != Phase::Idle)
                continue;
            const qint64 last = s->lastActivityMs.load(std::memory_order_relaxed);
            if (last < oldest) {
                oldest = last;
                idlest = std::move(s);
            }
        }
        if (!idlest)
            return false;
        registry.erase(idlest->id); // room now; the close follows on its own thread
    }
    idlest->phase.store(int(Phase::Closing));
    asio::post(idlest->context, [idlest] { idlest->closeNow(); });
    return true;
}

void HttpEngine::Private::sweep()
{
    sweeper->expires_after(std::chrono::milliseconds(250));
    sweeper->async_wait([this](const boost::system::error_code &ec) {
        if (ec)
            return;
        const qint64 now = nowMs();
        std::vector<std::shared_ptr<SessionBase>> all;
        {
            const std::lock_guard lock(registryMutex);
            all.reserve(registry.size());
            for (const auto &[id, weak] : registry)
                if (auto s = weak.lock())
                    all.push_back(std::move(s));
        }
        // Only a session past one of its limits is asked to look (on its own thread, where
        // it decides again); a quiet one costs three atomic reads here.
        for (auto &s : all) {
            const Phase p = Phase(s->phase.load(std::memory_order_relaxed));
            const qint64 since = now - s->phaseSinceMs.load(std::memory_order_relaxed);
            const qint64 idle = now - s->lastActivityMs.load(std::memory_order_relaxed);
            const bool due = (p == Phase::Handshake && since > limits.headTimeoutMs)
                || (p == Phase::Idle && idle > limits.idleTimeoutMs) || (p == Phase::Head && since > limits.headTimeoutMs)
                || (p == Phase::Body && since > limits.requestTimeoutMs) || (p == Phase::Closing && since > limits.lingerMs);
            if (due)
                asio::post(s->context, [s, now] { s->sweep(now); });
        }
        sweep();
    });
}

quint16 HttpEngine::port() const
{
    return d->port;
}

bool HttpEngine::tls() const
{
    return bool(d->tls);
}

int HttpEngine::ioThreads() const
{
    return int(d->contexts.size());
}

void HttpEngine::refuseNewConnections()
{
    d->refuseNew.store(true);
}

int HttpEngine::openConnections() const
{
    const std::lock_guard lock(d->registryMutex);
    return int(d->registry.size());
}

void HttpEngine::stop(int drainMs)
{
    if (d->contexts.empty() || d->stopping.exchange(true))
        return;
    d->refuseNew.store(true);
    // Answers still owed (the writer's last group) go out first, bounded in time.
    const qint64 until = nowMs() + drainMs;
    while (d->answersOwed.load() > 0 && nowMs() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    asio::post(*d->contexts.front(), [this] {
        boost::system::error_code ignored;
        if (d->acceptor)
            d->acceptor->close(ignored);
        d->sweeper->cancel();
        d->acceptRetry->cancel();
    });
    std::vector<std::shared_ptr<SessionBase>> all;
    {
        const std::lock_guard lock(d->registryMutex);
        for (const auto &[id, weak] : d->registry)
            if (auto s = weak.lock())
                all.push_back(std::move(s));
    }
    for (auto &s : all)
        asio::post(s->context, [s] { s->closeNow(); });
    all.clear();
    d->work.clear();
    // Whatever is still queued (a linger timer, a drain) is cut short.
    for (auto &c : d->contexts)
        c->stop();
    for (auto &t : d->threads)
        t.join();
    d->threads.clear();
    d->acceptor.reset();
    d->sweeper.reset();
    d->acceptRetry.reset();
    d->contexts.clear(); // destroys the handlers still queued, and with them the sessions
}

} // namespace meterdesk
