#include "groupcommitwriter.h"

#include "apikeys.h"

#include "workspace.h"

#include <QDeadlineTimer>
#include <map>
#include <QElapsedTimer>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcWriter, "meterdesk.writer")

namespace meterdesk {

namespace {
constexpr int MaxQueuedLetters = 1000;
constexpr int InitialBackoffMs = 100;
constexpr int MaxBackoffMs = 5000;
constexpr int MaxDeadlockRetries = 2;
} // namespace

GroupCommitWriter::GroupCommitWriter(QString location, int maxQueuedEvents, QObject *parent)
    : QThread(parent), m_location(std::move(location)), m_maxQueued(maxQueuedEvents)
{
    setObjectName(QStringLiteral("writer"));
    m_stats.bucketBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};
    m_stats.bucketCounts = QList<quint64>(m_stats.bucketBounds.size(), 0);
}

GroupCommitWriter::~GroupCommitWriter()
{
    stop();
    wait();
}

bool GroupCommitWriter::waitUntilOpen()
{
    QMutexLocker lock(&m_mutex);
    while (!m_openDone)
        m_opened.wait(&m_mutex);
    return m_openError.isEmpty();
}

QString GroupCommitWriter::openError() const
{
    QMutexLocker lock(&m_mutex);
    return m_openError;
}

bool GroupCommitWriter::submit(WriteJob job, bool wake)
{
    QMutexLocker lock(&m_mutex);
    const int n = int(job.events.size());
    if (m_stopping || m_queuedEvents + n > m_maxQueued)
        return false;
    m_queuedEvents += n;
    m_jobs.push_back(std::move(job));
    if (wake)
        m_wake.wakeOne();
    return true;
}

void GroupCommitWriter::wake()
{
    QMutexLocker lock(&m_mutex);
    m_wake.wakeOne();
}

bool GroupCommitWriter::submitDeadLetter(DeadLetter letter)
{
    QMutexLocker lock(&m_mutex);
    if (m_stopping || m_letters.size() >= MaxQueuedLetters)
        return false;
    m_letters.push_back(std::move(letter));
    m_wake.wakeOne();
    return true;
}

void GroupCommitWriter::submitKeyUse(const QHash<qint64, qint64> &lastUse)
{
    QMutexLocker lock(&m_mutex);
    for (auto it = lastUse.cbegin(); it != lastUse.cend(); ++it)
        m_keyUse.insert(it.key(), std::max(m_keyUse.value(it.key()), it.value()));
    m_wake.wakeOne();
}

void GroupCommitWriter::stop()
{
    QMutexLocker lock(&m_mutex);
    m_stopping = true;
    m_wake.wakeOne();
}

void GroupCommitWriter::forgetStatements()
{
    QMutexLocker lock(&m_mutex);
    m_forget = true;
}

WriterStats GroupCommitWriter::stats() const
{
    QMutexLocker lock(&m_mutex);
    WriterStats s = m_stats;
    s.queueDepth = m_queuedEvents;
    return s;
}

void GroupCommitWriter::recordLatency(double seconds)
{
    QMutexLocker lock(&m_mutex);
    for (qsizetype i = 0; i < m_stats.bucketBounds.size(); ++i)
        if (seconds <= m_stats.bucketBounds[i])
            ++m_stats.bucketCounts[i];
    m_stats.latencySum += seconds;
    ++m_stats.latencyCount;
}

