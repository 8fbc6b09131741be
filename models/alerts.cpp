#include "alerts.h"

#include "decimal.h"
#include "sqldialect.h"
#include "timestamp.h"
#include "workspace.h"

#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMap>
#include <QRegularExpression>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimeZone>
#include <QUrl>

namespace meterdesk {

std::optional<AlertDefinition::Comparison> AlertDefinition::comparisonFromSymbol(QStringView s)
{
    const QStringView t = s.trimmed();
    if (t == u">")
        return Comparison::Above;
    if (t == u">=" || t == u"≥")
        return Comparison::AtLeast;
    return std::nullopt;
}

QString AlertDefinition::ruleText() const
{
    QString text = QStringLiteral("%1(%2) per %3 %4 %5")
                       .arg(Aggregate::functionTitle(function), field.isEmpty() ? QStringLiteral("*") : field,
                            Aggregate::windowName(window), comparisonSymbol(comparison), threshold);
    if (!timeZone.isEmpty() && timeZone != QLatin1String("UTC"))
        text += QStringLiteral(" (%1)").arg(timeZone);
    return text;
}

namespace Alerts {

namespace {

constexpr int kPageRows = 20000;   // rows read per page while finding affected windows
constexpr int kMaxNameLength = 200;
constexpr int kMaxUrlLength = 2000;

const QString kSelectAlerts = QStringLiteral(
    "SELECT id, slug, name, field, fn, window_kind, tz, comparison, threshold, webhook_url, enabled, "
    "last_row_id, created_at FROM alerts");

AlertDefinition alertFrom(const QSqlQuery &q)
{
    AlertDefinition a;
    a.id = q.value(0).toLongLong();
    a.slug = q.value(1).toString();
    a.name = q.value(2).toString();
    a.field = q.value(3).toString();
    a.function = Aggregate::functionFromName(q.value(4).toString()).value_or(Aggregate::Function::Sum);
    a.window = Aggregate::windowFromName(q.value(5).toString()).value_or(Aggregate::Window::Month);
    a.timeZone = q.value(6).toString();
    a.comparison = AlertDefinition::comparisonFromSymbol(q.value(7).toString()).value_or(AlertDefinition::Comparison::Above);
    a.threshold = q.value(8).toString();
    a.webhookUrl = q.value(9).toString();
    a.enabled = q.value(10).toLongLong() != 0;
    a.lastRowId = q.value(11).toLongLong();
    a.createdAtUs = q.value(12).toLongLong();
    return a;
}

QTimeZone zoneOf(const QString &id)
{
    if (id.isEmpty() || id == QLatin1String("UTC"))
        return QTimeZone::utc();
    return QTimeZone(id.toUtf8());
}

// A value as exact decimal text comparable with Decimal::compare, when it is one.
std::optional<QByteArray> exactNumber(const QString &text)
{
    const QByteArray bytes = text.trimmed().toLatin1();
    if (auto c = Decimal::canonical(bytes))
        return c;
    // Beyond MaxDigits (a long exact sum): plain decimal text compares as it is.
    static const QRegularExpression plain(QStringLiteral("^-?(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?$"));
    if (plain.match(QString::fromLatin1(bytes)).hasMatch())
        return bytes;
    return std::nullopt;
}

// Text columns are NOT NULL: a null QString would bind as NULL.
QString text(const QString &s)
{
    return s.isNull() ? QStringLiteral("") : s;
}

// A JSON string literal, escaped as QJsonDocument does.
QByteArray jsonString(const QString &s)
{
    QByteArray a = QJsonDocument(QJsonArray{s}).toJson(QJsonDocument::Compact);
    return a.mid(1, a.size() - 2);
}

// A JSON number written exactly, or the text as a string when it is not a number.
QByteArray jsonNumber(const QString &s)
{
    if (auto n = exactNumber(s))
        return *n;
    return jsonString(s);
}

std::optional<qint64> maxRowId(Workspace &ws, const UsageEventDefinition &d, QString *error)
{
    QSqlQuery q(ws.database());
    if (!q.exec(QStringLiteral("SELECT max(id) FROM %1").arg(SqlDialect::quote(d.tableName()))) || !q.next()) {
        *error = q.lastError().text();
        return std::nullopt;
    }
    return q.value(0).isNull() ? 0 : q.value(0).toLongLong();
}

} // namespace

bool webhookDelivered(const std::optional<int> &status)
{
    return status && *status >= 200 && *status < 300;
}

QString webhookStatusText(const std::optional<int> &status)
{
    if (!status)
        return QStringLiteral("no webhook");
    switch (*status) {
    case WebhookSending:
        return QStringLiteral("sending…");
    case WebhookUnreachable:
        return QStringLiteral("failed: receiver unreachable");
    case WebhookTimedOut:
        return QStringLiteral("failed: timed out");
    case WebhookFailed:
        return QStringLiteral("failed: network error");
    default:
        break;
    }
    return webhookDelivered(status) ? QStringLiteral("delivered (HTTP %1)").arg(*status)
                                    : QStringLiteral("failed: HTTP %1").arg(*status);
}

Problems validate(const AlertDefinition &a, const UsageEventDefinition &d)
{
    Problems problems;
    const auto add = [&problems](ProblemCode code, const char *pointer, const QString &message) {
        problems.append({code, QString::fromLatin1(pointer), message});
    };
    if (a.name.trimmed().isEmpty())
        add(ProblemCode::InvalidName, "name", QStringLiteral("Give the alert a name."));
    else if (a.name.size() > kMaxNameLength)
        add(ProblemCode::InvalidName, "name", QStringLiteral("The name is longer than %1 characters.").arg(kMaxNameLength));

    const SchemaField *field = a.field.isEmpty() ? nullptr : d.schema.field(a.field);
    if (!a.field.isEmpty() && !field) {
        add(ProblemCode::InvalidName, "field",
            QStringLiteral("“%1” is not a field of %2.").arg(a.field, d.slug.isEmpty() ? QStringLiteral("this usage event") : d.slug));
    } else {
        QString why;
        if (!Aggregate::accepts(d, a.field, a.function, &why))
            add(ProblemCode::TypeMismatch, "function",
                why.isEmpty() ? QStringLiteral("%1 cannot be computed on this field.").arg(Aggregate::functionTitle(a.function)) : why);
        else if (!Aggregate::isNumeric(d, a.field, a.function))
            add(ProblemCode::TypeMismatch, "function",
                QStringLiteral("%1 of a %2 field is not a number; an alert compares a number with its threshold.")
                    .arg(Aggregate::functionTitle(a.function), FieldTypes::name(field ? field->type : FieldType::String)));
    }

    if (!a.timeZone.isEmpty() && a.timeZone != QLatin1String("UTC") && !QTimeZone(a.timeZone.toUtf8()).isValid())
        add(ProblemCode::InvalidName, "timeZone",
            QStringLiteral("“%1” is not a time zone; use an IANA name such as Europe/Berlin, or UTC.").arg(a.timeZone));

    if (a.threshold.trimmed().isEmpty())
        add(ProblemCode::RequiredField, "threshold", QStringLiteral("Give a threshold, e.g. 300."));
    else if (!Decimal::canonical(a.threshold.trimmed().toLatin1()))
        add(ProblemCode::TypeMismatch, "threshold",
            QStringLiteral("The threshold must be a number such as 300 or 12.5 (at most %1 digits).").arg(Decimal::MaxDigits));

    if (!a.webhookUrl.trimmed().isEmpty()) {
        const QUrl url(a.webhookUrl.trimmed(), QUrl::StrictMode);
        const QString scheme = url.scheme().toLower();
        if (!url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https")) || url.host().isEmpty())
            add(ProblemCode::TypeMismatch, "webhookUrl",
                QStringLiteral("The webhook must be an http:// or https:// address, e.g. https://example.com/hooks/usage; "
                               "leave it empty for no webhook."));
        else if (a.webhookUrl.size() > kMaxUrlLength)
            add(ProblemCode::OutOfRange, "webhookUrl", QStringLiteral("The webhook address is too long."));
    }
    return problems;
}

namespace {

// Checks against the stored usage event and brings the texts to their stored form.
Problems prepare(Workspace &ws, AlertDefinition &a)
{
    const auto d = ws.definition(a.slug);
    if (!d)
        return {{ProblemCode::InvalidName, QStringLiteral("slug"), QStringLiteral("No usage event “%1”.").arg(a.slug)}};
    a.slug = d->slug;
    a.name = a.name.trimmed();
    a.webhookUrl = a.webhookUrl.trimmed();
    a.threshold = a.threshold.trimmed();
    if (a.timeZone.trimmed().isEmpty())
        a.timeZone = QStringLiteral("UTC");
    a.timeZone = a.timeZone.trimmed();
    Problems problems = validate(a, *d);
    if (problems.isEmpty())
        a.threshold = QString::fromLatin1(*Decimal::canonical(a.threshold.toLatin1()));
    return problems;
}

Problems databaseProblem(const QSqlQuery &q)
{
    return {{ProblemCode::InvalidName, QString(), QStringLiteral("The database refused the change: %1").arg(q.lastError().text())}};
}

// The fields a person edits, in this order: name, field, fn, window_kind, tz,
// comparison, threshold, webhook_url, enabled (create and update bind them alike).
void bindEditable(QSqlQuery &q, const AlertDefinition &a)
{
    q.addBindValue(text(a.name));
    q.addBindValue(text(a.field));
    q.addBindValue(Aggregate::functionName(a.function));
    q.addBindValue(Aggregate::windowName(a.window));
    q.addBindValue(text(a.timeZone));
    q.addBindValue(AlertDefinition::comparisonSymbol(a.comparison));
    q.addBindValue(text(a.threshold));
    q.addBindValue(text(a.webhookUrl));
    q.addBindValue(a.enabled ? 1 : 0);
}

} // namespace

Problems create(Workspace &ws, AlertDefinition &a)
{
    Problems problems = prepare(ws, a);
    if (!problems.isEmpty())
        return problems;
    QString error;
    const auto start = maxRowId(ws, *ws.definition(a.slug), &error);
    if (!start)
        return {{ProblemCode::InvalidName, QString(), QStringLiteral("Cannot read %1: %2").arg(a.slug, error)}};
    a.lastRowId = *start;
    a.createdAtUs = Workspace::nowUs();
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("INSERT INTO alerts (name, field, fn, window_kind, tz, comparison, threshold, webhook_url, "
                             "enabled, slug, last_row_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                             "RETURNING id"));
    bindEditable(q, a);
    q.addBindValue(text(a.slug));
    q.addBindValue(a.lastRowId);
    q.addBindValue(a.createdAtUs);
    if (!q.exec() || !q.next())
        return databaseProblem(q);
    a.id = q.value(0).toLongLong();
    return {};
}

Problems update(Workspace &ws, AlertDefinition &a)
{
    Problems problems = prepare(ws, a);
    if (!problems.isEmpty())
        return problems;
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("UPDATE alerts SET name = ?, field = ?, fn = ?, window_kind = ?, tz = ?, comparison = ?, "
                             "threshold = ?, webhook_url = ?, enabled = ? WHERE id = ?"));
    bindEditable(q, a);
    q.addBindValue(a.id);
    if (!q.exec())
        return databaseProblem(q);
    if (q.numRowsAffected() != 1)
        return {{ProblemCode::InvalidName, QString(), QStringLiteral("The alert no longer exists.")}};
    return {};
}

bool setEnabled(Workspace &ws, qint64 id, bool enabled, QString *error)
{
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("UPDATE alerts SET enabled = ? WHERE id = ?"));
    q.addBindValue(enabled ? 1 : 0);
    q.addBindValue(id);
    if (!q.exec()) {
        *error = q.lastError().text();
        return false;
    }
    if (q.numRowsAffected() != 1) {
        *error = QStringLiteral("No alert with id %1.").arg(id);
        return false;
    }
    return true;
}

bool remove(Workspace &ws, qint64 id, QString *error)
{
    if (!ws.beginWrite(error))
        return false;
    QSqlQuery firingsGone(ws.database());
    firingsGone.prepare(QStringLiteral("DELETE FROM alert_firings WHERE alert_id = ?"));
    firingsGone.addBindValue(id);
    QSqlQuery alertGone(ws.database());
    alertGone.prepare(QStringLiteral("DELETE FROM alerts WHERE id = ?"));
    alertGone.addBindValue(id);
    if (!firingsGone.exec() || !alertGone.exec()) {
        *error = (firingsGone.lastError().isValid() ? firingsGone : alertGone).lastError().text();
        ws.rollback();
        return false;
    }
    return ws.commit(error);
}

QList<AlertDefinition> list(const Workspace &ws, const QString &slug, bool *ok)
{
    QList<AlertDefinition> alerts;
    QSqlQuery q(ws.database());
    q.setForwardOnly(true);
    if (slug.isEmpty()) {
        q.prepare(kSelectAlerts + QStringLiteral(" ORDER BY id"));
    } else {
        q.prepare(kSelectAlerts + QStringLiteral(" WHERE lower(slug) = ? ORDER BY id"));
        q.addBindValue(slug.toLower());
    }
    const bool done = q.exec();
    if (ok)
        *ok = done;
    while (done && q.next())
        alerts.append(alertFrom(q));
    return alerts;
}

std::optional<AlertDefinition> get(const Workspace &ws, qint64 id)
{
    QSqlQuery q(ws.database());
    q.prepare(kSelectAlerts + QStringLiteral(" WHERE id = ?"));
    q.addBindValue(id);
    if (q.exec() && q.next())
        return alertFrom(q);
    return std::nullopt;
}

QList<AlertFiring> firings(const Workspace &ws, qint64 alertId, int limit)
{
    QList<AlertFiring> out;
    QSqlQuery q(ws.database());
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT id, alert_id, customer_id, window_start, value, fired_at, webhook_status "
                             "FROM alert_firings WHERE alert_id = ? ORDER BY fired_at DESC, id DESC LIMIT ?"));
    q.addBindValue(alertId);
    q.addBindValue(limit);
    if (!q.exec())
        return out;
    while (q.next()) {
        AlertFiring f;
        f.id = q.value(0).toLongLong();
        f.alertId = q.value(1).toLongLong();
        f.customerId = q.value(2).toString();
        f.windowStartUs = q.value(3).toLongLong();
        f.value = q.value(4).toString();
        f.firedAtUs = q.value(5).toLongLong();
        if (!q.value(6).isNull())
            f.webhookStatus = q.value(6).toInt();
        out.append(f);
    }
    return out;
}

