// scripts/screenshots: drives the real desktop app (DesktopApp, the same composition
// as `meterdesk`) on a scratch workspace and saves each page as a PNG.
// Usage: meterdesk_screenshots OUTPUT_DIR   (any platform; scripts/screenshots uses offscreen)
#include "alertstab.h"
#include "apikeys.h"
#include "charttab.h"
#include "consolepage.h"
#include "runnerpanel.h"
#include "desktopapp.h"
#include "eventpage.h"
#include "ingestservice.h"
#include "mainwindow.h"
#include "usageeventform.h"
#include "usageeventspage.h"
#include "workspaceservice.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace meterdesk;

namespace {
bool save(QWidget *w, const QString &dir, const QString &name)
{
    QTest::qWait(200);
    const QString path = QDir(dir).filePath(name);
    const bool ok = w->grab().save(path);
    qInfo("%s %s", ok ? "wrote" : "FAILED", qPrintable(path));
    return ok;
}
} // namespace

int main(int argc, char **argv)
{
    QApplication qapp(argc, argv);
    QStandardPaths::setTestModeEnabled(true); // keep the user's settings untouched
    QCoreApplication::setApplicationName(QStringLiteral("meterdesk-screenshots"));
    if (argc < 2) {
        qCritical("usage: meterdesk_screenshots OUTPUT_DIR");
        return 2;
    }
    const QString out = QString::fromLocal8Bit(argv[1]);
    QDir().mkpath(out);
    QTemporaryDir dir;
    QString error;
    auto app = DesktopApp::create(dir.filePath(QStringLiteral("demo.db")), QStringLiteral("127.0.0.1:0"), &error);
    if (!app) {
        qCritical("%s", qPrintable(error));
        return 1;
    }
    QSignalSpy started(&app->endpoint(), &IngestService::started);
    app->start();
    app->window().resize(1100, 680);
    if (started.isEmpty() && !started.wait(5000)) // it may come while the window is exposed
        return 1;
    bool ok = save(&app->window(), out, QStringLiteral("usage-events-empty.png"));

    // The form, filled the way a user would: name typed, slug derived, sample inferred.
    app->usageEventsPage()->addUsageEvent();
    QTest::qWait(100);
    auto *form = app->window().findChild<UsageEventForm *>();
    if (!form)
        return 1;
    QTest::keyClicks(form->findChild<QLineEdit *>(QStringLiteral("name")), QStringLiteral("API calls per region"));
    form->findChild<QPlainTextEdit *>(QStringLiteral("sampleJson"))
        ->setPlainText(QStringLiteral("{\"calls\": 120, \"region\": \"eu-west-1\", \"plan\": {\"tier\": \"pro\"}, \"billable\": true}"));
    QTest::mouseClick(form->findChild<QPushButton *>(QStringLiteral("inferButton")), Qt::LeftButton);
    ok = save(form, out, QStringLiteral("add-usage-event-form.png")) && ok;
    QTest::mouseClick(form->findChild<QPushButton *>(QStringLiteral("save")), Qt::LeftButton);
    QTest::qWait(100);

    // The seed's example, a key, and a few events through the real endpoint.
    app->usageEventsPage()->tryExample();
    const auto key = app->service().createKey(QStringLiteral("laptop"), &error);
    QNetworkAccessManager nam;
    int pending = 0;
    for (int i = 0; i < 5; ++i) {
        QNetworkRequest req(QUrl(app->endpoint().url() + QStringLiteral("/usage/test_1")));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        req.setRawHeader("organisation", app->service().organisation().toUtf8());
        req.setRawHeader("authorization", "Bearer " + key->key.toUtf8());
        ++pending;
        QNetworkReply *r = nam.post(req, "{\"data\":{\"cpu_usage_hours_per_day\":" + QByteArray::number(5 + i)
                                             + "},\"timestamp\":\"2023-05-2" + QByteArray::number(1 + i)
                                             + " 09:30:38.731\",\"customer_id\":\"[email protected]\"}");
        QObject::connect(r, &QNetworkReply::finished, r, [&pending, r] {
            --pending;
            r->deleteLater();
        });
    }
    for (int waited = 0; pending > 0 && waited < 5000; waited += 50)
        QTest::qWait(50);
    QTest::qWait(1500); // the row counts refresh after commits
    app->showList();
    app->window().setCurrentPage(0);
    ok = save(&app->window(), out, QStringLiteral("usage-events.png")) && ok;

    app->openEvent(QStringLiteral("test_1"));
    QTest::qWait(500); // the first page arrives from the rows worker
    ok = save(&app->window(), out, QStringLiteral("usage-event-rows.png")) && ok;
    if (auto *tabs = app->eventPage()->findChild<QTabWidget *>())
        for (int i = 0; i < tabs->count(); ++i)
            if (tabs->tabText(i).remove(u'&') == QLatin1String("API"))
                tabs->setCurrentIndex(i);
    ok = save(&app->window(), out, QStringLiteral("usage-event-api.png")) && ok;

    // The Chart tab: March 2024 of API calls from five customers, sent as one batch
    // (a weekly rhythm, each customer at its own scale), SUM of calls per day.
    {
        const char *customers[] = {"acme-corp", "globex", "initech", "umbrella", "hooli"};
        const int scale[] = {900, 640, 420, 260, 150};
        QByteArray batch = "[";
        for (int day = 1; day <= 31; ++day)
            for (int c = 0; c < 5; ++c)
                for (int hour : {9, 14, 20}) {
                    const int weekday = QDate(2024, 3, day).dayOfWeek();
                    const double wave = 1.0 + 0.25 * std::sin((day + 3 * c) / 4.0) + 0.01 * day * (c % 2 ? -1 : 1);
                    const int calls = int(scale[c] * wave * (weekday >= 6 ? 0.45 : 1.0) / 3) + hour;
                    if (batch.size() > 1)
                        batch += ',';
                    batch += "{\"data\":{\"calls\":" + QByteArray::number(calls)
                        + ",\"region\":\"eu-west-1\",\"plan\":{\"tier\":\"pro\"},\"billable\":true},\"timestamp\":\"2024-03-"
                        + QByteArray::number(day).rightJustified(2, '0') + ' ' + QByteArray::number(hour).rightJustified(2, '0')
                        + ":00:00\",\"customer_id\":\"" + customers[c] + "\"}";
                }
        batch += ']';
        QNetworkRequest req(QUrl(app->endpoint().url() + QStringLiteral("/usage/api_calls_per_region/batch")));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        req.setRawHeader("organisation", app->service().organisation().toUtf8());
        req.setRawHeader("authorization", "Bearer " + key->key.toUtf8());
        QNetworkReply *reply = nam.post(req, batch);
        QSignalSpy done(reply, &QNetworkReply::finished);
        if (!done.wait(10000) || reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() / 100 != 2)
            qWarning("chart batch: %s", reply->readAll().left(300).constData());
        reply->deleteLater();
        app->window().resize(1280, 820);
        app->openEvent(QStringLiteral("api_calls_per_region"));
        if (auto *chart = app->eventPage()->chartTab()) {
            if (auto *tabs = app->eventPage()->findChild<QTabWidget *>())
                tabs->setCurrentWidget(chart);
            for (int waited = 0; chart->isBusy() && waited < 10000; waited += 50)
                QTest::qWait(50);
            ok = save(&app->window(), out, QStringLiteral("chart.png")) && ok;
        }
        // The Alerts tab: an alert made through its form, fired by the next commit.
        if (auto *alerts = app->eventPage()->alertsTab()) {
            if (auto *tabs = app->eventPage()->findChild<QTabWidget *>())
                tabs->setCurrentWidget(alerts);
            QTest::keyClicks(alerts->findChild<QLineEdit *>(QStringLiteral("alert_name")), QStringLiteral("Busy day"));
            auto pick = [alerts](const char *name, const QVariant &data) {
                auto *box = alerts->findChild<QComboBox *>(QLatin1String(name));
                box->setCurrentIndex(box->findData(data));
            };
            pick("alert_field", QStringLiteral("calls"));
            pick("alert_function", int(Aggregate::Function::Sum));
            pick("alert_window", int(Aggregate::Window::Day));
            QTest::keyClicks(alerts->findChild<QLineEdit *>(QStringLiteral("alert_threshold")), QStringLiteral("750"));
            QSignalSpy saved(alerts, &AlertsTab::saved);
            alerts->save();
            if (!saved.wait(5000))
                qWarning("the alert was not saved");
            QNetworkRequest one(QUrl(app->endpoint().url() + QStringLiteral("/usage/api_calls_per_region")));
            one.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
            one.setRawHeader("organisation", app->service().organisation().toUtf8());
            one.setRawHeader("authorization", "Bearer " + key->key.toUtf8());
            QNetworkReply *r = nam.post(one, "{\"data\":{\"calls\":40,\"region\":\"eu-west-1\",\"plan\":{\"tier\":\"pro\"},"
                                             "\"billable\":true},\"timestamp\":\"2024-03-28 21:00:00\",\"customer_id\":\"acme-corp\"}");
            QSignalSpy sent(r, &QNetworkReply::finished);
            sent.wait(5000);
            r->deleteLater();
            for (int waited = 0; alerts->firingsTable()->rowCount() == 0 && waited < 10000; waited += 100) {
                alerts->alertsTable()->selectRow(0);
                alerts->firingsChanged();
                QTest::qWait(100);
            }
            ok = save(&app->window(), out, QStringLiteral("alerts.png")) && ok;
        }
        app->window().resize(1100, 680);
    }

    // The REST console: a ready event for test_1 sent (201), then a bad one (422 and its problems).
    if (auto *console = app->window().findChild<ConsolePage *>()) {
        app->window().resize(1280, 820);
        app->window().setCurrentPage(1);
        if (auto *clear = console->findChild<QPushButton *>(QStringLiteral("clearHistory")))
            clear->click();
        console->setApiKey(key->key);
        console->newEventFor(QStringLiteral("test_1"));
        QSignalSpy shown(console, &ConsolePage::responseShown);
        console->send();
        ok = shown.wait(5000) && save(&app->window(), out, QStringLiteral("rest-console.png")) && ok;
        console->findChild<QPlainTextEdit *>(QStringLiteral("requestBody"))
            ->setPlainText(QStringLiteral("{\n  \"data\": {\"cpu_usage_hours_per_day\": \"lots\"},\n  \"timestamp\": \"yesterday\",\n"
                                          "  \"customer_id\": \"customer@example.com\"\n}"));
        console->send();
        ok = shown.wait(5000) && save(&app->window(), out, QStringLiteral("rest-console-problems.png")) && ok;
        // The runner: 20,000 events (10 % duplicates, 2 % invalid) against the local endpoint.
        console->newEventFor(QStringLiteral("test_1"));
        if (auto *runner = console->runnerPanel()) {
            runner->setConfig({20000, 8, 0, 200, 10, 2, 1});
            if (auto *tabs = runner->parentWidget() ? qobject_cast<QTabWidget *>(runner->parentWidget()->parentWidget()) : nullptr)
                tabs->setCurrentWidget(runner);
            runner->findChild<QPushButton *>(QStringLiteral("runStart"))->click();
            for (int waited = 0; !runner->lastStats().finished && waited < 60000; waited += 100)
                QTest::qWait(100);
            ok = save(&app->window(), out, QStringLiteral("rest-console-runner.png")) && ok;
        }
        app->window().resize(1100, 680);
    }

    app->window().setCurrentPage(2);
    ok = save(&app->window(), out, QStringLiteral("settings.png")) && ok;
    app->shutdown();
    return ok ? 0 : 1;
}
