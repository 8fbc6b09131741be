#include "ingestserver.h"

#include "aggregate.h"
#include "apikeys.h"
#include "groupcommitwriter.h"
#include "httpproblem.h"
#include "jsonvalue.h"
#include "openapi.h"
#include "timestamp.h"
#include "workspace.h"

#include <QAbstractEventDispatcher>
#include <QHttpServerRequest>
#include <QLoggingCategory>
#include <QMutexLocker>
#include <QPointer>
#include <QTcpSocket>
#include <QThread>
#include <QTimeZone>
#include <QTimer>
#include <QUrlQuery>

#include <sys/socket.h>

#include <cmath>

#include <cctype>

Q_LOGGING_CATEGORY(lcServer, "meterdesk.server")

namespace meterdesk {

namespace {

constexpr int MaxBatchEvents = 10000;
constexpr qsizetype DeadLetterBodyCap = qsizetype(64) * 1024;

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

// "Connection: close" (a comma-separated list of options, any case).
bool connectionClose(const QByteArray &value)
{
    for (const QByteArray &option : value.split(','))
        if (option.trimmed().compare("close", Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

QByteArray header(const HeaderList &headers, QByteArrayView name)
{
    // Header names are case-insensitive (RFC 9110); compare them so.
    for (const auto &[key, value] : headers)
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

// An API key ("mdk_" + 43 base64url characters) wherever a client put it: the dead
// letters keep bodies and headers for inspection, never a usable key.
QByteArray scrubKeys(QByteArray text)
{
    for (qsizetype at = text.indexOf("mdk_"); at >= 0; at = text.indexOf("mdk_", at + 4)) {
        qsizetype end = at + 4;
        while (end < text.size() && (std::isalnum(uchar(text[end])) || text[end] == '-' || text[end] == '_'))
            ++end;
        if (end - at > 12)
            text.replace(at + 4, end - at - 4, "[redacted]");
    }
    return text;
}

bool secretHeader(const QByteArray &name)
{
    const QByteArray lower = name.toLower();
    return lower == "cookie" || lower.contains("auth") || lower.contains("key") || lower.contains("token")
        || lower.contains("secret") || lower.contains("password");
}

QByteArray redactedHeaders(const HeaderList &headers)
{
    QByteArray out = "{";
    bool first = true;
    for (const auto &[key, value] : headers) {
        if (secretHeader(key))
            continue;
        if (!first)
            out += ',';
        first = false;
        appendJsonString(out, QString::fromUtf8(key).toUtf8());
        out += ':';
        appendJsonString(out, scrubKeys(QString::fromUtf8(value.left(1024)).toUtf8()));
    }
    return out + '}';
}

// Splits a batch body into events: a JSON array, or NDJSON (one object per line).
bool splitBatch(const QByteArray &body, std::vector<JsonValue> &events, QString *error)
{
    const QByteArray trimmed = body.trimmed();
    if (trimmed.startsWith('[')) {
        JsonValue::ParseResult parsed = JsonValue::parse(trimmed, 65);
        if (!parsed.ok) {
            *error = QStringLiteral("The body is not valid JSON: %1").arg(parsed.error);
            return false;
        }
        if (!parsed.value.isArray()) {
            *error = QStringLiteral("A batch is a JSON array of events, or NDJSON.");
            return false;
        }
        events = parsed.value.takeItems();
        return true;
    }
    qsizetype start = 0;
    int line = 0;
    while (start < body.size()) {
        qsizetype end = body.indexOf('\n', start);
        if (end < 0)
            end = body.size();
        const QByteArrayView piece = QByteArrayView(body).sliced(start, end - start).trimmed();
        ++line;
        if (!piece.isEmpty()) {
            JsonValue::ParseResult parsed = JsonValue::parse(piece);
            if (!parsed.ok) {
                *error = QStringLiteral("Line %1 is not valid JSON: %2").arg(line).arg(parsed.error);
                return false;
            }
            events.push_back(std::move(parsed.value));
            if (events.size() > size_t(MaxBatchEvents))
                return true;
        }
        start = end + 1;
    }
    return true;
}

} // namespace

IngestServer::IngestServer(QString location, GroupCommitWriter *writer, EndpointLimits limits)
    : m_location(std::move(location)), m_writer(writer), m_limits(limits)
{
}

IngestServer::~IngestServer()
{
    if (m_aggregateThread) {
        m_aggregateCancel->store(true); // a running scan stops within a few thousand rows
        m_aggregateThread->quit();
        m_aggregateThread->wait();
        delete m_aggregateThread;
    }
}

void IngestServer::start(const QString &host, quint16 port)
{
    QString error;
    m_reader = Workspace::open(m_location, &error);
    if (!m_reader) {
        emit failed(error);
        return;
    }
    m_organisation = m_reader->organisation();
    reloadCaches();
    m_reloadTimer = new QTimer(this);
    m_reloadTimer->setInterval(2000); // definitions and keys changed elsewhere show up within 2 s
    connect(m_reloadTimer, &QTimer::timeout, this, &IngestServer::reloadCaches);
    m_reloadTimer->start();

    // The writer is woken once per pass of this thread's event loop, just before it
    // waits again, with every job that pass read: one group holds them all, and the
    // writer does not wake (and commit a group of one) for each request.
    connect(QAbstractEventDispatcher::instance(thread()), &QAbstractEventDispatcher::aboutToBlock, this, [this] {
        if (m_wakeWriter) {
            m_wakeWriter = false;
            m_writer->wake();
        }
    });
    m_tcp = new GuardedTcpServer(m_limits, this);
    connect(m_tcp, &GuardedTcpServer::refused, this, [this](int status, const QString &) {
        m_counters.rejectedByStatus[status]++;
    });
    const QHostAddress address = host == QLatin1String("localhost") ? QHostAddress(QHostAddress::LocalHost)
                                                                    : QHostAddress(host);
    if (address.isNull()) {
        emit failed(QStringLiteral("“%1” is not an IP address to listen on.").arg(host));
        return;
    }
    if (!m_tcp->listen(address, port)) {
        emit failed(QStringLiteral("Cannot listen on %1:%2: %3").arg(host).arg(port).arg(m_tcp->errorString()));
        return;
    }
    bind(m_tcp);
    const quint16 bound = m_tcp->serverPort();
    const QString shownHost = address.protocol() == QAbstractSocket::IPv6Protocol
        ? QStringLiteral("[%1]").arg(address.toString())
        : address.toString();
    emit started(QStringLiteral("http://%1:%2").arg(shownHost).arg(bound), bound);
}

void IngestServer::beginShutdown()
{
    m_shuttingDown = true;
    if (m_tcp) {
        m_tcp->setRefuseNewRequests(true);
        m_tcp->pauseAccepting();
    }
}

void IngestServer::postCompletion(std::function<void()> answer)
{
    // Called on the writer thread for every job of a group.
    m_completions.add([&answer](std::vector<std::function<void()>> &answers) { answers.push_back(std::move(answer)); });
}

void IngestServer::flushAll()
{
    if (!m_tcp)
        return;
    for (QTcpSocket *socket : m_tcp->findChildren<QTcpSocket *>()) {
        socket->flush();
        if (socket->bytesToWrite() > 0)
            socket->waitForBytesWritten(1000);
    }
}

bool IngestServer::ensureReader(bool probe)
{
    if (m_reader && probe && m_reader->dialect().kind() != SqlDialect::Kind::SQLite) {
        if (!m_reader->isReachable()) {
            qCWarning(lcServer) << "the read connection is lost; reopening it";
            m_reader.reset();
            m_readerRetry = QDeadlineTimer(0);
            m_readerBackoffMs = 100;
        }
    }
    if (m_reader)
        return true;
    if (m_location.isEmpty() || !m_readerRetry.hasExpired())
        return false;
    QString error;
    m_reader = Workspace::open(m_location, &error);
    if (m_reader) {
        qCInfo(lcServer) << "the read connection is open again";
        m_readerBackoffMs = 100;
        return true;
    }
    m_readerRetry.setRemainingTime(m_readerBackoffMs);
    m_readerBackoffMs = std::min(m_readerBackoffMs * 2, 5000);
    return false;
}

void IngestServer::reloadCaches()
{
    // While the database is unreachable the caches stay as they were: requests keep
    // their definitions and keys, and the writer answers 503 with Retry-After.
    if (m_organisation.isEmpty() || !ensureReader(true)) // not started, or unreachable
        return;
    m_sinceReload.start();
    bool ok = true;
    QList<UsageEventDefinition> loaded = m_reader->definitions(&ok);
    QList<QPair<qint64, QByteArray>> digests = ok ? ApiKeys::liveDigests(*m_reader, &ok) : decltype(digests)();
    if (!ok) {
        ensureReader(true);
        return;
    }
    QHash<QString, UsageEventDefinition> defs;
    for (UsageEventDefinition &d : loaded)
        defs.emplace(d.slug.toLower(), std::move(d)); // insert() would copy: it takes a const reference
    const bool changed = defs.size() != m_definitions.size()
        || std::any_of(defs.cbegin(), defs.cend(), [this](const UsageEventDefinition &d) {
               const auto it = m_definitions.constFind(d.slug.toLower());
               return it == m_definitions.cend() || !(it->schema == d.schema) || it->policy != d.policy;
           });
    m_definitions = std::move(defs);
    if (changed && m_writer)
        m_writer->forgetStatements();
    m_keyDigests = std::move(digests);
    if (!m_keyUse.isEmpty() && m_writer) {
        m_writer->submitKeyUse(m_keyUse);
        m_keyUse.clear();
    }
}

const UsageEventDefinition *IngestServer::definitionFor(const QString &slug)
{
    auto it = m_definitions.constFind(slug.toLower());
    if (it == m_definitions.cend() && m_sinceReload.elapsed() > 250) {
        reloadCaches();
        it = m_definitions.constFind(slug.toLower());
    }
    return it == m_definitions.cend() ? nullptr : &it.value();
}

const UsageEventDefinition *IngestServer::admit(const QHttpServerRequest &request, QTcpSocket *socket,
                                                const QString &slug)
{
    if (m_shuttingDown) {
        reject(request, socket, slug, HttpError::Unavailable, QStringLiteral("The endpoint is shutting down."));
        return nullptr;
    }
    QString detail;
    if (const auto authError = authenticate(&detail)) {
        reject(request, socket, slug, *authError, detail);
        return nullptr;
    }
    const UsageEventDefinition *definition = definitionFor(slug);
    if (!definition)
        reject(request, socket, slug, HttpError::NotFound,
               QStringLiteral("No usage event has the slug “%1”. Define it first (Metering › Usage Events).")
                   .arg(slug.left(100)));
    return definition;
}

std::optional<HttpError> IngestServer::authenticate(QString *detail)
{
    // Every key the request carries: several different ones (a duplicated header, or
    // x-api-key and authorization disagreeing) are refused, never resolved by order.
    QByteArray key;
    bool ambiguous = false;
    for (const auto &[name, value] : std::as_const(m_headers)) {
        QByteArray candidate;
        if (name.compare("x-api-key", Qt::CaseInsensitive) == 0) {
            candidate = value.trimmed();
        } else if (name.compare("authorization", Qt::CaseInsensitive) == 0) {
            const QByteArray auth = value.trimmed();
            candidate = auth.size() > 7 && auth.left(7).compare("bearer ", Qt::CaseInsensitive) == 0
                ? auth.mid(7).trimmed() : QByteArray("\n"); // another scheme: never a key
        } else {
            continue;
        }
        ambiguous = ambiguous || (!key.isEmpty() && candidate != key);
        if (key.isEmpty())
            key = candidate;
    }
    if (ambiguous) {
        *detail = QStringLiteral("The request carries several different API keys; send one.");
        return HttpError::Unauthorized;
    }
    if (key == "\n")
        key.clear();
    if (key.isEmpty()) {
        *detail = QStringLiteral("Send a key as \"authorization: Bearer <key>\" or \"x-api-key: <key>\" "
                                 "(create one under Settings › API keys or with `meterdesk keys create`).");
        return HttpError::Unauthorized;
    }
    auto id = ApiKeys::verify(m_keyDigests, key);
    if (!id && m_sinceReload.elapsed() > 250) {
        reloadCaches();
        id = ApiKeys::verify(m_keyDigests, key);
    }
    if (!id) {
        *detail = QStringLiteral("The API key is not a live key of this workspace (unknown or revoked).");
        return HttpError::Unauthorized;
    }
    m_keyUse.insert(*id, Workspace::nowUs());
    QByteArray org;
    for (const auto &[name, value] : std::as_const(m_headers)) {
        if (name.compare("organisation", Qt::CaseInsensitive) != 0 && name.compare("organization", Qt::CaseInsensitive) != 0)
            continue;
        if (!org.isEmpty() && value.trimmed().compare(org, Qt::CaseInsensitive) != 0) {
            *detail = QStringLiteral("The request names several different organisations.");
            return HttpError::Forbidden;
        }
        org = value.trimmed();
    }
    if (org.isEmpty()) {
        *detail = QStringLiteral("The \"organisation\" header is missing; this workspace's is %1.").arg(m_organisation);
        return HttpError::Forbidden;
    }
    if (QString::fromUtf8(org).compare(m_organisation, Qt::CaseInsensitive) != 0) {
        *detail = QStringLiteral("The \"organisation\" header does not name this workspace.");
        return HttpError::Forbidden;
    }
    return std::nullopt;
}

void IngestServer::send(QHttpServerResponder &r, int status, const QByteArray &body, const QByteArray &contentType,
                        const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    // One write per answer: the responder's piecewise writes would each become a
    // segment of their own.
    QByteArray out;
    out.reserve(body.size() + 192);
    out += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\nContent-Type: " + contentType
        + "\r\n";
    for (const auto &[k, v] : extraHeaders)
        out += k + ": " + v + "\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    deliver(r.socket(), std::move(out));
}

void IngestServer::deliver(QTcpSocket *socket, QByteArray bytes)
{
    auto it = m_answerOrder.find(socket);
    if (it == m_answerOrder.end()) {
        writeNow(socket, bytes);
        return;
    }
    if (m_answerSeq != it->sent) {
        it->waiting.emplace(m_answerSeq, std::move(bytes));
        return;
    }
    writeNow(socket, bytes);
    bool close = it->sent++ == it->closeAfter;
    // Later pipelined requests answered before this one go out now, in order.
    for (auto w = it->waiting.begin(); !close && w != it->waiting.end() && w->first == it->sent; w = it->waiting.erase(w)) {
        writeNow(socket, w->second);
        close = it->sent++ == it->closeAfter;
    }
    if (close)
        socket->disconnectFromHost(); // after what is still buffered has been written
}

void IngestServer::writeNow(QTcpSocket *socket, const QByteArray &out)
{
    // Straight to the kernel when nothing is queued before it: through QTcpSocket's
    // buffer, Qt 6.4 registers and unregisters a write notifier for every answer,
    // and each of those wakes this thread's event loop once more. Whatever the
    // kernel does not take at once goes through QTcpSocket as usual.
    qsizetype sent = 0;
    if (socket->bytesToWrite() == 0 && socket->state() == QAbstractSocket::ConnectedState) {
        const ssize_t n = ::send(int(socket->socketDescriptor()), out.constData(), size_t(out.size()),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            sent = qsizetype(n);
    }
    if (sent < out.size())
        socket->write(out.constData() + sent, out.size() - sent);
}

void IngestServer::sendLater(const Responder &responder, const QPointer<QTcpSocket> &socket, int status,
                             const QByteArray &body, const QByteArray &contentType,
                             const QList<QPair<QByteArray, QByteArray>> &extraHeaders)
{
    // Runs on the server thread after the commit. A client that hung up has taken
    // its socket with it: writing through the responder then would crash Qt 6.4.
    if (!socket)
        return;
    if (m_tcp)
        m_tcp->responsePending(socket, false);
    send(*responder, status, body, contentType, extraHeaders);
}

void IngestServer::deadLetter(const QHttpServerRequest &request, const QString &slug, int status,
                              const QByteArray &problem)
{
    if (!m_writer)
        return;
    DeadLetter letter;
    letter.receivedAtUs = Workspace::nowUs();
    letter.slug = slug;
    letter.status = status;
    letter.problem = problem;
    letter.body = scrubKeys(request.body().left(DeadLetterBodyCap));
    letter.headers = redactedHeaders(m_headers);
    m_writer->submitDeadLetter(std::move(letter));
}

void IngestServer::reject(const QHttpServerRequest &request, QTcpSocket *socket, const QString &slug, HttpError error,
                          const QString &detail, const QList<Problem> &errors, const QByteArray &extra)
{
    const HttpErrorInfo info = httpErrorInfo(error);
    const QByteArray body = problemBody(error, detail, request.url().path(), errors, extra);
    m_counters.rejectedByStatus[info.status]++;
    QList<QPair<QByteArray, QByteArray>> headers;
    if (error == HttpError::TooManyRequests || error == HttpError::Unavailable)
        headers.append(qMakePair(QByteArray("Retry-After"), QByteArray("1")));
    if (error == HttpError::Unauthorized)
        headers.append(qMakePair(QByteArray("WWW-Authenticate"), QByteArray("Bearer")));
    if (error == HttpError::MethodNotAllowed)
        headers.append(qMakePair(QByteArray("Allow"), QByteArray(request.url().path().startsWith(QLatin1String("/usage/")) && !request.url().path().endsWith(QLatin1String("/aggregate")) ? "GET, POST" : "GET")));
    QHttpServerResponder responder = makeResponder(request, socket);
    send(responder, info.status, body, "application/problem+json", headers);
    if (request.url().path().startsWith(QLatin1String("/usage/")))
        deadLetter(request, slug, info.status, body);
}

bool IngestServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    m_counters.requests++;
    if (m_tcp)
        m_tcp->requestDispatched(socket);
    m_headers = request.headers(); // built once: QHttpServerRequest::headers() makes a new list per call
    {
        auto order = m_answerOrder.find(socket);
        if (order == m_answerOrder.end()) {
            order = m_answerOrder.insert(socket, {});
            connect(socket, &QObject::destroyed, this, [this, socket] { m_answerOrder.remove(socket); });
        }
        m_answerSeq = order->issued++;
        if (m_answerSeq > order->closeAfter)
            return true; // pipelined behind "Connection: close": not processed (RFC 9112 §9.6)
        if (connectionClose(header(m_headers, "connection")))
            order->closeAfter = m_answerSeq;
    }
    const QString path = request.url().path();
    const auto method = request.method();
    const QStringList parts = path.split(u'/'); // "", "usage", slug[, "batch"]
    if (parts.size() >= 3 && parts[1] == QLatin1String("usage") && parts.size() <= 4) {
        const QString &slug = parts[2];
        if (parts.size() == 4 && parts[3] == QLatin1String("aggregate")) {
            if (method == QHttpServerRequest::Method::Get)
                aggregate(request, socket, slug);
            else
                reject(request, socket, slug, HttpError::MethodNotAllowed, QStringLiteral("Use GET to read an aggregate."));
            return true;
        }
        const bool batch = parts.size() == 4;
        if (batch && parts[3] != QLatin1String("batch"))
            return false;
        if (method == QHttpServerRequest::Method::Post)
            ingest(request, socket, slug, batch);
        else if (method == QHttpServerRequest::Method::Get && !batch)
            list(request, socket, slug);
        else
            reject(request, socket, slug, HttpError::MethodNotAllowed,
                   batch ? QStringLiteral("Use POST to send a batch.") : QStringLiteral("Use POST to send an event, GET to list events."));
        return true;
    }
    if (path == QLatin1String("/healthz") || path == QLatin1String("/metrics") || path == QLatin1String("/openapi.json")) {
        if (method != QHttpServerRequest::Method::Get && method != QHttpServerRequest::Method::Head) {
            reject(request, socket, {}, HttpError::MethodNotAllowed, QStringLiteral("Use GET."));
            return true;
        }
        if (path == QLatin1String("/healthz"))
            health(socket, request);
        else if (path == QLatin1String("/metrics"))
            metrics(socket, request);
        else
            openApi(socket, request);
        return true;
    }
    return false;
}

void IngestServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    reject(request, socket, {}, HttpError::NotFound,
           QStringLiteral("No route %1. Events go to POST /usage/{slug}.").arg(request.url().path().left(200)));
}

void IngestServer::ingest(const QHttpServerRequest &request, QTcpSocket *socket, const QString &slug, bool batch)
{
    const UsageEventDefinition *found = admit(request, socket, slug);
    if (!found)
        return;
    const UsageEventDefinition definition = *found;
    const QByteArray contentType = header(m_headers, "content-type").toLower();
    if (contentType.startsWith("multipart/"))
        return reject(request, socket, slug, HttpError::UnsupportedMedia,
                      QStringLiteral("Send JSON with Content-Type: application/json."));
    const QByteArray body = request.body();
    const qint64 limit = batch ? m_limits.maxBatchBody : m_limits.maxEventBody;
    if (body.size() > limit)
        return reject(request, socket, slug, HttpError::PayloadTooLarge,
                      QStringLiteral("The body is over the limit of %1 bytes.").arg(limit));

    WriteJob job;
    job.definition = definition;
    job.receivedAtUs = Workspace::nowUs();
    const bool partial = batch && request.query().queryItemValue(QStringLiteral("partial")) == QLatin1String("true");
    QList<int> indexes; // position in the request of each job event
    QList<Problem> problems;
    QByteArray rejectedJson; // partial: [{"index":i,"errors":[...]}]
    int rejectedCount = 0;

    if (!batch) {
        JsonValue::ParseResult parsed = JsonValue::parse(body);
        if (!parsed.ok)
            return reject(request, socket, slug, HttpError::BadRequest,
                          QStringLiteral("The body is not valid JSON: %1").arg(parsed.error));
        Validation v = Validator::validateEvent(definition.schema, parsed.value);
        if (!v.event)
            return reject(request, socket, slug,
                          anyMalformed(v.problems) ? HttpError::BadRequest : HttpError::Unprocessable,
                          QStringLiteral("%1 problem(s) in the event.").arg(v.problems.size()), v.problems);
        job.events.append(std::move(*v.event));
        indexes.append(0);
    } else {
        std::vector<JsonValue> items;
        QString error;
        if (!splitBatch(body, items, &error))
            return reject(request, socket, slug, HttpError::BadRequest, error);
        if (items.size() > size_t(MaxBatchEvents))
            return reject(request, socket, slug, HttpError::PayloadTooLarge,
                          QStringLiteral("A batch holds at most %1 events.").arg(MaxBatchEvents));
        if (items.empty())
            return reject(request, socket, slug, HttpError::BadRequest, QStringLiteral("The batch is empty."));
        job.events.reserve(qsizetype(items.size()));
        bool anyMalformedItem = false;
        const Validator::PreparedSchema prepared = Validator::prepare(definition.schema);
        for (size_t i = 0; i < items.size(); ++i) {
            Validation v = Validator::validateEvent(prepared, items[i], QStringLiteral("/%1").arg(i));
            if (v.event) {
                job.events.append(std::move(*v.event));
                indexes.append(int(i));
                continue;
            }
            anyMalformedItem = anyMalformedItem || anyMalformed(v.problems);
            if (partial) {
                QByteArray one = problemBody(anyMalformed(v.problems) ? HttpError::BadRequest : HttpError::Unprocessable,
                                             QStringLiteral("Event %1 was not stored.").arg(i), {}, v.problems);
                rejectedJson += (rejectedCount++ ? "," : "") + QByteArray("{\"index\":") + QByteArray::number(qulonglong(i))
                    + ",\"problem\":" + one + '}';
            }
            problems += v.problems;
        }
        if (!partial && !problems.isEmpty())
            return reject(request, socket, slug, anyMalformedItem ? HttpError::BadRequest : HttpError::Unprocessable,
                          QStringLiteral("%1 problem(s); nothing was stored (send ?partial=true to store the valid events).")
                              .arg(problems.size()),
                          problems);
        if (partial && !problems.isEmpty())
            deadLetter(request, slug, 422,
                       problemBody(HttpError::Unprocessable, QStringLiteral("Some events of a partial batch were refused."),
                                   request.url().path(), problems));
        if (job.events.isEmpty()) {
            QHttpServerResponder responder = makeResponder(request, socket);
            send(responder, 422, "{\"stored\":0,\"duplicates\":0,\"rejected\":[" + rejectedJson + "]}");
            return;
        }
        job.source = QStringLiteral("batch");
        job.atomic = !partial;
    }

    auto responder = std::make_shared<QHttpServerResponder>(makeResponder(request, socket));
    QPointer<QTcpSocket> guard(socket);
    const QString path = request.url().path();
    const QByteArray requestBody = batch ? QByteArray() : body; // for the dead letter of a 409
    const HeaderList headers = m_headers; // formatted only if a 409 is dead-lettered
    const ValidatedEvent first = job.events.first();
    const quint64 seq = m_answerSeq;
    job.done = [this, seq, responder, guard, batch, partial, indexes, rejectedJson, rejectedCount, path, slug, requestBody,
                headers, first](const QList<StoreResult> &results, const QString &error, bool rolledBack,
                const QString &errorCode) {
        postCompletion([=, this] {
            m_answerSeq = seq; // this request's turn among the connection's answers
            if (!error.isEmpty()) {
                // Nothing of this request was committed: sending it again is safe. A full
                // disk is 507 (the operator must free space), anything else 503.
                const HttpError why = storageFailure(errorCode);
                const int status = httpErrorInfo(why).status;
                m_counters.rejectedByStatus[status]++;
                sendLater(responder, guard, status,
                          problemBody(why, QStringLiteral("The event was not stored: %1").arg(error), path),
                          "application/problem+json", {{"Retry-After", why == HttpError::InsufficientStorage ? "10" : "1"}});
                return;
            }
            int stored = 0, duplicates = 0;
            QList<Problem> conflicts;
            for (qsizetype i = 0; i < results.size(); ++i) {
                const StoreResult &r = results[i];
                if (r.outcome == StoreOutcome::Inserted || r.outcome == StoreOutcome::Overwritten)
                    ++stored;
                else if (r.outcome == StoreOutcome::Duplicate)
                    ++duplicates;
                else if (r.outcome == StoreOutcome::Conflict)
                    conflicts.append({ProblemCode::Duplicate, QStringLiteral("/%1").arg(indexes.value(i)),
                                      QStringLiteral("Row %1 has this customer_id and timestamp with other data.").arg(r.rowId)});
            }
            if (!batch) {
                const StoreResult &r = results.first();
                if (r.outcome == StoreOutcome::Conflict) {
                    m_counters.rejectedByStatus[409]++;
                    const QByteArray problem = problemBody(
                        HttpError::Conflict,
                        QStringLiteral("Row %1 already holds customer_id “%2” at %3 with other data; the usage event's "
                                       "duplicate policy is reject.")
                            .arg(r.rowId).arg(first.customerId, Timestamp::toIso(first.timestampUs)),
                        path, {}, "\"existing_id\":" + QByteArray::number(r.rowId));
                    DeadLetter letter;
                    letter.receivedAtUs = Workspace::nowUs();
                    letter.slug = slug;
                    letter.status = 409;
                    letter.problem = problem;
                    letter.body = scrubKeys(requestBody.left(DeadLetterBodyCap));
                    letter.headers = redactedHeaders(headers);
                    m_writer->submitDeadLetter(std::move(letter));
                    return sendLater(responder, guard, 409, problem, "application/problem+json");
                }
                StoredEvent e;
                e.id = r.rowId;
                e.customerId = first.customerId;
                e.timestampUs = first.timestampUs;
                e.dataJson = first.dataJson;
                e.receivedAtUs = Workspace::nowUs();
                e.source = QStringLiteral("api");
                if (r.outcome == StoreOutcome::Duplicate) {
                    m_counters.duplicates++;
                    return sendLater(responder, guard, 200, e.toJson());
                }
                if (r.outcome == StoreOutcome::Inserted || r.outcome == StoreOutcome::Overwritten) {
                    m_counters.accepted++;
                    return sendLater(responder, guard, 201, e.toJson());
                }
                m_counters.rejectedByStatus[500]++;
                return sendLater(responder, guard, 500,
                                 problemBody(HttpError::Internal, r.error, path), "application/problem+json");
            }
            if (rolledBack) {
                m_counters.rejectedByStatus[409]++;
                return sendLater(responder, guard, 409,
                                 problemBody(HttpError::Conflict,
                                             QStringLiteral("%1 event(s) clash with stored events; nothing was stored.")
                                                 .arg(conflicts.size()),
                                             path, conflicts),
                                 "application/problem+json");
            }
            m_counters.accepted += quint64(stored);
            m_counters.duplicates += quint64(duplicates);
            QByteArray body = "{\"stored\":" + QByteArray::number(stored) + ",\"duplicates\":"
                + QByteArray::number(duplicates) + ",\"conflicts\":[";
            for (qsizetype i = 0; i < conflicts.size(); ++i) {
                body += (i ? "," : "") + QByteArray("{\"pointer\":");
                appendJsonString(body, conflicts[i].pointer.toUtf8());
                body += ",\"detail\":";
                appendJsonString(body, conflicts[i].message.toUtf8());
                body += '}';
            }
            body += "],\"rejected\":[" + rejectedJson + "]}";
            const bool allGood = conflicts.isEmpty() && rejectedCount == 0;
            sendLater(responder, guard, allGood && stored > 0 ? 201 : 200, body);
            Q_UNUSED(partial);
        });
    };
    if (m_tcp)
        m_tcp->responsePending(socket, true);
    if (m_writer->submit(std::move(job), false)) {
        m_wakeWriter = true;
    } else {
        if (m_tcp)
            m_tcp->responsePending(socket, false);
        m_counters.rejectedByStatus[429]++;
        send(*responder, 429,
             problemBody(HttpError::TooManyRequests, QStringLiteral("The write queue is full; retry after a second."), path),
             "application/problem+json", {{"Retry-After", "1"}});
    }
}

void IngestServer::list(const QHttpServerRequest &request, QTcpSocket *socket, const QString &slug)
{
    const UsageEventDefinition *definition = admit(request, socket, slug);
    if (!definition)
        return;
    const QUrlQuery query = request.query();
    EventFilter filter;
    filter.customerId = query.queryItemValue(QStringLiteral("customer_id"), QUrl::FullyDecoded);
    QList<Problem> problems;
    auto readTime = [&](const QString &name) -> std::optional<qint64> {
        const QString text = query.queryItemValue(name, QUrl::FullyDecoded);
        if (text.isEmpty())
            return std::nullopt;
        const Timestamp::Parsed p = Timestamp::fromUserInput(text);
        if (!p.micros)
            problems.append({ProblemCode::BadTimestamp, QStringLiteral("?") + name, p.error});
        return p.micros;
    };
    filter.fromUs = readTime(QStringLiteral("from"));
    filter.toUs = readTime(QStringLiteral("to"));
    bool ok = true;
    const QString limitText = query.queryItemValue(QStringLiteral("limit"));
    filter.limit = limitText.isEmpty() ? 100 : limitText.toInt(&ok);
    if (!ok || filter.limit < 1 || filter.limit > 1000)
        problems.append({ProblemCode::OutOfRange, QStringLiteral("?limit"), QStringLiteral("limit is 1 to 1000.")});
    const QString cursor = query.queryItemValue(QStringLiteral("cursor"));
    if (!cursor.isEmpty()) {
        const QList<QByteArray> pieces = QByteArray::fromBase64(cursor.toLatin1(), QByteArray::Base64UrlEncoding).split(':');
        bool a = false, b = false;
        if (pieces.size() == 2)
            filter.before = QPair<qint64, qint64>(pieces[0].toLongLong(&a), pieces[1].toLongLong(&b));
        if (!a || !b)
            problems.append({ProblemCode::TypeMismatch, QStringLiteral("?cursor"), QStringLiteral("The cursor is not one this endpoint gave.")});
    }
    if (!problems.isEmpty())
        return reject(request, socket, slug, HttpError::BadRequest, QStringLiteral("Bad query parameters."), problems);
    if (!ensureReader(false))
        return reject(request, socket, slug, HttpError::Unavailable,
                      QStringLiteral("The database is unreachable; reconnecting."));
    QString error;
    const QList<StoredEvent> rows = EventStore::list(*m_reader, *definition, filter, &error);
    if (!error.isEmpty()) {
        ensureReader(true); // a lost connection is reopened for the next request
        return reject(request, socket, slug, HttpError::Unavailable, error);
    }
    QByteArray body = "{\"data\":[";
    for (qsizetype i = 0; i < rows.size(); ++i) {
        if (i)
            body += ',';
        body += rows[i].toJson();
    }
    body += "],\"next_cursor\":";
    if (rows.size() == filter.limit) {
        const QByteArray c = QByteArray::number(rows.last().timestampUs) + ':' + QByteArray::number(rows.last().id);
        body += '"' + c.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals) + '"';
    } else {
        body += "null";
    }
    body += '}';
    QHttpServerResponder responder = makeResponder(request, socket);
    send(responder, 200, body);
}

void IngestServer::health(QTcpSocket *socket, const QHttpServerRequest &request)
{
    QHttpServerResponder responder = makeResponder(request, socket);
    if (m_shuttingDown)
        return send(responder, 503, "{\"status\":\"shutting_down\"}", "application/json", {{"Retry-After", "1"}});
    if (!m_writer->databaseReachable())
        return send(responder, 503, "{\"status\":\"database_unreachable\"}", "application/json", {{"Retry-After", "1"}});
    send(responder, 200, "{\"status\":\"ok\",\"queue_depth\":" + QByteArray::number(m_writer->stats().queueDepth) + '}');
}

void IngestServer::metrics(QTcpSocket *socket, const QHttpServerRequest &request)
{
    const WriterStats s = m_writer->stats();
    QByteArray out;
    out += "# HELP meterdesk_events_accepted_total Events stored (201).\n# TYPE meterdesk_events_accepted_total counter\n";
    out += "meterdesk_events_accepted_total " + QByteArray::number(m_counters.accepted.load()) + '\n';
    out += "# HELP meterdesk_events_duplicate_total Exact duplicates answered 200, not stored twice.\n"
           "# TYPE meterdesk_events_duplicate_total counter\n";
    out += "meterdesk_events_duplicate_total " + QByteArray::number(m_counters.duplicates.load()) + '\n';
    out += "# HELP meterdesk_requests_rejected_total Requests answered with an error, by status.\n"
           "# TYPE meterdesk_requests_rejected_total counter\n";
    for (int status = 400; status < 600; ++status)
        if (const quint64 n = m_counters.rejectedByStatus[status].load())
            out += "meterdesk_requests_rejected_total{status=\"" + QByteArray::number(status) + "\"} "
                + QByteArray::number(n) + '\n';
    out += "# HELP meterdesk_queue_depth Events waiting for the writer.\n# TYPE meterdesk_queue_depth gauge\n";
    out += "meterdesk_queue_depth " + QByteArray::number(s.queueDepth) + '\n';
    out += "# HELP meterdesk_commit_seconds Group commit latency.\n# TYPE meterdesk_commit_seconds histogram\n";
    for (qsizetype i = 0; i < s.bucketBounds.size(); ++i)
        out += "meterdesk_commit_seconds_bucket{le=\"" + QByteArray::number(s.bucketBounds[i]) + "\"} "
            + QByteArray::number(s.bucketCounts[i]) + '\n';
    out += "meterdesk_commit_seconds_bucket{le=\"+Inf\"} " + QByteArray::number(s.latencyCount) + '\n';
    out += "meterdesk_commit_seconds_sum " + QByteArray::number(s.latencySum, 'f', 6) + '\n';
    out += "meterdesk_commit_seconds_count " + QByteArray::number(s.latencyCount) + '\n';
    out += "# HELP meterdesk_open_connections Open HTTP connections.\n# TYPE meterdesk_open_connections gauge\n";
    out += "meterdesk_open_connections " + QByteArray::number(m_tcp ? m_tcp->openConnections() : 0) + '\n';
    QHttpServerResponder responder = makeResponder(request, socket);
    send(responder, 200, out, "text/plain; version=0.0.4");
}

void IngestServer::openApi(QTcpSocket *socket, const QHttpServerRequest &request)
{
    if (m_sinceReload.elapsed() > 250)
        reloadCaches();
    QList<UsageEventDefinition> defs = m_definitions.values();
    std::sort(defs.begin(), defs.end(), [](const auto &a, const auto &b) { return a.slug < b.slug; });
    QHttpServerResponder responder = makeResponder(request, socket);
    send(responder, 200, OpenApi::document(defs));
}

namespace {

// The answer of GET /usage/{slug}/aggregate (docs/METERS.md), built on the aggregate thread.
QByteArray aggregateJson(const Aggregate::Query &q, const QString &zoneId, const Aggregate::Result &r)
{
    const bool numeric = Aggregate::isNumeric(q.definition, q.field, q.function);
    const SchemaField *field = q.field.isEmpty() ? nullptr : q.definition.schema.field(q.field);
    const bool boolean = field && field->type == FieldType::Boolean && q.function == Aggregate::Function::Latest;
    const bool utc = q.zone.id() == "UTC" || q.zone.id() == "Etc/UTC";
    auto local = [&](qint64 us) {
        // Window starts are whole seconds: ISO-8601 with the zone's offset ("Z" in UTC).
        if (utc)
            return QDateTime::fromMSecsSinceEpoch(us / 1000, Qt::UTC).toString(Qt::ISODate).toLatin1();
        return QDateTime::fromMSecsSinceEpoch(us / 1000, q.zone).toString(Qt::ISODate).toLatin1();
    };
    QByteArray out;
    out.reserve(256 + r.windowStarts.size() * 28 + r.cells.size() * 96);
    out += "{\"slug\":";
    appendJsonString(out, q.definition.slug.toUtf8());
    out += ",\"field\":";
    appendJsonString(out, q.field.toUtf8());
    out += ",\"fn\":\"" + Aggregate::functionName(q.function).toLatin1() + "\",\"window\":\""
        + Aggregate::windowName(q.window).toLatin1() + "\",\"tz\":";
    appendJsonString(out, zoneId.toUtf8());
    out += ",\"from\":\"" + Timestamp::toIso(q.fromUs).toLatin1() + "\",\"to\":\"" + Timestamp::toIso(q.toUs).toLatin1()
        + "\",\"windows\":[";
    for (qsizetype i = 0; i < r.windowStarts.size(); ++i)
        out += (i ? ",\"" : "\"") + local(r.windowStarts[i]) + '"';
    out += "],\"customers\":[";
    for (qsizetype i = 0; i < r.customers.size(); ++i) {
        if (i)
            out += ',';
        appendJsonString(out, r.customers[i].toUtf8());
    }
    out += "],\"results\":[";
    for (qsizetype i = 0; i < r.cells.size(); ++i) {
        const Aggregate::Cell &c = r.cells[i];
        out += i ? ",{\"customer_id\":" : "{\"customer_id\":";
        appendJsonString(out, c.customerId.toUtf8());
        out += ",\"window_start\":\"" + local(c.windowStartUs) + "\",\"value\":";
        if (!numeric && !boolean)
            appendJsonString(out, c.value.toUtf8());
        else if (boolean || std::isfinite(c.number))
            out += c.value.toLatin1(); // exact: the value's own digits as the JSON number token, or true/false
        else
            out += "null"; // a float sum past the double range
        out += ",\"rows\":" + QByteArray::number(c.rows) + '}';
    }
    out += "],\"rows_scanned\":" + QByteArray::number(r.rowsScanned) + '}';
    return out;
}

// The thread's own workspace: opened there on first use, closed there at the end.
class AggregateContext : public QObject
{
public:
    std::unique_ptr<Workspace> workspace;
};

} // namespace

void IngestServer::aggregate(const QHttpServerRequest &request, QTcpSocket *socket, const QString &slug)
{
    const UsageEventDefinition *definition = admit(request, socket, slug);
    if (!definition)
        return;
    const QUrlQuery url = request.query();
    auto param = [&url](const char *name) { return url.queryItemValue(QLatin1String(name), QUrl::FullyDecoded); };
    QList<Problem> problems;
    Aggregate::Query q;
    q.definition = *definition;
    q.field = param("field").trimmed();
    const QString fnText = param("fn");
    const auto fn = fnText.isEmpty() ? std::optional(Aggregate::Function::Sum) : Aggregate::functionFromName(fnText);
    if (!fn)
        problems.append({ProblemCode::OutOfRange, QStringLiteral("?fn"),
                         QStringLiteral("fn is one of sum, count, min, max, avg, unique_count, latest.")});
    const QString windowText = param("window");
    const auto window = windowText.isEmpty() ? std::optional(Aggregate::Window::Day) : Aggregate::windowFromName(windowText);
    if (!window)
        problems.append({ProblemCode::OutOfRange, QStringLiteral("?window"), QStringLiteral("window is hour, day or month.")});
    QString zoneId = param("tz").trimmed();
    if (zoneId.isEmpty())
        zoneId = QStringLiteral("UTC");
    if (QTimeZone::isTimeZoneIdAvailable(zoneId.toUtf8()))
        q.zone = QTimeZone(zoneId.toUtf8());
    else
        problems.append({ProblemCode::OutOfRange, QStringLiteral("?tz"),
                         QStringLiteral("tz is an IANA time zone such as Europe/Berlin or UTC.")});
    auto readTime = [&](const char *name) -> std::optional<qint64> {
        const QString text = param(name);
        const QString pointer = QStringLiteral("?") + QLatin1String(name);
        if (text.isEmpty()) {
            problems.append({ProblemCode::MissingField, pointer, QStringLiteral("%1 is required.").arg(QLatin1String(name))});
            return std::nullopt;
        }
        const Timestamp::Parsed p = Timestamp::fromUserInput(text);
        if (!p.micros)
            problems.append({ProblemCode::BadTimestamp, pointer, p.error});
        return p.micros;
    };
    const auto from = readTime("from");
    const auto to = readTime("to");
    if (from && to && *from >= *to)
        problems.append({ProblemCode::OutOfRange, QStringLiteral("?to"), QStringLiteral("to must be later than from.")});
    if (fn) {
        QString why;
        if (!Aggregate::accepts(*definition, q.field, *fn, &why))
            problems.append({q.field.isEmpty() ? ProblemCode::MissingField : ProblemCode::InvalidName,
                             QStringLiteral("?field"), why});
    }
    for (const QString &c : url.allQueryItemValues(QStringLiteral("customer_id"), QUrl::FullyDecoded)) {
        if (c.isEmpty())
            problems.append({ProblemCode::MissingField, QStringLiteral("?customer_id"), QStringLiteral("customer_id is empty.")});
        else
            q.customers.append(c);
    }
    const QString topText = param("top");
    if (!topText.isEmpty()) {
        bool ok = false;
        q.topN = topText.toInt(&ok);
        if (!ok || q.topN < 1)
            problems.append({ProblemCode::OutOfRange, QStringLiteral("?top"), QStringLiteral("top is a positive whole number.")});
    }
    if (!problems.isEmpty())
        return reject(request, socket, slug, HttpError::BadRequest, QStringLiteral("Bad query parameters."), problems);
    q.function = *fn;
    q.window = *window;
    q.fromUs = *from;
    q.toUs = *to;
    // Aggregates queue on one thread; a client that asks for more waits its turn elsewhere.
    if (m_aggregatesPending >= 8)
        return reject(request, socket, slug, HttpError::TooManyRequests,
                      QStringLiteral("Too many aggregates are running; retry in a second."));

    if (!m_aggregateThread) {
        m_aggregateThread = new QThread;
        m_aggregateThread->setObjectName(QStringLiteral("aggregate"));
        m_aggregateContext = new AggregateContext;
        m_aggregateContext->moveToThread(m_aggregateThread);
        connect(m_aggregateThread, &QThread::finished, m_aggregateContext, &QObject::deleteLater);
        m_aggregateThread->start(QThread::LowPriority);
    }
    ++m_aggregatesPending;
    if (m_tcp)
        m_tcp->responsePending(socket, true);
    auto responder = std::make_shared<QHttpServerResponder>(makeResponder(request, socket));
    QPointer<QTcpSocket> guard(socket);
    const QString path = request.url().path();
    const quint64 seq = m_answerSeq;
    auto *context = static_cast<AggregateContext *>(m_aggregateContext);
    const std::shared_ptr<std::atomic_bool> cancel = m_aggregateCancel;
    QMetaObject::invokeMethod(
        context,
        [this, context, cancel, q, zoneId, responder = std::move(responder), guard, path, seq]() mutable {
            // On the aggregate thread: the scan and the answer's JSON; only the write
            // goes back to the server thread.
            int status = 200;
            QByteArray body;
            QString error;
            if (!context->workspace)
                context->workspace = Workspace::open(m_location, &error);
            if (context->workspace) {
                bool refused = false;
                const std::optional<Aggregate::Result> r = Aggregate::run(*context->workspace, q, &error, cancel.get(), &refused);
                if (r) {
                    body = aggregateJson(q, zoneId, *r);
                } else if (refused) {
                    status = 400;
                    body = problemBody(HttpError::BadRequest, error, path,
                                       {{ProblemCode::OutOfRange, QStringLiteral("?window"), error}});
                } else {
                    context->workspace.reset(); // reopened for the next one (a lost server connection)
                }
            }
            if (status == 200 && body.isEmpty()) {
                status = 503;
                body = problemBody(HttpError::Unavailable, QStringLiteral("The aggregate failed: %1").arg(error), path);
            }
            postCompletion([this, status, body = std::move(body), responder = std::move(responder), guard, seq] {
                --m_aggregatesPending;
                m_answerSeq = seq; // this request's turn among the connection's answers
                if (status != 200)
                    m_counters.rejectedByStatus[status]++;
                sendLater(responder, guard, status, body,
                          status == 200 ? QByteArrayLiteral("application/json") : QByteArrayLiteral("application/problem+json"),
                          status == 503 ? QList<QPair<QByteArray, QByteArray>>{{"Retry-After", "1"}}
                                        : QList<QPair<QByteArray, QByteArray>>{});
            });
        },
        Qt::QueuedConnection);
}

} // namespace meterdesk