void GroupCommitWriter::run()
{
    QString error;
    std::unique_ptr<Workspace> ws = Workspace::open(m_location, &error);
    {
        QMutexLocker lock(&m_mutex);
        m_openError = ws ? QString() : error;
        m_openDone = true;
        m_opened.wakeAll();
        if (!ws) {
            // Nothing can be written: answer whatever arrives with the failure.
            m_stopping = true;
        }
    }
    if (ws)
        ws->tuneForBulkWrites();
    std::unique_ptr<EventStore> store = ws ? std::make_unique<EventStore>(*ws) : nullptr;
    // After a lost connection (a PostgreSQL server restarted, a network cut): the
    // connection is opened again with backoff, 100 ms doubling to 5 s; meanwhile every
    // job is answered at once with the failure (the endpoint says 503 + Retry-After).
    bool disconnected = false;
    // A server database can go away while nothing is written; SQLite files cannot.
    const bool probeWhenIdle = ws && ws->dialect().kind() != SqlDialect::Kind::SQLite;
    int backoffMs = InitialBackoffMs;
    QDeadlineTimer nextAttempt;
    QString lostError;

    for (;;) {
        std::deque<WriteJob> jobs;
        std::deque<DeadLetter> letters;
        QHash<qint64, qint64> keyUse;
        bool stopping = false;
        bool idleProbe = false;
        {
            QMutexLocker lock(&m_mutex);
            while (m_jobs.empty() && m_letters.empty() && m_keyUse.isEmpty() && !m_stopping) {
                if (disconnected) {
                    if (nextAttempt.hasExpired() || !m_wake.wait(&m_mutex, nextAttempt))
                        break; // time for the next attempt
                } else if (probeWhenIdle) {
                    if (!m_wake.wait(&m_mutex, QDeadlineTimer(IdleProbeMs))) {
                        idleProbe = true; // nothing to write for a while: is the server still there?
                        break;
                    }
                } else {
                    m_wake.wait(&m_mutex);
                }
            }
            jobs.swap(m_jobs);
            letters.swap(m_letters);
            keyUse.swap(m_keyUse);
            m_queuedEvents = 0;
            stopping = m_stopping;
            if (m_forget && store) {
                store->forgetStatements();
                m_forget = false;
            }
        }
        if (idleProbe && ws && !ws->isReachable()) {
            qCWarning(lcWriter) << "the database does not answer; reconnecting with backoff";
            lostError = QStringLiteral("the database does not answer");
            store.reset();
            ws.reset();
            disconnected = true;
            backoffMs = InitialBackoffMs;
            nextAttempt.setRemainingTime(backoffMs);
        }
        if (disconnected && nextAttempt.hasExpired()) {
            QString why;
            ws = Workspace::open(m_location, &why);
            if (ws) {
                ws->tuneForBulkWrites();
                store = std::make_unique<EventStore>(*ws);
                disconnected = false;
                backoffMs = InitialBackoffMs;
                qCInfo(lcWriter) << "reconnected to the database";
            } else {
                lostError = why;
                qCWarning(lcWriter).nospace() << "reconnect failed (next attempt in " << backoffMs << " ms): " << why;
                nextAttempt.setRemainingTime(backoffMs);
                backoffMs = std::min(backoffMs * 2, MaxBackoffMs);
            }
        }
        if (!jobs.empty() || !letters.empty() || !keyUse.isEmpty()) {
            if (!ws || disconnected) {
                const QString why = disconnected
                    ? QStringLiteral("the database connection is lost; reconnecting (%1)").arg(lostError.simplified())
                    : error;
                for (WriteJob &job : jobs)
                    job.done({}, why, true, {});
                if (!letters.empty())
                    qCWarning(lcWriter) << letters.size() << "dead letter(s) not recorded: no database connection";
            } else if (!commitGroup(*ws, *store, jobs, letters, keyUse)) {
                qCWarning(lcWriter) << "the database connection is lost; reconnecting with backoff";
                lostError = QStringLiteral("connection lost");
                store.reset(); // its statements belong to the dead connection
                ws.reset();
                disconnected = true;
                backoffMs = InitialBackoffMs;
                nextAttempt = QDeadlineTimer(0); // try at once: a restart may already be over
            }
        }
        m_reachable.store(!disconnected, std::memory_order_relaxed);
        if (stopping) {
            QMutexLocker lock(&m_mutex);
            if (m_jobs.empty() && m_letters.empty())
                break;
        }
    }
    store.reset();
    ws.reset();
}

