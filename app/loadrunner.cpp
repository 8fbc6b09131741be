#include "loadrunner.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>

#include <algorithm>
#include <memory>
#include <vector>

namespace meterdesk {

// Runs on the runner thread. One Connection per socket, each with at most one
// request in flight (no pipelining, so answers map to requests trivially).
class RunWorker : public QObject
{
    Q_OBJECT
public:
    void run(const HttpRequest &request, const RunConfig &config);
    void stop();

signals:
    void progress(const meterdesk::RunStats &stats);
    void finished(const meterdesk::RunStats &stats);

private:
    struct Connection
    {
        QTcpSocket *socket = nullptr;
        QByteArray buffer;
        qint64 sentNs = 0;
        bool busy = false;
        bool waiting = false; // for a rate token
    };
    void connectOne(Connection *c);
    void sendNext(Connection *c);
    void onReadyRead(Connection *c);
    void complete(Connection *c, int status);
    void failed(Connection *c);
    void rollSecond();
    void finish(bool stopped, const QString &error = {});

    std::unique_ptr<RunPlan> m_plan;
    RunConfig m_config;
    QByteArray m_head; // request line and headers up to Content-Length
    QString m_host;
    quint16 m_port = 0;
    std::vector<std::unique_ptr<Connection>> m_connections;
    QElapsedTimer m_clock;
    QTimer *m_tick = nullptr;
    qint64 m_next = 0;
    RunStats m_stats;
    std::vector<double> m_secondLatencies;
    int m_second = 0;
    qint64 m_secondCompleted = 0;
    qint64 m_lastReportMs = 0;
    bool m_active = false;
    bool m_everConnected = false;
};

void RunWorker::run(const HttpRequest &request, const RunConfig &config)
{
    m_config = config;
    m_stats = {};
    m_connections.clear();
    m_next = 0;
    m_second = 0;
    m_secondCompleted = 0;
    m_secondLatencies.clear();
    m_lastReportMs = 0;
    m_everConnected = false;
    const QUrl url(request.url);
    if (url.scheme() != QLatin1String("http") || url.host().isEmpty()) {
        finish(false, tr("The runner sends to http:// URLs only: %1").arg(request.url));
        return;
    }
    m_plan = std::make_unique<RunPlan>(config, request.body.toUtf8(), QDateTime::currentMSecsSinceEpoch() * 1000);
    if (!m_plan->isValid()) {
        finish(false, m_plan->error());
        return;
    }
    m_host = url.host();
    m_port = quint16(url.port(80));
    const QByteArray target = url.path(QUrl::FullyEncoded).isEmpty() ? QByteArray("/") : url.path(QUrl::FullyEncoded).toUtf8();
    m_head = request.method.toUtf8() + ' ' + target + (url.hasQuery() ? '?' + url.query(QUrl::FullyEncoded).toUtf8() : QByteArray())
             + " HTTP/1.1\r\nHost: " + url.authority(QUrl::FullyEncoded).toUtf8() + "\r\n";
    for (const HttpHeader &h : request.headers) {
        const QString name = h.name.toLower();
        if (!h.enabled || name == QLatin1String("host") || name == QLatin1String("content-length")
            || name == QLatin1String("connection"))
            continue;
        m_head += h.name.toUtf8() + ": " + h.value.toUtf8() + "\r\n";
    }
    m_head += "Content-Length: ";

    m_active = true;
    m_clock.start();
    if (!m_tick) {
        m_tick = new QTimer(this);
        m_tick->setInterval(5);
        connect(m_tick, &QTimer::timeout, this, [this] {
            // sendNext() may finish the run, which clears m_connections: index, and re-check.
            for (size_t i = 0; m_active && i < m_connections.size(); ++i)
                if (m_connections[i]->waiting)
                    sendNext(m_connections[i].get());
            if (m_active)
                rollSecond();
        });
    }
    m_tick->start();
    const int n = qBound(1, config.concurrency, 256);
    for (int i = 0; i < n; ++i) {
        m_connections.push_back(std::make_unique<Connection>());
        connectOne(m_connections.back().get());
    }
}

void RunWorker::connectOne(Connection *c)
{
    if (c->socket) {
        c->socket->disconnect(this); // its late signals must not reach the new socket's state
        c->socket->deleteLater();
    }
    c->socket = new QTcpSocket(this);
    c->buffer.clear();
    c->busy = false;
    c->socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    connect(c->socket, &QTcpSocket::connected, this, [this, c] {
        m_everConnected = true;
        sendNext(c);
    });
    connect(c->socket, &QTcpSocket::readyRead, this, [this, c] { onReadyRead(c); });
    connect(c->socket, &QTcpSocket::errorOccurred, this, [this, c] { failed(c); });
    c->socket->connectToHost(m_host, m_port);
}

void RunWorker::sendNext(Connection *c)
{
    c->waiting = false;
    if (!m_active || c->busy || c->socket->state() != QAbstractSocket::ConnectedState)
        return;
    if (m_next >= m_config.count) {
        if (m_stats.completed >= m_config.count)
            finish(false);
        return;
    }
    if (m_config.ratePerSecond > 0) {
        // Token bucket: as many sends as the rate allows by now (a burst of one).
        const qint64 allowed = 1 + m_clock.elapsed() * m_config.ratePerSecond / 1000;
        if (m_next >= allowed) {
            c->waiting = true;
            return;
        }
    }
    const QByteArray body = m_plan->body(m_next++);
    c->busy = true;
    c->sentNs = m_clock.nsecsElapsed();
    c->socket->write(m_head + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    ++m_stats.sent;
}

void RunWorker::onReadyRead(Connection *c)
{
    c->buffer += c->socket->readAll();
    for (;;) {
        const qsizetype headEnd = c->buffer.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return;
        // "HTTP/1.1 201 Created"
        const int status = c->buffer.mid(9, 3).toInt();
        qint64 length = 0;
        bool close = false;
        const QList<QByteArray> lines = c->buffer.left(headEnd).split('\n');
        for (const QByteArray &line : lines) {
            const qsizetype colon = line.indexOf(':');
            if (colon < 0)
                continue;
            const QByteArray name = line.left(colon).trimmed().toLower();
            if (name == "content-length")
                length = line.mid(colon + 1).trimmed().toLongLong();
            else if (name == "connection" && line.mid(colon + 1).trimmed().toLower() == "close")
                close = true;
        }
        if (c->buffer.size() < headEnd + 4 + length)
            return;
        c->buffer.remove(0, headEnd + 4 + length);
        complete(c, status);
        if (close) {
            connectOne(c);
            return;
        }
        sendNext(c); // may finish the run and free `c`: check m_active first
        if (!m_active || !c->busy)
            return;
    }
}

void RunWorker::complete(Connection *c, int status)
{
    c->busy = false;
    const double ms = double(m_clock.nsecsElapsed() - c->sentNs) / 1e6;
    m_secondLatencies.push_back(ms);
    ++m_secondCompleted;
    ++m_stats.completed;
    ++m_stats.byStatus[status];
}

void RunWorker::failed(Connection *c)
{
    if (!m_active)
        return;
    if (!m_everConnected) {
        finish(false, tr("Cannot connect to %1:%2: %3").arg(m_host).arg(m_port).arg(c->socket->errorString()));
        return;
    }
    if (c->busy) { // the request in flight is lost: counted, not retried
        c->busy = false;
        ++m_stats.completed;
        ++m_stats.networkErrors;
    }
    connectOne(c);
}

void RunWorker::rollSecond()
{
    const qint64 ms = m_clock.elapsed();
    if (ms / 1000 > m_second) {
        RunSecond s;
        s.second = m_second;
        s.completed = m_secondCompleted;
        if (!m_secondLatencies.empty()) {
            std::sort(m_secondLatencies.begin(), m_secondLatencies.end());
            s.p50Ms = m_secondLatencies[m_secondLatencies.size() / 2];
            s.p99Ms = m_secondLatencies[std::min(m_secondLatencies.size() - 1, m_secondLatencies.size() * 99 / 100)];
        }
        m_stats.seconds.append(s);
        m_secondLatencies.clear();
        m_secondCompleted = 0;
        m_second = int(ms / 1000);
    }
    if (ms - m_lastReportMs >= 250) {
        m_lastReportMs = ms;
        m_stats.elapsedS = double(ms) / 1000;
        emit progress(m_stats);
    }
}

void RunWorker::stop()
{
    if (m_active)
        finish(true);
}

void RunWorker::finish(bool stopped, const QString &error)
{
    m_active = false;
    if (m_tick)
        m_tick->stop();
    for (auto &c : m_connections)
        if (c->socket) {
            c->socket->disconnect(this);
            c->socket->abort();
            c->socket->deleteLater();
        }
    m_connections.clear();
    m_stats.elapsedS = double(m_clock.isValid() ? m_clock.elapsed() : 0) / 1000;
    if (m_secondCompleted > 0) {
        std::sort(m_secondLatencies.begin(), m_secondLatencies.end());
        m_stats.seconds.append({m_second, m_secondCompleted, m_secondLatencies[m_secondLatencies.size() / 2],
                                m_secondLatencies[std::min(m_secondLatencies.size() - 1, m_secondLatencies.size() * 99 / 100)]});
    }
    m_stats.finished = true;
    m_stats.stopped = stopped;
    m_stats.error = error;
    emit finished(m_stats);
}

LoadRunner::LoadRunner(QObject *parent) : EventRunner(parent), m_worker(new RunWorker)
{
    qRegisterMetaType<meterdesk::RunStats>();
    m_thread.setObjectName(QStringLiteral("meterdesk-runner"));
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &RunWorker::progress, this, [this](const RunStats &s) {
        if (m_running)
            emit progress(s);
    });
    connect(m_worker, &RunWorker::finished, this, [this](const RunStats &s) {
        m_running = false;
        emit finished(s);
    });
    m_thread.start();
}

LoadRunner::~LoadRunner()
{
    QMetaObject::invokeMethod(m_worker, &RunWorker::stop, Qt::QueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

void LoadRunner::start(const HttpRequest &request, const RunConfig &config)
{
    if (m_running)
        return;
    m_running = true;
    RunWorker *worker = m_worker;
    QMetaObject::invokeMethod(worker, [worker, request, config] { worker->run(request, config); }, Qt::QueuedConnection);
}

void LoadRunner::stop()
{
    if (m_running)
        QMetaObject::invokeMethod(m_worker, &RunWorker::stop, Qt::QueuedConnection);
}

} // namespace meterdesk

#include "loadrunner.moc"