bool setWebhookStatus(Workspace &ws, qint64 firingId, int status, QString *error)
{
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("UPDATE alert_firings SET webhook_status = ? WHERE id = ?"));
    q.addBindValue(status);
    q.addBindValue(firingId);
    if (q.exec())
        return true;
    *error = q.lastError().text();
    return false;
}

bool crosses(const QString &value, AlertDefinition::Comparison comparison, const QString &threshold)
{
    int c = 0;
    const auto v = exactNumber(value), t = exactNumber(threshold);
    if (v && t) {
        c = Decimal::compare(*v, *t);
    } else {
        bool okV = false, okT = false;
        const double dv = value.toDouble(&okV), dt = threshold.toDouble(&okT);
        if (!okV || !okT)
            return false;
        c = dv < dt ? -1 : (dv > dt ? 1 : 0);
    }
    return comparison == AlertDefinition::Comparison::AtLeast ? c >= 0 : c > 0;
}

std::optional<Evaluation> evaluate(Workspace &ws, const AlertDefinition &alert, QString *error)
{
    Evaluation result;
    result.lastRowId = alert.lastRowId;
    const auto definition = ws.definition(alert.slug);
    if (!definition) {
        *error = QStringLiteral("The usage event %1 no longer exists.").arg(alert.slug);
        return std::nullopt;
    }
    const QTimeZone zone = zoneOf(alert.timeZone);

    // 1. The (window, customer) pairs the new rows touch.
    QMap<qint64, QSet<QString>> customersByWindow;
    {
        QSqlQuery q(ws.database());
        q.setForwardOnly(true);
        q.prepare(QStringLiteral("SELECT id, customer_id, \"timestamp\" FROM %1 WHERE id > ? ORDER BY id LIMIT %2")
                      .arg(SqlDialect::quote(definition->tableName()))
                      .arg(kPageRows));
        for (;;) {
            q.bindValue(0, result.lastRowId);
            if (!q.exec()) {
                *error = q.lastError().text();
                return std::nullopt;
            }
            int n = 0;
            while (q.next()) {
                ++n;
                result.lastRowId = q.value(0).toLongLong();
                const qint64 start = Aggregate::windowStart(q.value(2).toLongLong(), alert.window, zone);
                customersByWindow[start].insert(q.value(1).toString());
            }
            result.rowsRead += n;
            if (n < kPageRows)
                break;
        }
    }
    if (result.lastRowId == alert.lastRowId)
        return result;

    // 2. The aggregate of exactly those pairs, compared with the threshold (reads only).
    struct Crossing { QString customer; qint64 windowStart; QString value; };
    QList<Crossing> crossings;
    for (auto it = customersByWindow.cbegin(); it != customersByWindow.cend(); ++it) {
        Aggregate::Query query;
        query.definition = *definition;
        query.field = alert.field;
        query.function = alert.function;
        query.window = alert.window;
        query.zone = zone;
        query.fromUs = it.key();
        query.toUs = Aggregate::nextWindowStart(it.key(), alert.window, zone);
        query.customers = QStringList(it.value().cbegin(), it.value().cend());
        query.customers.sort();
        const auto run = Aggregate::run(ws, query, error);
        if (!run)
            return std::nullopt;
        ++result.windowsChecked;
        for (const Aggregate::Cell &cell : run->cells) {
            if (cell.windowStartUs == it.key() && crosses(cell.value, alert.comparison, alert.threshold))
                crossings.append({cell.customerId, cell.windowStartUs, cell.value});
        }
    }

    // 3. One short write: the crossings not recorded yet, and the new position.
    if (!ws.beginWrite(error))
        return std::nullopt;
    QSqlQuery insert(ws.database());
    insert.prepare(QStringLiteral("INSERT INTO alert_firings (alert_id, customer_id, window_start, value, fired_at, "
                                  "webhook_status) VALUES (?, ?, ?, ?, ?, ?) "
                                  "ON CONFLICT (alert_id, customer_id, window_start) DO NOTHING RETURNING id"));
    const qint64 now = Workspace::nowUs();
    for (const Crossing &c : std::as_const(crossings)) {
        insert.bindValue(0, alert.id);
        insert.bindValue(1, c.customer);
        insert.bindValue(2, c.windowStart);
        insert.bindValue(3, c.value);
        insert.bindValue(4, now);
        insert.bindValue(5, alert.webhookUrl.isEmpty() ? QVariant(QMetaType(QMetaType::Int)) : QVariant(int(WebhookSending)));
        if (!insert.exec()) {
            *error = insert.lastError().text();
            ws.rollback();
            return std::nullopt;
        }
        if (insert.next()) { // a row came back: this call recorded the crossing
            AlertFiring f;
            f.id = insert.value(0).toLongLong();
            f.alertId = alert.id;
            f.customerId = c.customer;
            f.windowStartUs = c.windowStart;
            f.value = c.value;
            f.firedAtUs = now;
            if (!alert.webhookUrl.isEmpty())
                f.webhookStatus = WebhookSending;
            result.fired.append(f);
        }
        insert.finish();
    }
    QSqlQuery advance(ws.database());
    advance.prepare(QStringLiteral("UPDATE alerts SET last_row_id = ? WHERE id = ? AND last_row_id < ?"));
    advance.addBindValue(result.lastRowId);
    advance.addBindValue(alert.id);
    advance.addBindValue(result.lastRowId);
    if (!advance.exec()) {
        *error = advance.lastError().text();
        ws.rollback();
        return std::nullopt;
    }
    if (!ws.commit(error)) {
        ws.rollback();
        return std::nullopt;
    }
    return result;
}

