#pragma once

#include "alerts.h"

#include <QObject>
#include <QString>

class QThread;

namespace meterdesk {

class AlertWorker;

// Usage alerts at work (docs/METERS.md, "Alerts"): a thread of its own with its own
// Workspace evaluates the enabled alerts after the endpoint commits rows (debounced,
// only the alerts of the usage events that changed), once at start (rows that came
// while it was not running) and every poll interval (rows written by another node or
// process). Each crossing is recorded once (Alerts::evaluate), reported by fired(),
// and POSTed as JSON to the alert's webhook, if any: timeout, one retry, the outcome
// stored in the firing's webhook_status. Used by the GUI and by headless mode.
// The object lives on the thread that creates it; its signals arrive there.
class AlertMonitor : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int debounceMs = 250;          // commits within this time make one evaluation
        int pollMs = 30000;            // evaluate everything this often (0: never)
        int webhookTimeoutMs = 10000;  // per attempt
        int retryDelayMs = 2000;       // before the one retry
    };

    explicit AlertMonitor(QString location, QObject *parent = nullptr);
    explicit AlertMonitor(QString location, Options options, QObject *parent = nullptr);
    ~AlertMonitor() override;

    void start();
    // Stops evaluating, lets webhooks in flight finish (bounded by their timeout),
    // ends the thread. Blocks. Safe to call twice.
    void stop();
    bool isRunning() const { return m_thread != nullptr; }

public slots:
    // The endpoint committed rows of `slug`: evaluate its alerts soon.
    void rowsCommitted(const QString &slug);
    // Evaluate every enabled alert now.
    void checkNow();

signals:
    // A crossing was recorded (by this monitor: once per alert, customer and window).
    void fired(const meterdesk::AlertDefinition &alert, const meterdesk::AlertFiring &firing);
    // The webhook's outcome for a firing, as stored (Alerts::WebhookStatus or HTTP status).
    void webhookFinished(qint64 firingId, int status);
    // After each evaluation pass: alerts evaluated, firings recorded.
    void evaluated(int alerts, int fired);
    // A pass failed (database gone, a usage event changed under an alert); logged too.
    void problem(const QString &message);

private:
    QString m_location;
    Options m_options;
    QThread *m_thread = nullptr;
    AlertWorker *m_worker = nullptr;
};

} // namespace meterdesk
