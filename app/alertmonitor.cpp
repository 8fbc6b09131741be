#include "alertmonitor.h"

#include "coalescer.h"
#include "workspace.h"

#include <QHash>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QSet>
#include <QThread>
#include <QTimer>
#include <QUrl>

Q_LOGGING_CATEGORY(lcAlerts, "meterdesk.alerts")

namespace meterdesk {

// The monitor's thread side: the Workspace, the timers and the network client all
// live here.
class AlertWorker : public QObject
{
    Q_OBJECT
public:
    AlertWorker(QString location, AlertMonitor::Options options) : m_location(std::move(location)), m_options(options) {}

    // Usage events with new rows, from any thread: one wake-up of this thread for
    // many commits.
    Coalescer<QSet<QString>> committedSlugs{this, [this](QSet<QString> &&slugs) {
        for (const QString &slug : std::as_const(slugs))
            markDirty(slug);
    }};

    void begin()
    {
        m_debounce = new QTimer(this);
        m_debounce->setSingleShot(true);
        m_debounce->setInterval(m_options.debounceMs);
        connect(m_debounce, &QTimer::timeout, this, &AlertWorker::pass);
        m_poll = new QTimer(this);
        if (m_options.pollMs > 0) {
            m_poll->setInterval(m_options.pollMs);
            connect(m_poll, &QTimer::timeout, this, &AlertWorker::markAll);
            m_poll->start();
        }
        m_network = new QNetworkAccessManager(this);
        markAll(); // catch up with rows that came while no monitor ran
    }

    // Bounded latency under constant load: the first commit starts the timer, later
    // ones join that pass.
    void markDirty(const QString &slug)
    {
        if (!m_all)
            m_dirty.insert(slug.toLower());
        if (!m_debounce->isActive() && !m_draining)
            m_debounce->start();
    }

    void markAll()
    {
        m_all = true;
        m_dirty.clear();
        if (!m_debounce->isActive() && !m_draining)
            m_debounce->start(0);
    }

    // No more evaluations; the thread ends once the webhooks in flight are answered.
    void drain()
    {
        m_draining = true;
        m_debounce->stop();
        m_poll->stop();
        if (m_inFlight == 0)
            thread()->quit();
    }

signals:
    void fired(const meterdesk::AlertDefinition &alert, const meterdesk::AlertFiring &firing);
    void webhookFinished(qint64 firingId, int status);
    void evaluated(int alerts, int fired);
    void problem(const QString &message);

private:
    bool ensureOpen()
    {
        if (m_workspace)
            return true;
        QString error;
        m_workspace = Workspace::open(m_location, &error);
        if (!m_workspace)
            report(QStringLiteral("Alerts: cannot open the workspace: %1").arg(error));
        return m_workspace != nullptr;
    }

    void report(const QString &message)
    {
        qCWarning(lcAlerts).noquote() << message;
        // One message per distinct problem, not one per commit while it lasts.
        if (message != m_lastProblem)
            emit problem(message);
        m_lastProblem = message;
    }

    void pass()
    {
        const bool all = m_all;
        const QSet<QString> dirty = m_dirty;
        m_all = false;
        m_dirty.clear();
        if (m_draining || !ensureOpen())
            return;
        bool ok = false;
        const QList<AlertDefinition> alerts = Alerts::list(*m_workspace, {}, &ok);
        if (!ok) {
            // A server database may have restarted: reopen next time.
            m_workspace.reset();
            report(QStringLiteral("Alerts: cannot read the alerts."));
            return;
        }
        int evaluatedCount = 0, firedCount = 0;
        bool failed = false;
        for (const AlertDefinition &alert : alerts) {
            if (!alert.enabled || (!all && !dirty.contains(alert.slug.toLower())))
                continue;
            QString error;
            const auto result = Alerts::evaluate(*m_workspace, alert, &error);
            ++evaluatedCount;
            if (!result) {
                failed = true;
                report(QStringLiteral("Alert “%1” (%2): %3").arg(alert.name, alert.slug, error));
                continue;
            }
            for (const AlertFiring &firing : result->fired) {
                ++firedCount;
                qCInfo(lcAlerts).noquote() << "alert" << alert.name << "fired:" << Alerts::notificationText(alert, firing);
                emit fired(alert, firing);
                if (!alert.webhookUrl.isEmpty())
                    send(QUrl(alert.webhookUrl), Alerts::webhookBody(alert, firing), firing.id, 1);
            }
        }
        if (!failed)
            m_lastProblem.clear();
        emit evaluated(evaluatedCount, firedCount);
    }

