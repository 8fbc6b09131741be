#include "ingestservice.h"

#include "groupcommitwriter.h"
#include "ingestserver.h"

#include <QHostAddress>
#include <QThread>

namespace meterdesk {

IngestService::IngestService(QString location, EndpointLimits limits, QObject *parent)
    : QObject(parent), m_location(std::move(location)), m_limits(std::move(limits))
{
}

IngestService::~IngestService()
{
    stop();
}

void IngestService::start(const QString &host, quint16 port)
{
    if (m_running || m_writer) {
        emit failed(QStringLiteral("The endpoint is already running."));
        return;
    }
    m_writer = new GroupCommitWriter(m_location, m_limits.maxQueuedEvents);
    connect(m_writer, &GroupCommitWriter::committed, this, [this](const QString &slug, int inserted) {
        m_committed.add([&](QHash<QString, int> &bySlug) { bySlug[slug] += inserted; });
    }, Qt::DirectConnection); // runs on the writer thread
    m_writer->start();
    if (!m_writer->waitUntilOpen()) {
        const QString error = m_writer->openError();
        m_writer->stop();
        m_writer->wait();
        delete m_writer;
        m_writer = nullptr;
        QMetaObject::invokeMethod(this, [this, error] { emit failed(error); }, Qt::QueuedConnection);
        return;
    }

    m_serverThread = new QThread;
    m_serverThread->setObjectName(QStringLiteral("http"));
    m_server = new IngestServer(m_location, m_writer, m_limits);
    m_server->moveToThread(m_serverThread);
    connect(m_serverThread, &QThread::finished, m_server, &QObject::deleteLater);
    connect(m_server, &IngestServer::started, this, [this](const QString &url, quint16 bound) {
        m_running = true;
        m_url = url;
        m_port = bound;
        emit started(url);
    }, Qt::QueuedConnection);
    connect(m_server, &IngestServer::failed, this, [this](const QString &error) {
        stop();
        emit failed(error);
    }, Qt::QueuedConnection);
    m_serverThread->start();
    QMetaObject::invokeMethod(m_server, "start", Qt::QueuedConnection, Q_ARG(QString, host), Q_ARG(quint16, port));
}

void IngestService::setTls(const QString &certificateFile, const QString &keyFile)
{
    m_limits.tlsCertFile = certificateFile;
    m_limits.tlsKeyFile = keyFile;
}

void IngestService::beginShutdown()
{
    if (m_server)
        QMetaObject::invokeMethod(m_server, "beginShutdown", Qt::BlockingQueuedConnection);
}

void IngestService::stop()
{
    if (!m_writer)
        return;
    // 1. No new requests (503), 2. the writer drains and commits what it holds,
    // 3. the I/O threads write those answers, then end.
    QMetaObject::invokeMethod(m_server, "beginShutdown", Qt::BlockingQueuedConnection);
    m_writer->stop();
    m_writer->wait();
    // The writer's callbacks posted answers to the I/O threads: they go out, then the
    // connections close.
    QMetaObject::invokeMethod(m_server, "stopEngine", Qt::BlockingQueuedConnection);
    m_serverThread->quit();
    m_serverThread->wait();
    delete m_serverThread;
    m_serverThread = nullptr;
    m_server = nullptr; // deleted by the thread's finished signal
    delete m_writer;
    m_writer = nullptr;
    const bool wasRunning = m_running;
    m_running = false;
    if (wasRunning)
        emit stopped();
}

void IngestService::reload()
{
    if (m_server)
        QMetaObject::invokeMethod(m_server, "reloadCaches", Qt::QueuedConnection);
}

quint64 IngestService::acceptedCount() const
{
    return m_server ? m_server->counters().accepted.load() : 0;
}

QString plainTextWarning(const QString &host, const EndpointLimits &limits)
{
    if (!limits.tlsCertFile.isEmpty() && !limits.tlsKeyFile.isEmpty())
        return {};
    const QHostAddress address(host);
    if (host == QLatin1String("localhost") || address.isLoopback())
        return {};
    return QStringLiteral("listening on %1 without TLS: API keys travel in plain text over the network; "
                          "serve HTTPS with --tls-cert FILE --tls-key FILE.").arg(host);
}

bool parseListenAddress(const QString &text, QString *host, quint16 *port, QString *error)
{
    QString h = QStringLiteral("127.0.0.1");
    QString p = text;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0 || close + 1 >= text.size() || text[close + 1] != u':') {
            *error = QStringLiteral("“%1”: write IPv6 addresses as [::1]:8080.").arg(text);
            return false;
        }
        h = text.mid(1, close - 1);
        p = text.mid(close + 2);
    } else if (text.contains(u':')) {
        h = text.section(u':', 0, -2);
        p = text.section(u':', -1);
    }
    bool ok = false;
    const uint n = p.toUInt(&ok);
    if (!ok || n > 65535) {
        *error = QStringLiteral("“%1” is not HOST:PORT (a port is 0 to 65535; 0 picks a free one).").arg(text);
        return false;
    }
    *host = h.isEmpty() ? QStringLiteral("127.0.0.1") : h;
    *port = quint16(n);
    return true;
}

} // namespace meterdesk
