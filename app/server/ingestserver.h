#pragma once

#include "endpointlimits.h"
#include "httpengine.h"
#include "usageevent.h"
#include "validator.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QMutex>
#include <QObject>

#include <atomic>
#include <memory>
#include <optional>

class QThread;
class QTimer;

namespace meterdesk {

class GroupCommitWriter;
class Workspace;
enum class HttpError;
struct Problem;

// Counters for /metrics and the status bar's events/s; written on the I/O threads,
// read from any thread.
struct IngestCounters
{
    std::atomic<quint64> accepted{0};
    std::atomic<quint64> duplicates{0};
    std::atomic<quint64> requests{0};
    std::atomic<quint64> rejectedByStatus[600]{};
};

// The ingestion endpoint's routes (DESIGN.md §5) on the HttpEngine: auth, validation,
// hand-off to the writer, answers after the commit. POST /usage/{slug}[/batch] runs
// wholly on the I/O thread that read it, against a snapshot of the definitions (with
// their prepared schemas) and live key digests. The object itself lives on the "http"
// thread, which owns the read connection: it refreshes that snapshot, and answers the
// routes that read the database (GET lists, /openapi.json); aggregates run on a thread
// of their own.
class IngestServer : public QObject
{
    Q_OBJECT
public:
    IngestServer(QString location, GroupCommitWriter *writer, EndpointLimits limits);
    ~IngestServer() override;

    IngestCounters &counters() { return m_counters; }

    // On the "http" thread (invoke queued): listen and emit started() or failed().
    Q_INVOKABLE void start(const QString &host, quint16 port);
    // New requests get 503; requests already handed to the writer are still answered.
    Q_INVOKABLE void beginShutdown();
    Q_INVOKABLE void reloadCaches();
    // Writes the answers still owed (the writer has stopped), closes every connection
    // and ends the I/O threads.
    Q_INVOKABLE void stopEngine();

signals:
    void started(const QString &url, quint16 port);
    void failed(const QString &error);

private:
    // What the I/O threads read: replaced whole on reload, never changed in place.
    struct Snapshot
    {
        QString organisation;
        QHash<QString, UsageEventDefinition> definitions; // by lower-case slug
        QHash<QString, Validator::PreparedSchema> prepared;          // the same keys
        QList<QPair<qint64, QByteArray>> keyDigests;
    };
    std::shared_ptr<const Snapshot> snapshot() const;
    bool stale() const; // the last reload is older than 250 ms

    // Any thread. `reloaded`: the caches were just refreshed for this request.
    void handle(IncomingRequest &&request, Reply reply, bool reloaded = false);
    void ingest(const IncomingRequest &request, const Reply &reply, const Snapshot &caches,
                const UsageEventDefinition &definition, const QString &slug, bool batch);
    // On the "http" thread.
    void list(const IncomingRequest &request, const Reply &reply, const QString &slug);
    void openApi(const Reply &reply);
    // Validated on the calling thread, computed on the aggregate thread.
    void aggregate(const IncomingRequest &request, const Reply &reply, const UsageEventDefinition &definition,
                   const QString &slug);
    void health(const Reply &reply);
    void metrics(const Reply &reply);

    // Answers (now) with a problem and records the dead letter.
    void reject(const IncomingRequest &request, const Reply &reply, const QString &slug, HttpError error,
                const QString &detail, const QList<Problem> &errors = {}, const QByteArray &extra = {});
    void deadLetter(const IncomingRequest &request, const QString &slug, int status, const QByteArray &problem);
    std::optional<HttpError> authenticate(const IncomingRequest &request, const Snapshot &caches, QString *detail,
                                          bool *unknownKey);
    // The checks every /usage/{slug} route makes first (shutting down, key, organisation,
    // a known slug). Admitted: the definition. Refused: answered already. Retry: an
    // unknown slug or key with caches older than 250 ms; handle() reloads and retries.
    enum class Admission { Admitted, Refused, Retry };
    Admission admit(const IncomingRequest &request, const Reply &reply, const Snapshot &caches, const QString &slug,
                    bool reloaded, const UsageEventDefinition **definition);
    void retryAfterReload(IncomingRequest &&request, Reply reply);
    void wakeWriter();

    // The read connection, opened again (with backoff) after it was lost; `probe`
    // asks a server database whether the connection still lives. False: none now.
    bool ensureReader(bool probe);

    QString m_location;
    GroupCommitWriter *m_writer;
    EndpointLimits m_limits;
    std::unique_ptr<HttpEngine> m_engine;
    std::unique_ptr<Workspace> m_reader;
    QDeadlineTimer m_readerRetry;    // no reopen before this, after a failed one
    int m_readerBackoffMs = 100;
    mutable QMutex m_snapshotMutex;
    std::shared_ptr<const Snapshot> m_snapshot = std::make_shared<Snapshot>();
    std::atomic<qint64> m_reloadedAtMs{-1000000};
    QMutex m_keyUseMutex;
    QHash<qint64, qint64> m_keyUse;
    QTimer *m_reloadTimer = nullptr;
    std::atomic<bool> m_shuttingDown{false};
    // Aggregates scan millions of rows: never on an I/O thread. One thread of their own
    // (started on first use) with its own workspace, opened there. m_aggregatesPending
    // counts requests not yet answered.
    QMutex m_aggregateMutex;
    QThread *m_aggregateThread = nullptr;
    QObject *m_aggregateContext = nullptr; // lives on m_aggregateThread, owns its workspace
    std::shared_ptr<std::atomic_bool> m_aggregateCancel = std::make_shared<std::atomic_bool>(false);
    std::atomic<int> m_aggregatesPending{0};
    IngestCounters m_counters;
};

} // namespace meterdesk