    void send(const QUrl &url, const QByteArray &body, qint64 firingId, int attempt)
    {
        QNetworkRequest request(url);
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        request.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("Meterdesk-Alerts/" MDK_VERSION));
        request.setRawHeader("X-Meterdesk-Firing", QByteArray::number(firingId));
        ++m_inFlight;
        QNetworkReply *reply = m_network->post(request, body);
        // Our own timer rather than setTransferTimeout: a timeout must be told apart
        // from any other abort.
        auto *timer = new QTimer(reply);
        timer->setSingleShot(true);
        connect(timer, &QTimer::timeout, reply, [reply] {
            reply->setProperty("mdkTimedOut", true);
            reply->abort();
        });
        timer->start(m_options.webhookTimeoutMs);
        connect(reply, &QNetworkReply::finished, this, [this, reply, url, body, firingId, attempt] {
            reply->deleteLater();
            --m_inFlight;
            const int status = outcome(reply);
            if (!Alerts::webhookDelivered(status) && attempt == 1 && !m_draining) {
                qCInfo(lcAlerts) << "webhook for firing" << firingId << "failed with" << status << "- retrying once";
                ++m_inFlight; // the retry is pending: a drain waits for it
                QTimer::singleShot(m_options.retryDelayMs, this, [this, url, body, firingId, status] {
                    --m_inFlight;
                    if (m_draining) // shutting down: the first attempt's outcome stands
                        finish(firingId, status);
                    else
                        send(url, body, firingId, 2);
                });
                return;
            }
            finish(firingId, status);
        });
    }

    static int outcome(QNetworkReply *reply)
    {
        if (reply->property("mdkTimedOut").toBool())
            return Alerts::WebhookTimedOut;
        const QVariant http = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
        if (http.isValid() && http.toInt() > 0)
            return http.toInt();
        switch (reply->error()) {
        case QNetworkReply::ConnectionRefusedError:
        case QNetworkReply::HostNotFoundError:
        case QNetworkReply::RemoteHostClosedError:
        case QNetworkReply::NetworkSessionFailedError:
        case QNetworkReply::TemporaryNetworkFailureError:
        case QNetworkReply::UnknownNetworkError:
            return Alerts::WebhookUnreachable;
        case QNetworkReply::TimeoutError:
            return Alerts::WebhookTimedOut;
        default:
            return Alerts::WebhookFailed;
        }
    }

    void finish(qint64 firingId, int status)
    {
        record(firingId, status);
        if (m_draining && m_inFlight == 0)
            thread()->quit();
    }

    void record(qint64 firingId, int status)
    {
        QString error;
        if (!ensureOpen() || !Alerts::setWebhookStatus(*m_workspace, firingId, status, &error))
            report(QStringLiteral("Alerts: cannot store the webhook status of firing %1: %2").arg(firingId).arg(error));
        emit webhookFinished(firingId, status);
    }

    const QString m_location;
    const AlertMonitor::Options m_options;
    std::unique_ptr<Workspace> m_workspace;
    QTimer *m_debounce = nullptr;
    QTimer *m_poll = nullptr;
    QNetworkAccessManager *m_network = nullptr;
    QSet<QString> m_dirty;
    bool m_all = false;
    bool m_draining = false;
    int m_inFlight = 0;
    QString m_lastProblem;
};

AlertMonitor::AlertMonitor(QString location, QObject *parent) : AlertMonitor(std::move(location), Options{}, parent) {}

AlertMonitor::AlertMonitor(QString location, Options options, QObject *parent)
    : QObject(parent), m_location(std::move(location)), m_options(options)
{
}

AlertMonitor::~AlertMonitor()
{
    stop();
}

void AlertMonitor::start()
{
    if (m_thread)
        return;
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("alerts"));
    m_worker = new AlertWorker(m_location, m_options);
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::started, m_worker, &AlertWorker::begin);
    // The worker (and its Workspace connection) goes on its own thread.
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &AlertWorker::fired, this, &AlertMonitor::fired);
    connect(m_worker, &AlertWorker::webhookFinished, this, &AlertMonitor::webhookFinished);
    connect(m_worker, &AlertWorker::evaluated, this, &AlertMonitor::evaluated);
    connect(m_worker, &AlertWorker::problem, this, &AlertMonitor::problem);
    m_thread->start();
}

void AlertMonitor::stop()
{
    if (!m_thread)
        return;
    QMetaObject::invokeMethod(m_worker, &AlertWorker::drain, Qt::QueuedConnection);
    // Webhooks in flight: their timeout bounds the wait; then the thread is told to end.
    if (!m_thread->wait(m_options.webhookTimeoutMs + 2000)) {
        qCWarning(lcAlerts) << "webhooks still in flight at exit; their firings stay marked as sending";
        m_thread->quit();
        m_thread->wait();
    }
    delete m_thread;
    m_thread = nullptr;
    m_worker = nullptr;
}

void AlertMonitor::rowsCommitted(const QString &slug)
{
    if (m_worker)
        m_worker->committedSlugs.add([&slug](QSet<QString> &slugs) { slugs.insert(slug); });
}

void AlertMonitor::checkNow()
{
    if (m_worker)
        QMetaObject::invokeMethod(m_worker, &AlertWorker::markAll, Qt::QueuedConnection);
}

} // namespace meterdesk

#include "alertmonitor.moc"
