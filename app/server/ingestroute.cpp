// POST /usage/{slug} and /usage/{slug}/batch (on the I/O thread that read the request),
// GET /usage/{slug} (on the "http" thread, which owns the read connection).
#include "ingestserver.h"

#include "eventstore.h"
#include "groupcommitwriter.h"
#include "httpproblem.h"
#include "ingestserver_p.h"
#include "jsonvalue.h"
#include "timestamp.h"
#include "workspace.h"

namespace meterdesk {

using namespace ingest;

namespace {

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

void IngestServer::ingest(const IncomingRequest &request, const Reply &reply, const Snapshot &caches,
                          const UsageEventDefinition &definition, const QString &slug, bool batch)
{
    const QByteArray contentType = request.header("content-type").toLower();
    if (contentType.startsWith("multipart/"))
        return reject(request, reply, slug, HttpError::UnsupportedMedia,
                      QStringLiteral("Send JSON with Content-Type: application/json."));
    const QByteArray &body = request.body;
    const qint64 limit = batch ? m_limits.maxBatchBody : m_limits.maxEventBody;
    if (body.size() > limit)
        return reject(request, reply, slug, HttpError::PayloadTooLarge,
                      QStringLiteral("The body is over the limit of %1 bytes.").arg(limit));

    WriteJob job;
    job.definition = definition;
    job.receivedAtUs = Workspace::nowUs();
    const bool partial = batch && request.query.queryItemValue(QStringLiteral("partial")) == QLatin1String("true");
    const Validator::PreparedSchema &prepared = caches.prepared[slug.toLower()]; // made with the snapshot
    QList<int> indexes; // position in the request of each job event
    QList<Problem> problems;
    QByteArray rejectedJson; // partial: [{"index":i,"errors":[...]}]
    int rejectedCount = 0;

    if (!batch) {
        JsonValue::ParseResult parsed = JsonValue::parse(body);
        if (!parsed.ok)
            return reject(request, reply, slug, HttpError::BadRequest,
                          QStringLiteral("The body is not valid JSON: %1").arg(parsed.error));
        Validation v = Validator::validateEvent(prepared, parsed.value);
        if (!v.event)
            return reject(request, reply, slug,
                          anyMalformed(v.problems) ? HttpError::BadRequest : HttpError::Unprocessable,
                          QStringLiteral("%1 problem(s) in the event.").arg(v.problems.size()), v.problems);
        job.events.append(std::move(*v.event));
        indexes.append(0);
    } else {
        std::vector<JsonValue> items;
        QString error;
        if (!splitBatch(body, items, &error))
            return reject(request, reply, slug, HttpError::BadRequest, error);
        if (items.size() > size_t(MaxBatchEvents))
            return reject(request, reply, slug, HttpError::PayloadTooLarge,
                          QStringLiteral("A batch holds at most %1 events.").arg(MaxBatchEvents));
        if (items.empty())
            return reject(request, reply, slug, HttpError::BadRequest, QStringLiteral("The batch is empty."));
        job.events.reserve(qsizetype(items.size()));
        bool anyMalformedItem = false;
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
            return reject(request, reply, slug, anyMalformedItem ? HttpError::BadRequest : HttpError::Unprocessable,
                          QStringLiteral("%1 problem(s); nothing was stored (send ?partial=true to store the valid events).")
                              .arg(problems.size()),
                          problems);
        if (partial && !problems.isEmpty())
            deadLetter(request, slug, 422,
                       problemBody(HttpError::Unprocessable, QStringLiteral("Some events of a partial batch were refused."),
                                   request.path, problems));
        if (job.events.isEmpty())
            return reply.send(422, "{\"stored\":0,\"duplicates\":0,\"rejected\":[" + rejectedJson + "]}");
        job.source = QStringLiteral("batch");
        job.atomic = !partial;
    }

    const QString path = request.path;
    const QByteArray requestBody = batch ? QByteArray() : body; // for the dead letter of a 409
    const HeaderList headers = request.headers; // formatted only if a 409 is dead-lettered
    const ValidatedEvent first = job.events.first();
    // On the writer thread after the commit: the answer is built and sent on the I/O
    // thread of the connection (the writer stays on the next group).
    job.done = [this, reply, batch, indexes, rejectedJson, rejectedCount, path, slug, requestBody, headers,
                first](const QList<StoreResult> &results, const QString &error, bool rolledBack, const QString &errorCode) {
        reply.post([=, this] {
            if (!error.isEmpty()) {
                // Nothing of this request was committed: sending it again is safe. A full
                // disk is 507 (the operator must free space), anything else 503.
                const HttpError why = storageFailure(errorCode);
                const int status = httpErrorInfo(why).status;
                m_counters.rejectedByStatus[status]++;
                reply.send(status,
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
                    return reply.send(409, problem, "application/problem+json");
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
                    return reply.send(200, e.toJson());
                }
                if (r.outcome == StoreOutcome::Inserted || r.outcome == StoreOutcome::Overwritten) {
                    m_counters.accepted++;
                    return reply.send(201, e.toJson());
                }
                m_counters.rejectedByStatus[500]++;
                return reply.send(500,
                                 problemBody(HttpError::Internal, r.error, path), "application/problem+json");
            }
            if (rolledBack) {
                m_counters.rejectedByStatus[409]++;
                return reply.send(409,
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
            reply.send(allGood && stored > 0 ? 201 : 200, body);
        });
    };
    if (m_writer->submit(std::move(job), false)) {
        wakeWriter();
    } else {
        m_counters.rejectedByStatus[429]++;
        reply.send(429,
                   problemBody(HttpError::TooManyRequests, QStringLiteral("The write queue is full; retry after a second."),
                               path),
                   "application/problem+json", {{"Retry-After", "1"}});
    }
}

void IngestServer::list(const IncomingRequest &request, const Reply &reply, const QString &slug)
{
    const std::shared_ptr<const Snapshot> caches = snapshot();
    const auto found = caches->definitions.constFind(slug.toLower());
    if (found == caches->definitions.cend()) // removed since it was admitted
        return reject(request, reply, slug, HttpError::NotFound, QStringLiteral("No usage event has the slug “%1”.").arg(slug.left(100)));
    const UsageEventDefinition *definition = &found.value();
    const QUrlQuery &query = request.query;
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
        return reject(request, reply, slug, HttpError::BadRequest, QStringLiteral("Bad query parameters."), problems);
    if (!ensureReader(false))
        return reject(request, reply, slug, HttpError::Unavailable,
                      QStringLiteral("The database is unreachable; reconnecting."));
    QString error;
    const QList<StoredEvent> rows = EventStore::list(*m_reader, *definition, filter, &error);
    if (!error.isEmpty()) {
        ensureReader(true); // a lost connection is reopened for the next request
        return reject(request, reply, slug, HttpError::Unavailable, error);
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
    reply.send(200, body);
}

} // namespace meterdesk