QString windowLabel(const AlertDefinition &alert, qint64 windowStartUs)
{
    const QDateTime t = QDateTime::fromMSecsSinceEpoch(windowStartUs / 1000, zoneOf(alert.timeZone));
    switch (alert.window) {
    case Aggregate::Window::Hour:
        return t.toString(QStringLiteral("yyyy-MM-dd HH:00"));
    case Aggregate::Window::Day:
        return t.toString(QStringLiteral("yyyy-MM-dd"));
    case Aggregate::Window::Month:
        break;
    }
    return t.toString(QStringLiteral("yyyy-MM"));
}

QString windowStartIso(const AlertDefinition &alert, qint64 windowStartUs)
{
    const QTimeZone zone = zoneOf(alert.timeZone);
    if (zone == QTimeZone::utc()) // "…Z", not "…+00:00"
        return QDateTime::fromMSecsSinceEpoch(windowStartUs / 1000, Qt::UTC).toString(Qt::ISODate);
    return QDateTime::fromMSecsSinceEpoch(windowStartUs / 1000, zone).toString(Qt::ISODate);
}

QString notificationText(const AlertDefinition &a, const AlertFiring &f)
{
    return QStringLiteral("%1: %2(%3) = %4 in %5 (threshold %6 %7)")
        .arg(f.customerId, Aggregate::functionTitle(a.function), a.field.isEmpty() ? QStringLiteral("*") : a.field, f.value,
             windowLabel(a, f.windowStartUs), AlertDefinition::comparisonSymbol(a.comparison), a.threshold);
}

QByteArray webhookBody(const AlertDefinition &a, const AlertFiring &f)
{
    QByteArray out = "{";
    const auto field = [&out](const char *key, const QByteArray &json) {
        if (out.size() > 1)
            out += ',';
        out += '"';
        out += key;
        out += "\":";
        out += json;
    };
    field("alert", jsonString(a.name));
    field("alert_id", QByteArray::number(a.id));
    field("slug", jsonString(a.slug));
    field("customer_id", jsonString(f.customerId));
    field("field", jsonString(a.field));
    field("fn", jsonString(Aggregate::functionName(a.function)));
    field("window", jsonString(Aggregate::windowName(a.window)));
    field("window_start", jsonString(windowStartIso(a, f.windowStartUs)));
    field("value", jsonNumber(f.value));
    field("threshold", jsonNumber(a.threshold));
    field("fired_at", jsonString(Timestamp::toIso(f.firedAtUs)));
    out += '}';
    return out;
}

} // namespace Alerts
} // namespace meterdesk