namespace {
// PostgreSQL gave up on the transaction to break a deadlock or a serialization
// conflict: doing it again is correct and usually succeeds.
bool retryable(const QString &sqlState)
{
    return sqlState == QLatin1String("40P01") || sqlState == QLatin1String("40001");
}
} // namespace

bool GroupCommitWriter::commitGroup(Workspace &ws, EventStore &store, std::deque<WriteJob> &jobs,
                                    std::deque<DeadLetter> &letters, const QHash<qint64, qint64> &keyUse)
{
    QElapsedTimer timer;
    timer.start();
    QString failure;
    QString failureState;
    std::vector<QList<StoreResult>> results(jobs.size());
    std::vector<bool> rolledBack(jobs.size(), false);
    QHash<QString, int> insertedBySlug;
    for (int attempt = 0;; ++attempt) {
        failure.clear();
        failureState.clear();
        insertedBySlug.clear();
        std::fill(rolledBack.begin(), rolledBack.end(), false);
        if (attempt == 0 && store.storesGroups())
            for (const WriteJob &job : jobs)
                store.preparePartitions(job.definition, job.events); // before the transaction: see there
        ws.beginWrite(&failure, &failureState);
        // What a job's results say once it is stored: a failure for the whole group, or a
        // conflict that undoes an atomic job. The rows of an undone job are its inserts
        // only (a conflict means the policy is reject, so nothing was overwritten):
        // deleting them undoes it without a savepoint, whose sub-journal would copy
        // every touched page.
        auto settle = [&](size_t j) {
            WriteJob &job = jobs[j];
            bool bad = false;
            for (const StoreResult &r : std::as_const(results[j])) {
                if (r.outcome == StoreOutcome::Failed && failure.isEmpty()) {
                    failure = r.error.isEmpty() ? QStringLiteral("the events could not be stored") : r.error;
                    failureState = r.sqlState;
                }
                bad = bad || (job.atomic && r.outcome == StoreOutcome::Conflict);
            }
            if (bad && failure.isEmpty()) {
                QList<qint64> inserted;
                for (const StoreResult &r : std::as_const(results[j]))
                    if (r.outcome == StoreOutcome::Inserted)
                        inserted.append(r.rowId);
                if (!inserted.isEmpty() && !store.removeInserted(job.definition, inserted, &failure))
                    return;
                rolledBack[j] = true;
            }
            if (!rolledBack[j]) {
                int n = 0;
                for (const StoreResult &r : std::as_const(results[j]))
                    n += r.outcome == StoreOutcome::Inserted || r.outcome == StoreOutcome::Overwritten;
                insertedBySlug[job.definition.slug] += n;
            }
        };
        if (store.storesGroups()) {
            // PostgreSQL: a statement per usage event for all the group's requests that
            // cannot be undone alone (single events, partial batches); each atomic
            // batch after them, with its own. Requests of one group are concurrent, so
            // this order is as good as the order they arrived in.
            std::map<QString, std::pair<const UsageEventDefinition *, std::vector<EventStore::GroupItem>>> byTable;
            auto itemsOf = [&](size_t j, std::vector<EventStore::GroupItem> &items) {
                WriteJob &job = jobs[j];
                results[j] = QList<StoreResult>(job.events.size());
                for (qsizetype e = 0; e < job.events.size(); ++e)
                    items.push_back({&job.events[e], &job.source, job.receivedAtUs, &results[j][e]});
            };
            auto together = [&](size_t j) { return !jobs[j].atomic || jobs[j].events.size() <= 1; };
            for (size_t j = 0; j < jobs.size(); ++j) {
                if (!together(j))
                    continue;
                auto &entry = byTable[jobs[j].definition.tableName()];
                entry.first = &jobs[j].definition;
                itemsOf(j, entry.second);
            }
            // A failed group keeps its reason on the event that met it; the others of
            // the group were never stored (and say Failed without one).
            auto noteFailure = [&](const std::vector<EventStore::GroupItem> &items) {
                for (const EventStore::GroupItem &item : items)
                    if (item.result->outcome == StoreOutcome::Failed && !item.result->error.isEmpty()) {
                        failure = item.result->error;
                        failureState = item.result->sqlState;
                        return;
                    }
                failure = QStringLiteral("the events could not be stored");
            };
            for (auto &[table, entry] : byTable)
                if (!store.storeGroup(*entry.first, entry.second)) {
                    noteFailure(entry.second);
                    break;
                }
            for (size_t j = 0; j < jobs.size() && failure.isEmpty(); ++j)
                if (together(j))
                    settle(j);
            for (size_t j = 0; j < jobs.size() && failure.isEmpty(); ++j) {
                if (together(j))
                    continue;
                std::vector<EventStore::GroupItem> items;
                itemsOf(j, items);
                if (!store.storeGroup(jobs[j].definition, items))
                    noteFailure(items);
                else
                    settle(j);
            }
        } else {
            for (size_t j = 0; j < jobs.size() && failure.isEmpty(); ++j) {
                results[j] = store.storeMany(jobs[j].definition, jobs[j].events, jobs[j].source, jobs[j].receivedAtUs);
                settle(j);
            }
        }
        if (failure.isEmpty())
            ws.commit(&failure, &failureState);
        if (failure.isEmpty())
            break;
        ws.rollback();
        if (retryable(failureState) && attempt < MaxDeadlockRetries) {
            // Two nodes inserting overlapping keys in different orders: PostgreSQL
            // cancelled this group to break the deadlock. The other one has committed
            // or will; this one again sees its rows as duplicates.
            qCInfo(lcWriter) << "group commit retried after" << failureState << failure.simplified();
            continue;
        }
        break;
    }
    bool connectionLost = false;
    if (!failure.isEmpty()) {
        qCWarning(lcWriter) << "group commit failed:" << failure;
        store.forgetStatements();
        // On a server database, a failure may mean the connection is gone (the server
        // restarted: 57P01, 08006, or no SQLSTATE at all). Ask it.
        if (ws.dialect().kind() != SqlDialect::Kind::SQLite)
            connectionLost = !ws.isReachable();
    }
    const double seconds = double(timer.nsecsElapsed()) / 1e9;
    recordLatency(seconds);
    quint64 committedCount = 0;
    for (size_t j = 0; j < jobs.size(); ++j) {
        if (failure.isEmpty() && !rolledBack[j])
            for (const StoreResult &r : std::as_const(results[j]))
                committedCount += r.outcome == StoreOutcome::Inserted;
        jobs[j].done(results[j], failure, !failure.isEmpty() || rolledBack[j], failureState);
    }
    {
        QMutexLocker lock(&m_mutex);
        ++m_stats.commits;
        m_stats.committedEvents += committedCount;
    }
    if (failure.isEmpty())
        for (auto it = insertedBySlug.cbegin(); it != insertedBySlug.cend(); ++it)
            if (it.value() > 0)
                emit committed(it.key(), it.value());
    if (connectionLost) {
        if (!letters.empty())
            qCWarning(lcWriter) << letters.size() << "dead letter(s) not recorded: no database connection";
        return false;
    }
    recordSideWrites(ws, letters, keyUse);
    return true;
}

void GroupCommitWriter::recordSideWrites(Workspace &ws, const std::deque<DeadLetter> &letters,
                                         const QHash<qint64, qint64> &keyUse)
{
    // Dead letters and key use in a transaction of their own: a letter the database
    // refuses (on PostgreSQL a failed statement aborts the whole transaction) never
    // costs the events their commit. After the answers: it delays none.
    if (letters.empty() && keyUse.isEmpty())
        return;
    QString failure;
    if (ws.beginWrite(&failure)
        && (letters.empty() || DeadLetters::append(ws, QList<DeadLetter>(letters.begin(), letters.end()), &failure))
        && (keyUse.isEmpty() || ApiKeys::recordUse(ws, keyUse, &failure)) && ws.commit(&failure))
        return;
    qCWarning(lcWriter) << "dead letters / key use not recorded:" << failure;
    ws.rollback();
}

} // namespace meterdesk
