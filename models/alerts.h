#pragma once

#include "aggregate.h"
#include "problem.h"
#include "usageevent.h"

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QString>

#include <optional>

namespace meterdesk {

class Workspace;

// A usage alert (docs/METERS.md, "Alerts"): one aggregate of one usage event per
// customer and calendar window, compared with a threshold, e.g.
// SUM(cpu_usage_hours_per_day) per month > 300. A plain value.
struct AlertDefinition
{
    enum class Comparison { Above, AtLeast }; // ">" and ">="

    qint64 id = 0;
    QString slug;                  // the usage event
    QString name;
    QString field;                 // a schema field path; empty: COUNT of rows
    Aggregate::Function function = Aggregate::Function::Sum;
    Aggregate::Window window = Aggregate::Window::Month;
    QString timeZone = QStringLiteral("UTC"); // IANA id: where a day or a month starts
    Comparison comparison = Comparison::Above;
    QString threshold;             // exact decimal text, canonical once saved
    QString webhookUrl;            // http(s)://…, or empty: no webhook
    bool enabled = true;
    qint64 lastRowId = 0;          // rows up to this id have been evaluated
    qint64 createdAtUs = 0;

    static QString comparisonSymbol(Comparison c) { return c == Comparison::AtLeast ? QStringLiteral(">=") : QStringLiteral(">"); }
    static std::optional<Comparison> comparisonFromSymbol(QStringView s);
    // "SUM(cpu_usage_hours_per_day) per month > 300" (time zone added when not UTC).
    QString ruleText() const;
};

// One crossing: an alert's aggregate for one customer and one window passed the
// threshold. Recorded once (UNIQUE (alert, customer, window)), kept as history.
struct AlertFiring
{
    qint64 id = 0;
    qint64 alertId = 0;
    QString customerId;
    qint64 windowStartUs = 0;
    QString value;                 // exact, as the aggregate gave it
    qint64 firedAtUs = 0;
    std::optional<int> webhookStatus; // see Alerts::WebhookStatus
};

// Alert definitions, their firings and their evaluation. Synchronous; each caller
// uses its own thread's Workspace (the Alerts tab: the GUI's short calls on small
// tables; the monitor: its own thread).
namespace Alerts {

// alert_firings.webhook_status: empty (NULL) when the alert has no webhook, an HTTP
// status when the receiver answered, else one of these.
enum WebhookStatus : int {
    WebhookSending = 0,
    WebhookUnreachable = -1,       // refused, host not found, network down
    WebhookTimedOut = -2,
    WebhookFailed = -3,            // TLS or another transport error
};
bool webhookDelivered(const std::optional<int> &status); // 2xx
QString webhookStatusText(const std::optional<int> &status); // "200", "no webhook", "timed out", …

// Every problem of `alert` against its usage event, pointers being the form's field
// names: "name", "field", "function", "timeZone", "threshold", "comparison",
// "webhookUrl". The function must suit the field (Aggregate::accepts) and give a
// number (LATEST of a text field does not); the threshold is an exact decimal.
Problems validate(const AlertDefinition &alert, const UsageEventDefinition &definition);

// create() validates, canonicalises the threshold and starts the alert at the
// event's newest row: only events ingested from now on are evaluated (a window
// already over the threshold fires with its next event). Sets id and lastRowId.
Problems create(Workspace &workspace, AlertDefinition &alert);
// Changes the rule, name, webhook and enabled state; keeps the evaluation position
// and the firing history (a window that fired does not fire again).
Problems update(Workspace &workspace, AlertDefinition &alert);
bool setEnabled(Workspace &workspace, qint64 id, bool enabled, QString *error);
bool remove(Workspace &workspace, qint64 id, QString *error); // with its firings

QList<AlertDefinition> list(const Workspace &workspace, const QString &slug = {}, bool *ok = nullptr);
std::optional<AlertDefinition> get(const Workspace &workspace, qint64 id);
// Newest first.
QList<AlertFiring> firings(const Workspace &workspace, qint64 alertId, int limit = 1000);
bool setWebhookStatus(Workspace &workspace, qint64 firingId, int status, QString *error);

// The exact comparison of an aggregate's value with a threshold (both decimal text;
// a value beyond Decimal's 38 digits is compared as a double).
bool crosses(const QString &value, AlertDefinition::Comparison comparison, const QString &threshold);

struct Evaluation
{
    QList<AlertFiring> fired;      // recorded by this call (another node's are not)
    qint64 lastRowId = 0;
    qint64 rowsRead = 0;
    int windowsChecked = 0;
};

// Reads the event's rows with id > alert.lastRowId (in pages), finds the affected
// (customer, window) pairs, computes the aggregate of exactly those with
// Aggregate::run and records a firing for each that crosses the threshold. The
// INSERT is guarded by the UNIQUE constraint, so a crossing fires once even across
// restarts or with two nodes evaluating at once. Advances last_row_id (never backwards).
// Empty with *error when the database or the aggregate fails (nothing advanced).
std::optional<Evaluation> evaluate(Workspace &workspace, const AlertDefinition &alert, QString *error);

// The window as people read it, in the alert's time zone: "2023-05" (month),
// "2023-05-21" (day), "2023-05-21 09:00" (hour); and its start as ISO 8601 with the
// zone's offset ("2023-05-01T00:00:00Z", "2023-05-01T00:00:00+02:00").
QString windowLabel(const AlertDefinition &alert, qint64 windowStartUs);
QString windowStartIso(const AlertDefinition &alert, qint64 windowStartUs);

// One line for a notification: "[email protected]: SUM(cpu_usage_hours_per_day) = 305 in
// 2023-05 (threshold > 300)".
QString notificationText(const AlertDefinition &alert, const AlertFiring &firing);

// The webhook's JSON body: {"alert", "alert_id", "slug", "customer_id", "field",
// "fn", "window", "window_start", "value", "threshold", "fired_at"}; value and
// threshold are JSON numbers written exactly as stored.
QByteArray webhookBody(const AlertDefinition &alert, const AlertFiring &firing);

} // namespace Alerts
} // namespace meterdesk

Q_DECLARE_METATYPE(meterdesk::AlertDefinition)
Q_DECLARE_METATYPE(meterdesk::AlertFiring)
