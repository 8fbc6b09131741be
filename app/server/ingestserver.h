#pragma once

#include "coalescer.h"
#include "guardedtcpserver.h"
#include "usageevent.h"

#include <QAbstractHttpServer>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QHash>
#include <QHttpServerResponder>
#include <QMutex>

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <vector>
#include <memory>

class QThread;
class QTimer;

namespace meterdesk {

class GroupCommitWriter;
class Workspace;
struct DeadLetterRecord;
enum class HttpError;
struct Problem;

// Counters for /metrics and the status bar's events/s; written on the server
// thread, read from any thread.
struct IngestCounters
{
    std::atomic<quint64> accepted{0};
    std::atomic<quint64> duplicates{0};
    std::atomic<quint64> requests{0};
    std::atomic<quint64> rejectedByStatus[600]{};
};

// The ingestion endpoint (DESIGN.md §5) on Qt HTTP Server: routes, auth, validation,
// hand-off to the writer, deferred answers after the commit. Lives on the server
// thread with its own read connection to the workspace.
class IngestServer : public QAbstractHttpServer
{
    Q_OBJECT
public:
    IngestServer(QString location, GroupCommitWriter *writer, EndpointLimits limits);
    ~IngestServer() override;

    IngestCounters &counters() { return m_counters; }

    // Server thread (invoke queued): listen and emit started() or failed().
    Q_INVOKABLE void start(const QString &host, quint16 port);
    // New requests get 503; requests already handed to the writer are still answered.
    Q_INVOKABLE void beginShutdown();
    Q_INVOKABLE void reloadCaches();
    // Pushes every answer written so far onto the wire (used at shutdown).
    Q_INVOKABLE void flushAll();
    // Any thread: runs `answer` on the server thread; answers queued together run
    // in one go (the writer finishes a whole group at once).
    void postCompletion(std::function<void()> answer);

signals:
    void started(const QString &url, quint16 port);
    void failed(const QString &error);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    using Responder = std::shared_ptr<QHttpServerResponder>;

    void ingest(const QHttpServerRequest &request, QTcpSocket *socket, const QString &slug, bool batch);
    void list(const QHttpServerRequest &request, QTcpSocket *socket, const QString &slug);
    // GET /usage/{slug}/aggregate: validated here, computed on the aggregate thread.
    void aggregate(const QHttpServerRequest &request, QTcpSocket *socket, const QString &slug);
    void health(QTcpSocket *socket, const QHttpServerRequest &request);
    void metrics(QTcpSocket *socket, const QHttpServerRequest &request);
    void openApi(QTcpSocket *socket, const QHttpServerRequest &request);

    // Answers (now) with a problem and records the dead letter.
    void reject(const QHttpServerRequest &request, QTcpSocket *socket, const QString &slug, HttpError error,
                const QString &detail, const QList<Problem> &errors = {}, const QByteArray &extra = {});
    void deadLetter(const QHttpServerRequest &request, const QString &slug, int status, const QByteArray &problem);
    std::optional<HttpError> authenticate(QString *detail); // from m_headers
    const UsageEventDefinition *definitionFor(const QString &slug);
    // The checks every /usage/{slug} route makes first (shutting down, key, organisation,
    // a known slug): the definition, or nullptr when the request was already refused.
    const UsageEventDefinition *admit(const QHttpServerRequest &request, QTcpSocket *socket, const QString &slug);

    void send(QHttpServerResponder &responder, int status, const QByteArray &body,
              const QByteArray &contentType = QByteArrayLiteral("application/json"),
              const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
    void sendLater(const Responder &responder, const QPointer<QTcpSocket> &socket, int status, const QByteArray &body,
                   const QByteArray &contentType = QByteArrayLiteral("application/json"),
                   const QList<QPair<QByteArray, QByteArray>> &extraHeaders = {});
    // The read connection, opened again (with backoff) after it was lost; `probe`
    // asks a server database whether the connection still lives. False: none now.
    bool ensureReader(bool probe);

    QString m_location;
    GroupCommitWriter *m_writer;
    EndpointLimits m_limits;
    GuardedTcpServer *m_tcp = nullptr;
    std::unique_ptr<Workspace> m_reader;
    QDeadlineTimer m_readerRetry;    // no reopen before this, after a failed one
    int m_readerBackoffMs = 100;
    QString m_organisation;
    QHash<QString, UsageEventDefinition> m_definitions; // by lower-case slug
    QList<QPair<qint64, QByteArray>> m_keyDigests;
    QHash<qint64, qint64> m_keyUse;
    QList<QPair<QByteArray, QByteArray>> m_headers; // of the request being handled
    // Answers finished on the writer thread, run here: one wake-up per group, not per request.
    Coalescer<std::vector<std::function<void()>>> m_completions{this, [](std::vector<std::function<void()>> &&answers) {
        for (const auto &answer : answers)
            answer();
    }};
    QElapsedTimer m_sinceReload;
    QTimer *m_reloadTimer = nullptr;
    bool m_shuttingDown = false;
    bool m_wakeWriter = false; // jobs handed over in this pass of the event loop; woken before it blocks
    // Aggregates scan millions of rows: never on this thread. One thread of their own
    // (started on first use) with its own workspace, opened there; answers come back
    // through postCompletion. m_aggregatesPending counts requests not yet answered.
    QThread *m_aggregateThread = nullptr;
    QObject *m_aggregateContext = nullptr; // lives on m_aggregateThread, owns its workspace
    std::shared_ptr<std::atomic_bool> m_aggregateCancel = std::make_shared<std::atomic_bool>(false);
    int m_aggregatesPending = 0;
    // HTTP/1.1 pipelining: answers leave in request order. Each request gets the next
    // number of its connection; an answer whose turn has not come waits here.
    struct AnswerOrder
    {
        quint64 issued = 0;
        quint64 sent = 0;
        // The request that said "Connection: close": its answer is the last one, the
        // connection closes after it, and requests behind it are not processed.
        quint64 closeAfter = std::numeric_limits<quint64>::max();
        std::map<quint64, QByteArray> waiting;
    };
    QHash<QTcpSocket *, AnswerOrder> m_answerOrder;
    quint64 m_answerSeq = 0; // the number of the request being answered now
    void deliver(QTcpSocket *socket, QByteArray bytes);
    void writeNow(QTcpSocket *socket, const QByteArray &bytes);
    IngestCounters m_counters;
};

} // namespace meterdesk
