#include "ingestserver.h"

#include "apikeys.h"
#include "groupcommitwriter.h"
#include "httpproblem.h"
#include "ingestserver_p.h"
#include "jsonvalue.h"
#include "openapi.h"
#include "timestamp.h"
#include "workspace.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QThread>
#include <QTimer>

#include <cctype>
#include <chrono>

Q_LOGGING_CATEGORY(lcServer, "meterdesk.server")

namespace meterdesk {

namespace ingest {

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

namespace {

bool secretHeader(const QByteArray &name)
{
    const QByteArray lower = name.toLower();
    return lower == "cookie" || lower.contains("auth") || lower.contains("key") || lower.contains("token")
        || lower.contains("secret") || lower.contains("password");
}

} // namespace

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


} // namespace ingest

using namespace ingest;

namespace {

qint64 monotonicMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace

IngestServer::IngestServer(QString location, GroupCommitWriter *writer, EndpointLimits limits)
    : m_location(std::move(location)), m_writer(writer), m_limits(std::move(limits))
{
}

IngestServer::~IngestServer()
{
    stopEngine();
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
    reloadCaches();
    m_reloadTimer = new QTimer(this);
    m_reloadTimer->setInterval(2000); // definitions and keys changed elsewhere show up within 2 s
    connect(m_reloadTimer, &QTimer::timeout, this, &IngestServer::reloadCaches);
    m_reloadTimer->start();

    // The body limit follows the parsed path: /usage/{slug}/batch may carry 16 MiB, every
    // other route 1 MiB ("POST /usage/x?a=/batch" is a single event).
    const qint64 eventLimit = m_limits.maxEventBody, batchLimit = m_limits.maxBatchBody;
    auto bodyLimit = [eventLimit, batchLimit](const QString &path) {
        const QStringList parts = path.split(u'/');
        return parts.size() == 4 && parts[1] == QLatin1String("usage") && parts[3] == QLatin1String("batch") ? batchLimit
                                                                                                                 : eventLimit;
    };
    m_engine = std::make_unique<HttpEngine>(
        m_limits, [this](IncomingRequest &&request, Reply reply) { handle(std::move(request), std::move(reply)); },
        bodyLimit);
    m_engine->refused = [this](int status) { m_counters.rejectedByStatus[status]++; };
    if (!m_engine->listen(host, port, &error)) {
        m_engine.reset();
        emit failed(error);
        return;
    }
    const quint16 bound = m_engine->port();
    const QString shownHost = host.contains(u':') ? QStringLiteral("[%1]").arg(host)
        : host == QLatin1String("localhost")      ? QStringLiteral("127.0.0.1")
                                                  : host;
    emit started(QStringLiteral("%1://%2:%3").arg(m_engine->tls() ? QStringLiteral("https") : QStringLiteral("http"), shownHost)
                     .arg(bound),
                 bound);
}

void IngestServer::beginShutdown()
{
    m_shuttingDown.store(true);
    if (m_engine)
        m_engine->refuseNewConnections();
}

void IngestServer::stopEngine()
{
    if (m_engine)
        m_engine->stop(2000);
    m_engine.reset();
}

std::shared_ptr<const IngestServer::Snapshot> IngestServer::snapshot() const
{
    const QMutexLocker lock(&m_snapshotMutex);
    return m_snapshot;
}

bool IngestServer::stale() const
{
    return monotonicMs() - m_reloadedAtMs.load(std::memory_order_relaxed) > 250;
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
    // On the "http" thread. While the database is unreachable the snapshot stays as it
    // was: requests keep their definitions and keys, and the writer answers 503.
    if (!ensureReader(true))
        return;
    m_reloadedAtMs.store(monotonicMs());
    bool ok = true;
    QList<UsageEventDefinition> loaded = m_reader->definitions(&ok);
    QList<QPair<qint64, QByteArray>> digests = ok ? ApiKeys::liveDigests(*m_reader, &ok) : decltype(digests)();
    if (!ok) {
        ensureReader(true);
        return;
    }
    auto next = std::make_shared<Snapshot>();
    next->organisation = m_reader->organisation();
    for (UsageEventDefinition &d : loaded)
        next->definitions.emplace(d.slug.toLower(), std::move(d)); // insert() would copy: it takes a const reference
    // Prepared once per definition, against the snapshot's own copy (it points into it;
    // the snapshot is never changed after this).
    for (auto it = next->definitions.cbegin(); it != next->definitions.cend(); ++it)
        next->prepared.emplace(it.key(), Validator::prepare(it->schema));
    next->keyDigests = std::move(digests);
    const std::shared_ptr<const Snapshot> previous = snapshot();
    const bool changed = next->definitions.size() != previous->definitions.size()
        || std::any_of(next->definitions.cbegin(), next->definitions.cend(), [&previous](const UsageEventDefinition &d) {
               const auto it = previous->definitions.constFind(d.slug.toLower());
               return it == previous->definitions.cend() || !(it->schema == d.schema) || it->policy != d.policy;
           });
    {
        const QMutexLocker lock(&m_snapshotMutex);
        m_snapshot = std::move(next);
    }
    if (changed && m_writer)
        m_writer->forgetStatements();
    QHash<qint64, qint64> keyUse;
    {
        const QMutexLocker lock(&m_keyUseMutex);
        keyUse.swap(m_keyUse);
    }
    if (!keyUse.isEmpty() && m_writer)
        m_writer->submitKeyUse(keyUse);
}

void IngestServer::retryAfterReload(IncomingRequest &&request, Reply reply)
{
    // Rare (a slug or key created a moment ago): the "http" thread reloads, then the
    // request is handled again, there.
    QMetaObject::invokeMethod(
        this,
        [this, request = std::move(request), reply = std::move(reply)]() mutable {
            reloadCaches();
            handle(std::move(request), std::move(reply), true);
        },
        Qt::QueuedConnection);
}

IngestServer::Admission IngestServer::admit(const IncomingRequest &request, const Reply &reply, const Snapshot &caches,
                                            const QString &slug, bool reloaded, const UsageEventDefinition **definition)
{
    if (m_shuttingDown.load()) {
        reject(request, reply, slug, HttpError::Unavailable, QStringLiteral("The endpoint is shutting down."));
        return Admission::Refused;
    }
    QString detail;
    bool unknownKey = false;
    if (const auto authError = authenticate(request, caches, &detail, &unknownKey)) {
        if (unknownKey && !reloaded && stale())
            return Admission::Retry;
        reject(request, reply, slug, *authError, detail);
        return Admission::Refused;
    }
    const auto it = caches.definitions.constFind(slug.toLower());
    if (it == caches.definitions.cend()) {
        if (!reloaded && stale())
            return Admission::Retry;
        reject(request, reply, slug, HttpError::NotFound,
               QStringLiteral("No usage event has the slug “%1”. Define it first (Metering › Usage Events).")
                   .arg(slug.left(100)));
        return Admission::Refused;
    }
    *definition = &it.value();
    return Admission::Admitted;
}

std::optional<HttpError> IngestServer::authenticate(const IncomingRequest &request, const Snapshot &caches,
                                                    QString *detail, bool *unknownKey)
{
    // Every key the request carries: several different ones (a duplicated header, or
    // x-api-key and authorization disagreeing) are refused, never resolved by order.
    QByteArray key;
    bool ambiguous = false;
    for (const auto &[name, value] : request.headers) {
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
    const auto id = ApiKeys::verify(caches.keyDigests, key);
    if (!id) {
        *unknownKey = true;
        *detail = QStringLiteral("The API key is not a live key of this workspace (unknown or revoked).");
        return HttpError::Unauthorized;
    }
    {
        const QMutexLocker lock(&m_keyUseMutex);
        m_keyUse.insert(*id, Workspace::nowUs());
    }
    QByteArray org;
    for (const auto &[name, value] : request.headers) {
        if (name.compare("organisation", Qt::CaseInsensitive) != 0 && name.compare("organization", Qt::CaseInsensitive) != 0)
            continue;
        if (!org.isEmpty() && value.trimmed().compare(org, Qt::CaseInsensitive) != 0) {
            *detail = QStringLiteral("The request names several different organisations.");
            return HttpError::Forbidden;
        }
        org = value.trimmed();
    }
    if (org.isEmpty()) {
        *detail = QStringLiteral("The \"organisation\" header is missing; this workspace's is %1.").arg(caches.organisation);
        return HttpError::Forbidden;
    }
    if (QString::fromUtf8(org).compare(caches.organisation, Qt::CaseInsensitive) != 0) {
        *detail = QStringLiteral("The \"organisation\" header does not name this workspace.");
        return HttpError::Forbidden;
    }
    return std::nullopt;
}

void IngestServer::deadLetter(const IncomingRequest &request, const QString &slug, int status, const QByteArray &problem)
{
    if (!m_writer)
        return;
    DeadLetter letter;
    letter.receivedAtUs = Workspace::nowUs();
    letter.slug = slug;
    letter.status = status;
    letter.problem = problem;
    letter.body = scrubKeys(request.body.left(DeadLetterBodyCap));
    letter.headers = redactedHeaders(request.headers);
    m_writer->submitDeadLetter(std::move(letter));
}

void IngestServer::reject(const IncomingRequest &request, const Reply &reply, const QString &slug, HttpError error,
                          const QString &detail, const QList<Problem> &errors, const QByteArray &extra)
{
    const HttpErrorInfo info = httpErrorInfo(error);
    const QByteArray body = problemBody(error, detail, request.path, errors, extra);
    m_counters.rejectedByStatus[info.status]++;
    HeaderList headers;
    if (error == HttpError::TooManyRequests || error == HttpError::Unavailable)
        headers.append(qMakePair(QByteArray("Retry-After"), QByteArray("1")));
    if (error == HttpError::Unauthorized)
        headers.append(qMakePair(QByteArray("WWW-Authenticate"), QByteArray("Bearer")));
    if (error == HttpError::MethodNotAllowed)
        headers.append(qMakePair(QByteArray("Allow"),
                                 QByteArray(request.path.startsWith(QLatin1String("/usage/"))
                                                    && !request.path.endsWith(QLatin1String("/aggregate"))
                                                ? "GET, POST"
                                                : "GET")));
    reply.send(info.status, body, "application/problem+json", headers);
    if (request.path.startsWith(QLatin1String("/usage/")))
        deadLetter(request, slug, info.status, body);
}

void IngestServer::handle(IncomingRequest &&request, Reply reply, bool reloaded)
{
    if (!reloaded)
        m_counters.requests++;
    const QString &path = request.path;
    const QByteArray &method = request.method;
    const bool get = method == "GET" || method == "HEAD";
    const QStringList parts = path.split(u'/'); // "", "usage", slug[, "batch" | "aggregate"]
    if (parts.size() >= 3 && parts.size() <= 4 && parts[0].isEmpty() && parts[1] == QLatin1String("usage")) {
        const QString &slug = parts[2];
        const bool aggregateRoute = parts.size() == 4 && parts[3] == QLatin1String("aggregate");
        const bool batch = parts.size() == 4 && parts[3] == QLatin1String("batch");
        if (parts.size() == 4 && !aggregateRoute && !batch)
            return reject(request, reply, {}, HttpError::NotFound,
                          QStringLiteral("No route %1. Events go to POST /usage/{slug}.").arg(path.left(200)));
        if (aggregateRoute && method != "GET")
            return reject(request, reply, slug, HttpError::MethodNotAllowed, QStringLiteral("Use GET to read an aggregate."));
        if (!aggregateRoute && method != "POST" && !(method == "GET" && !batch))
            return reject(request, reply, slug, HttpError::MethodNotAllowed,
                          batch ? QStringLiteral("Use POST to send a batch.")
                                : QStringLiteral("Use POST to send an event, GET to list events."));
        const std::shared_ptr<const Snapshot> caches = snapshot();
        const UsageEventDefinition *definition = nullptr;
        switch (admit(request, reply, *caches, slug, reloaded, &definition)) {
        case Admission::Refused:
            return;
        case Admission::Retry:
            return retryAfterReload(std::move(request), std::move(reply));
        case Admission::Admitted:
            break;
        }
        if (aggregateRoute)
            return aggregate(request, reply, *definition, slug);
        if (method == "POST")
            return ingest(request, reply, *caches, *definition, slug, batch);
        // A list reads the database: on the "http" thread, which owns the read connection.
        QMetaObject::invokeMethod(
            this, [this, request = std::move(request), reply = std::move(reply), slug] { list(request, reply, slug); },
            Qt::QueuedConnection);
        return;
    }
    if (path == QLatin1String("/healthz") || path == QLatin1String("/metrics") || path == QLatin1String("/openapi.json")) {
        if (!get)
            return reject(request, reply, {}, HttpError::MethodNotAllowed, QStringLiteral("Use GET."));
        if (path == QLatin1String("/healthz"))
            return health(reply);
        if (path == QLatin1String("/metrics"))
            return metrics(reply);
        QMetaObject::invokeMethod(this, [this, reply = std::move(reply)] { openApi(reply); }, Qt::QueuedConnection);
        return;
    }
    reject(request, reply, {}, HttpError::NotFound,
           QStringLiteral("No route %1. Events go to POST /usage/{slug}.").arg(path.left(200)));
}

void IngestServer::wakeWriter()
{
    // The writer is woken once per pass of this I/O thread's event loop, after every
    // request that pass read was handed over: one group holds them all, and the writer
    // does not wake (and commit a group of one) for each request.
    GroupCommitWriter *writer = m_writer;
    if (!HttpEngine::deferToEndOfPass([writer] { writer->wake(); }))
        writer->wake();
}

void IngestServer::health(const Reply &reply)
{
    if (m_shuttingDown.load())
        return reply.send(503, "{\"status\":\"shutting_down\"}", "application/json", {{"Retry-After", "1"}});
    if (!m_writer->databaseReachable())
        return reply.send(503, "{\"status\":\"database_unreachable\"}", "application/json", {{"Retry-After", "1"}});
    reply.send(200, "{\"status\":\"ok\",\"queue_depth\":" + QByteArray::number(m_writer->stats().queueDepth) + '}');
}

void IngestServer::metrics(const Reply &reply)
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
    out += "meterdesk_open_connections " + QByteArray::number(m_engine ? m_engine->openConnections() : 0) + '\n';
    out += "# HELP meterdesk_io_threads HTTP I/O threads.\n# TYPE meterdesk_io_threads gauge\n";
    out += "meterdesk_io_threads " + QByteArray::number(m_engine ? m_engine->ioThreads() : 0) + '\n';
    reply.send(200, out, "text/plain; version=0.0.4");
}

void IngestServer::openApi(const Reply &reply)
{
    if (stale())
        reloadCaches();
    const std::shared_ptr<const Snapshot> caches = snapshot();
    QList<UsageEventDefinition> defs = caches->definitions.values();
    std::sort(defs.begin(), defs.end(), [](const auto &a, const auto &b) { return a.slug < b.slug; });
    reply.send(200, OpenApi::document(defs));
}

} // namespace meterdesk
