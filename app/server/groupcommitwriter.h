#pragma once

#include "deadletters.h"
#include "eventstore.h"
#include "usageevent.h"
#include "validator.h"

#include <QMutex>

#include <atomic>
#include <QThread>
#include <QWaitCondition>

#include <deque>
#include <functional>
#include <memory>

namespace meterdesk {

class Workspace;

// A rejected request kept for the Rejected tab (bounded: DeadLetters::Kept).
using DeadLetter = DeadLetterRecord;

struct WriteJob
{
    UsageEventDefinition definition;
    QList<ValidatedEvent> events;
    QString source = QStringLiteral("api");
    bool atomic = true; // a conflict anywhere rolls the whole job back
    qint64 receivedAtUs = 0;
    // Called on the writer thread after the commit (or the failure). `error` empty
    // means the results are durable; `errorCode` is the database's code for a failure
    // (SQLite's result code, PostgreSQL's SQLSTATE), see storageFailure(). The callee
    // posts to its own thread.
    std::function<void(const QList<StoreResult> &results, const QString &error, bool rolledBack, const QString &errorCode)>
        done;
};

struct WriterStats
{
    quint64 commits = 0;
    quint64 committedEvents = 0;
    // Commit latency histogram: upper bounds in seconds and cumulative counts.
    QList<double> bucketBounds;
    QList<quint64> bucketCounts;
    double latencySum = 0;
    quint64 latencyCount = 0;
    int queueDepth = 0;
};

// The one writer of DESIGN.md §3: owns the write connection on its own thread and
// commits in groups (drain the queue, one transaction, one fsync, answer every
// waiting request). The queue is bounded in events; submit() says no when full.
// submit()/stop()/stats() are thread-safe; everything else runs on the writer thread.
class GroupCommitWriter : public QThread
{
    Q_OBJECT
public:
    explicit GroupCommitWriter(QString location, int maxQueuedEvents = 100000, QObject *parent = nullptr);
    ~GroupCommitWriter() override;

    // False when the writer could not open the workspace (see openError()).
    bool waitUntilOpen();
    QString openError() const;

    // False: queue full (answer 429). `wake` false leaves the writer asleep until
    // wake(): the HTTP thread hands over everything one pass of its event loop read
    // and then wakes the writer once, so a group holds them all.
    bool submit(WriteJob job, bool wake = true);
    void wake();
    bool submitDeadLetter(DeadLetter letter);
    // Key id -> when it was last used; written with the next group (Settings shows it).
    void submitKeyUse(const QHash<qint64, qint64> &lastUse);
    void stop();                        // drains and commits what is queued, then ends the thread
    WriterStats stats() const;
    void forgetStatements();            // a definition changed: re-prepare on next use
    // False while the connection to a database server is lost (a failed commit, or the
    // probe an idle writer sends every IdleProbeMs on PostgreSQL): /healthz says 503.
    bool databaseReachable() const { return m_reachable.load(std::memory_order_relaxed); }
    static constexpr int IdleProbeMs = 2000;

signals:
    // Emitted on the writer thread after each commit; connect queued.
    void committed(const QString &slug, int inserted);

protected:
    void run() override;

private:
    // False when the connection to the database is gone (PostgreSQL): every job was
    // answered with the failure, and run() reconnects with backoff.
    bool commitGroup(Workspace &ws, EventStore &store, std::deque<WriteJob> &jobs, std::deque<DeadLetter> &letters,
                     const QHash<qint64, qint64> &keyUse);
    void recordSideWrites(Workspace &ws, const std::deque<DeadLetter> &letters, const QHash<qint64, qint64> &keyUse);
    void recordLatency(double seconds);

    const QString m_location;
    const int m_maxQueued;
    mutable QMutex m_mutex;
    QWaitCondition m_wake;
    QWaitCondition m_opened;
    bool m_openDone = false;
    QString m_openError;
    std::deque<WriteJob> m_jobs;
    std::deque<DeadLetter> m_letters;
    QHash<qint64, qint64> m_keyUse;
    int m_queuedEvents = 0;
    bool m_stopping = false;
    bool m_forget = false;
    std::atomic<bool> m_reachable{true};
    WriterStats m_stats;
};

} // namespace meterdesk
