// GET /usage/{slug}/aggregate (docs/METERS.md): validated on the calling thread, scanned
// on the aggregate thread with a workspace of its own.
#include "ingestserver.h"

#include "aggregate.h"
#include "httpproblem.h"
#include "jsonvalue.h"
#include "timestamp.h"
#include "workspace.h"

#include <QThread>
#include <QTimeZone>

#include <cmath>

namespace meterdesk {

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

void IngestServer::aggregate(const IncomingRequest &request, const Reply &reply, const UsageEventDefinition &def,
                             const QString &slug)
{
    const UsageEventDefinition *definition = &def;
    const QUrlQuery &url = request.query;
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
        return reject(request, reply, slug, HttpError::BadRequest, QStringLiteral("Bad query parameters."), problems);
    q.function = *fn;
    q.window = *window;
    q.fromUs = *from;
    q.toUs = *to;
    // Aggregates queue on one thread; a client that asks for more waits its turn elsewhere.
    if (m_aggregatesPending.load() >= 8)
        return reject(request, reply, slug, HttpError::TooManyRequests,
                      QStringLiteral("Too many aggregates are running; retry in a second."));

    QMutexLocker lock(&m_aggregateMutex);
    if (!m_aggregateThread) {
        m_aggregateThread = new QThread;
        m_aggregateThread->setObjectName(QStringLiteral("aggregate"));
        m_aggregateContext = new AggregateContext;
        m_aggregateContext->moveToThread(m_aggregateThread);
        connect(m_aggregateThread, &QThread::finished, m_aggregateContext, &QObject::deleteLater);
        m_aggregateThread->start(QThread::LowPriority);
    }
    ++m_aggregatesPending;
    const QString path = request.path;
    auto *context = static_cast<AggregateContext *>(m_aggregateContext);
    lock.unlock();
    const std::shared_ptr<std::atomic_bool> cancel = m_aggregateCancel;
    QMetaObject::invokeMethod(
        context,
        [this, context, cancel, q, zoneId, reply, path]() mutable {
            // On the aggregate thread: the scan and the answer's JSON; the write goes
            // out on the connection's I/O thread.
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
            --m_aggregatesPending;
            if (status != 200)
                m_counters.rejectedByStatus[status]++;
            reply.send(status, body,
                       status == 200 ? QByteArrayLiteral("application/json") : QByteArrayLiteral("application/problem+json"),
                       status == 503 ? HeaderList{{"Retry-After", "1"}} : HeaderList{});
        },
        Qt::QueuedConnection);
}

} // namespace meterdesk
