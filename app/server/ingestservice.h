#pragma once

#include "coalescer.h"
#include "endpointlimits.h"

#include <QHash>
#include <QObject>
#include <QString>

class QThread;

namespace meterdesk {

class GroupCommitWriter;
class IngestServer;

// Starts and stops the endpoint: the writer thread and the server thread, wired
// together. Used by the GUI (in-process) and by headless mode alike. Lives on the
// thread that creates it; start() and stop() never block on the network.
class IngestService : public QObject
{
    Q_OBJECT
public:
    explicit IngestService(QString location, EndpointLimits limits = {}, QObject *parent = nullptr);
    ~IngestService() override;

    // HTTPS from the next start on (both empty: plain HTTP).
    void setTls(const QString &certificateFile, const QString &keyFile);
    // Emits started(url) or failed(error) later.
    void start(const QString &host, quint16 port);
    // Stops accepting, answers what is in flight, commits, ends both threads.
    // Blocks until the writer has committed (bounded by the queue).
    void stop();
    // Only the first step of stop(): new requests get 503 (for tests and drains).
    void beginShutdown();
    bool isRunning() const { return m_running; }
    QString url() const { return m_url; }
    quint16 port() const { return m_port; }

    // Definitions or keys changed in this process: the server reloads its caches.
    void reload();
    // Events accepted so far (for events/s in the status bar).
    quint64 acceptedCount() const;

signals:
    void started(const QString &url);
    void failed(const QString &error);
    void stopped();
    void committed(const QString &slug, int inserted);

private:
    QString m_location;
    EndpointLimits m_limits;
    QThread *m_serverThread = nullptr;
    IngestServer *m_server = nullptr;
    GroupCommitWriter *m_writer = nullptr;
    bool m_running = false;
    QString m_url;
    quint16 m_port = 0;
    // Commits are coalesced: one committed() per slug for everything committed in the
    // last CommittedIntervalMs, not one queued signal per group (a thousand a second
    // under load, each waking this thread and, through it, the alerts thread).
    static constexpr int CommittedIntervalMs = 50;
    Coalescer<QHash<QString, int>> m_committed{this, [this](QHash<QString, int> &&bySlug) {
        for (auto it = bySlug.cbegin(); it != bySlug.cend(); ++it)
            emit committed(it.key(), it.value());
    }, CommittedIntervalMs};
};

// Empty, or the one-line warning for an endpoint reachable from other machines without
// TLS (API keys travel in headers): names the flags that turn HTTPS on.
QString plainTextWarning(const QString &host, const EndpointLimits &limits);

// "127.0.0.1:8080" / "[::1]:0" / "8080" -> host and port, or an error message.
bool parseListenAddress(const QString &text, QString *host, quint16 *port, QString *error);

} // namespace meterdesk
