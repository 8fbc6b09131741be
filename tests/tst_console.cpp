// The REST console as a user drives it: the real DesktopApp (same composition as
// `meterdesk`), the in-process endpoint on a loopback port, real HTTP from the
// console's client, QTest keys and clicks, offscreen platform.
#include "consolepage.h"
#include "consolesidebar.h"
#include "consolestore.h"
#include "curlcommand.h"
#include "curlimportdialog.h"
#include "desktopapp.h"
#include "environmentbar.h"
#include "eventpage.h"
#include "ingestservice.h"
#include "mainwindow.h"
#include "responseview.h"
#include "runnerpanel.h"
#include "runplan.h"
#include "workspace.h"
#include "workspaceservice.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QDir>
#include <QLabel>
#include <QListWidget>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QTreeWidget>

using namespace meterdesk;

class TestConsole : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<DesktopApp> m_app;
    ConsolePage *m_console = nullptr;

    template<typename T>
    T *child(const char *name) const
    {
        return m_console->findChild<T *>(QLatin1String(name));
    }
    QString statusText() const { return child<QLabel>("responseStatus")->text(); }
    const HttpResponse &lastResponse() const { return m_console->findChild<ResponseView *>()->response(); }
    qint64 storedRows() const
    {
        QString error;
        auto ws = Workspace::open(m_app->service().location(), &error);
        if (!ws)
            qFatal("%s", qPrintable(error));
        return ws->rowCount(*ws->definition(QStringLiteral("test_1")));
    }
    // Sends with the button and waits for the response pane.
    bool sendAndWait()
    {
        QSignalSpy shown(m_console, &ConsolePage::responseShown);
        QTest::mouseClick(child<QPushButton>("send"), Qt::LeftButton);
        return shown.wait(10000);
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        // Start from an empty console history and no collections.
        const QDir data(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
        QFile::remove(data.filePath(QStringLiteral("console-history.json")));
        QFile::remove(data.filePath(QStringLiteral("console-collections.json")));
        QString error;
        m_app = DesktopApp::create(m_dir.filePath(QStringLiteral("console.db")), QStringLiteral("127.0.0.1:0"), &error);
        QVERIFY2(m_app, qPrintable(error));
        QSignalSpy started(&m_app->endpoint(), &IngestService::started);
        m_app->start();
        QVERIFY(QTest::qWaitForWindowExposed(&m_app->window()));
        // started may come while the window is being exposed (sooner when Getting started opens too).
        QTRY_VERIFY_WITH_TIMEOUT(!started.isEmpty(), 5000);
        m_console = m_app->window().findChild<ConsolePage *>();
        QVERIFY(m_console);
        m_app->window().setCurrentPage(1);
        QVERIFY(m_console->isVisible());
    }

    void cleanupTestCase() { m_app.reset(); }

    void environmentComesFromTheRunningEndpoint()
    {
        QCOMPARE(child<QLineEdit>("envBaseUrl")->text(), m_app->endpoint().url());
        QCOMPARE(child<QLineEdit>("envOrganisation")->text(), m_app->service().organisation());
        QVERIFY(child<QLineEdit>("envApiKey")->text().isEmpty());
        QTest::mouseClick(child<QPushButton>("createConsoleKey"), Qt::LeftButton);
        QVERIFY(!child<QLineEdit>("envApiKey")->text().isEmpty());
        QCOMPARE(m_app->service().keys().size(), 1);
    }

    void newEventForTheExampleAndSendWithCtrlEnter()
    {
        UsageEventDefinition d;
        d.name = QStringLiteral("test 1");
        d.slug = QStringLiteral("test_1");
        d.schema.fields = {{QStringLiteral("cpu_usage_hours_per_day"), FieldType::Float, true, {}}};
        QVERIFY(m_app->service().createDefinition(d).isEmpty());

        // "New event for…" lists the usage events; pick test_1.
        QMenu *menu = child<QToolButton>("newEventFor")->menu();
        emit menu->aboutToShow();
        QAction *pick = nullptr;
        for (QAction *a : menu->actions())
            if (a->text().contains(QLatin1String("(test_1)")))
                pick = a;
        QVERIFY(pick);
        // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): QVERIFY returns when pick is null; the analyzer cannot see through QTest::qVerify
        pick->trigger();

        QCOMPARE(m_console->request().method, QStringLiteral("POST"));
        QCOMPARE(m_console->request().url, QStringLiteral("{{baseUrl}}/usage/test_1"));
        auto *body = child<QPlainTextEdit>("requestBody");
        QVERIFY(body->toPlainText().contains(QLatin1String("\"cpu_usage_hours_per_day\": 5.5")));
        QTRY_VERIFY(child<QLabel>("bodyStatus")->text().contains(QLatin1String("Valid JSON")));
        const HttpRequest resolved = m_console->resolvedRequest();
        QCOMPARE(resolved.url, m_app->endpoint().url() + QStringLiteral("/usage/test_1"));
        QCOMPARE(resolved.header(u"organisation"), m_app->service().organisation());
        QCOMPARE(resolved.header(u"authorization"), QStringLiteral("Bearer ") + child<QLineEdit>("envApiKey")->text());

        // Ctrl+Enter from the body editor sends, without blocking the GUI thread.
        QApplication::setActiveWindow(&m_app->window());
        QVERIFY(QTest::qWaitForWindowActive(&m_app->window()));
        body->setFocus();
        QSignalSpy shown(m_console, &ConsolePage::responseShown);
        QElapsedTimer clock;
        clock.start();
        QTest::keyClick(body, Qt::Key_Return, Qt::ControlModifier);
        QVERIFY2(clock.elapsed() < 200, "sending returned only after the answer");
        QCOMPARE(child<QPushButton>("send")->text(), QStringLiteral("Cancel"));
        QVERIFY(shown.wait(10000));
        QCOMPARE(lastResponse().status, 201);
        QVERIFY2(statusText().startsWith(QLatin1String("201 Created")), qPrintable(statusText()));
        QVERIFY(child<QLabel>("responseStatus")->styleSheet().contains(QLatin1String("#2e7d32")));
        QVERIFY(child<QLabel>("responseMeta")->text().contains(QLatin1String(" ms")));
        QCOMPARE(child<QPushButton>("send")->text(), QStringLiteral("Send"));
        // The stored event, pretty-printed; the headers listed.
        QVERIFY(child<QPlainTextEdit>("responseBody")->toPlainText().contains(QLatin1String("\n  \"customer_id\": ")));
        QVERIFY(child<QTableWidget>("responseHeaders")->rowCount() > 0);
        QCOMPARE(storedRows(), 1);

        // Same event again: an exact duplicate is 200 and not stored twice.
        QVERIFY(sendAndWait());
        QCOMPARE(lastResponse().status, 200);
        QCOMPARE(storedRows(), 1);
    }

    void openInConsoleFromTheApiTab()
    {
        m_app->openEvent(QStringLiteral("test_1"));
        auto *open = m_app->eventPage()->findChild<QPushButton *>(QStringLiteral("openInConsole"));
        QVERIFY(open);
        m_console->setRequest({});
        QTest::mouseClick(open, Qt::LeftButton);
        QVERIFY(m_console->isVisible());
        QCOMPARE(m_console->request().url, QStringLiteral("{{baseUrl}}/usage/test_1"));
        QCOMPARE(m_console->request().method, QStringLiteral("POST"));
        QVERIFY(child<QPlainTextEdit>("requestBody")->toPlainText().contains(QLatin1String("cpu_usage_hours_per_day")));
    }

    void badBodyShows422AndItsProblems()
    {
        auto *body = child<QPlainTextEdit>("requestBody");
        body->setPlainText(QStringLiteral("{\"data\":{\"cpu_usage_hours_per_day\":\"lots\"},\"timestamp\":\"yesterday\","
                                          "\"customer_id\":\"c-422\"}"));
        QVERIFY(sendAndWait());
        QCOMPARE(lastResponse().status, 422);
        QVERIFY(statusText().startsWith(QLatin1String("422")));
        QVERIFY(child<QLabel>("responseStatus")->styleSheet().contains(QLatin1String("#ef6c00")));
        auto *problems = child<QTreeWidget>("responseProblems");
        QVERIFY(problems->isVisible()); // the Problems tab is brought forward
        QStringList pointers;
        for (int i = 0; i < problems->topLevelItemCount(); ++i) {
            pointers.append(problems->topLevelItem(i)->text(0));
            QVERIFY(!problems->topLevelItem(i)->text(1).isEmpty());
        }
        QVERIFY2(pointers.contains(QLatin1String("/data/cpu_usage_hours_per_day")), qPrintable(pointers.join(u',')));
        QVERIFY2(pointers.contains(QLatin1String("/timestamp")), qPrintable(pointers.join(u',')));
        QCOMPARE(storedRows(), 1);

        // Activating a problem points into the request body.
        emit problems->itemActivated(problems->topLevelItem(int(pointers.indexOf(QLatin1String("/timestamp")))), 0);
        QCOMPARE(body->textCursor().selectedText(), QStringLiteral("\"timestamp\""));

        // Invalid JSON is flagged while typing, with where it breaks.
        body->setPlainText(QStringLiteral("{\"data\": {,}"));
        QTRY_VERIFY(child<QLabel>("bodyStatus")->text().contains(QLatin1String("line 1, column")));
    }

    void missingVariableIsExplainedNotSent()
    {
        const QString key = child<QLineEdit>("envApiKey")->text();
        child<QLineEdit>("envApiKey")->clear();
        QSignalSpy shown(m_console, &ConsolePage::responseShown);
        QTest::mouseClick(child<QPushButton>("send"), Qt::LeftButton);
        QVERIFY(statusText().contains(QLatin1String("{{apiKey}}")));
        QCOMPARE(child<QPushButton>("send")->text(), QStringLiteral("Send"));
        QTest::qWait(50);
        QCOMPARE(shown.size(), 0);
        child<QLineEdit>("envApiKey")->setText(key);
    }

    void importFromCurlTakesTheSeedCommand()
    {
        QFile seed(QStringLiteral(MDK_TEST_DATA "/curl/seed-raw-metric.curl"));
        QVERIFY(seed.open(QIODevice::ReadOnly));
        QTest::mouseClick(child<QPushButton>("importCurl"), Qt::LeftButton);
        auto *dialog = m_console->findChild<CurlImportDialog *>();
        QVERIFY(dialog && dialog->isVisible());
        // A broken command keeps the dialog open and names the token.
        dialog->setCommand(QStringLiteral("curl --frobnicate http://x"));
        QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("curlImport")), Qt::LeftButton);
        QVERIFY(dialog->isVisible());
        QVERIFY(dialog->findChild<QLabel *>(QStringLiteral("curlError"))->text().contains(QLatin1String("'--frobnicate'")));

        dialog->setCommand(QString::fromUtf8(seed.readAll()));
        QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("curlImport")), Qt::LeftButton);
        QTRY_VERIFY(!m_console->findChild<CurlImportDialog *>());
        const HttpRequest r = m_console->request();
        QCOMPARE(r.method, QStringLiteral("POST"));
        QCOMPARE(r.url, QStringLiteral("https://api.zenskar.com/usage/test_1"));
        QCOMPARE(child<QTableWidget>("requestHeaders")->rowCount(), 3);
        QCOMPARE(r.header(u"organisation"), QStringLiteral("23507783-d5b4-4854-b012-2bf4ea922205"));
        QVERIFY(r.body.startsWith(QLatin1String("{\"data\":{\"cpu_usage_hours_per_day\":5}")));

        // Unticking a header leaves it out of what is sent and of Copy as cURL.
        child<QTableWidget>("requestHeaders")->item(0, 0)->setCheckState(Qt::Unchecked);
        QVERIFY(!m_console->resolvedRequest().hasHeader(u"organisation"));
        QTest::mouseClick(child<QPushButton>("copyCurl"), Qt::LeftButton);
        const QString copied = QGuiApplication::clipboard()->text();
        QVERIFY(!copied.contains(QLatin1String("organisation")));
        const auto back = CurlCommand::parse(copied);
        QVERIFY2(back.request, qPrintable(back.error));
        HttpRequest sent = m_console->resolvedRequest();
        sent.headers.removeIf([](const HttpHeader &h) { return !h.enabled; });
        QCOMPARE(*back.request, sent);
    }

    void theSeedCommandWorksAgainstTheLocalEndpoint()
    {
        // The seed's second command, pointed at this endpoint with this workspace's
        // organisation and key: same customer and time as the first, other data -> 409.
        QString command = QStringLiteral("curl --location --request POST '{{baseUrl}}/usage/test_1' \\\n"
                                         "-H 'organisation: {{organisation}}' \\\n"
                                         "-H 'authorization: Bearer {{apiKey}}' \\\n"
                                         "-H 'Content-Type: application/json' \\\n"
                                         "--data-raw '{\"data\":{\"cpu_usage_hours_per_day\":5},\"timestamp\":"
                                         "\"2023-05-21 09:30:38.731\",\"customer_id\":\"seed@example.com\"}'");
        const auto parsed = CurlCommand::parse(command);
        QVERIFY2(parsed.request, qPrintable(parsed.error));
        m_console->setRequest(*parsed.request);
        QVERIFY(sendAndWait());
        QCOMPARE(lastResponse().status, 201);
        command.replace(QStringLiteral("cpu_usage_hours_per_day\":5"), QStringLiteral("cpu_usage_hours_per_day\":300"));
        m_console->setRequest(*CurlCommand::parse(command).request);
        QVERIFY(sendAndWait());
        QCOMPARE(lastResponse().status, 409);
        QCOMPARE(storedRows(), 2);
    }

    void aDeadServerCanBeCancelled()
    {
        QTcpServer silent; // accepts and never answers
        QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
        HttpRequest r;
        r.url = QStringLiteral("http://127.0.0.1:%1/slow").arg(silent.serverPort());
        m_console->setRequest(r);
        QSignalSpy shown(m_console, &ConsolePage::responseShown);
        QTest::mouseClick(child<QPushButton>("send"), Qt::LeftButton);
        QCOMPARE(child<QPushButton>("send")->text(), QStringLiteral("Cancel"));
        QTest::qWait(200); // the GUI keeps running meanwhile
        QCOMPARE(shown.size(), 0);
        QTest::mouseClick(child<QPushButton>("send"), Qt::LeftButton); // Cancel
        QTRY_COMPARE(shown.size(), 1);
        QVERIFY(lastResponse().cancelled);
        QCOMPARE(statusText(), QStringLiteral("Cancelled"));
        QCOMPARE(child<QPushButton>("send")->text(), QStringLiteral("Send"));
    }

    void aRefusedConnectionIsReported()
    {
        QTcpServer probe; // find a free port, then close it
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        HttpRequest r;
        r.url = QStringLiteral("http://127.0.0.1:%1/").arg(port);
        m_console->setRequest(r);
        QVERIFY(sendAndWait());
        QCOMPARE(lastResponse().status, 0);
        QVERIFY2(statusText().startsWith(QLatin1String("No response:")), qPrintable(statusText()));
        QVERIFY(child<QLabel>("responseStatus")->styleSheet().contains(QLatin1String("#c62828")));
    }

    void historyKeepsEverySentRequestAndReopensIt()
    {
        auto *list = m_console->findChild<QListWidget *>(QStringLiteral("history"));
        QVERIFY(list);
        // 201, 200, 422, 201, 409 and the refused connection; the cancelled one is not kept.
        const ConsoleHistory &history = m_console->sidebar()->history();
        QCOMPARE(history.entries().size(), 6);
        QCOMPARE(list->count(), 6);
        QCOMPARE(history.entries().first().response.status, 0);
        QTest::keyClicks(child<QLineEdit>("historySearch"), QStringLiteral("USAGE/test_1"));
        QCOMPARE(list->count(), 5);

        // Reopen the 422: the request as it was edited, the response with its problems.
        QListWidgetItem *bad = nullptr;
        for (int i = 0; i < list->count(); ++i)
            if (list->item(i)->text().startsWith(QLatin1String("422")))
                bad = list->item(i);
        QVERIFY(bad);
        emit list->itemActivated(bad);
        QVERIFY(child<QPlainTextEdit>("requestBody")->toPlainText().contains(QLatin1String("\"lots\"")));
        QVERIFY(statusText().startsWith(QLatin1String("422")));
        QVERIFY(child<QTreeWidget>("responseProblems")->topLevelItemCount() >= 2);
        child<QLineEdit>("historySearch")->clear();

        // Persisted, with the key as a variable: the file never holds the key itself.
        m_console->store()->waitForWrites();
        QString error;
        const ConsoleHistory onDisk = ConsoleStore(m_console->store()->directory()).loadHistory(&error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(onDisk.entries().size(), 6);
        QCOMPARE(onDisk.entries().at(1).response.status, 409);
        QCOMPARE(onDisk.entries().at(1).request.header(u"authorization"), QStringLiteral("Bearer {{apiKey}}"));
        QFile file(m_console->store()->historyPath());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(!file.readAll().contains(child<QLineEdit>("envApiKey")->text().toUtf8()));
    }

    void postmanCollectionImportsSendsAndExports()
    {
        ConsoleSidebar *sidebar = m_console->sidebar();
        const QString key = child<QLineEdit>("envApiKey")->text();
        QVERIFY(!key.isEmpty());
        QString error;
        QVERIFY2(sidebar->importPostmanFile(QStringLiteral(MDK_TEST_DATA "/postman/meterdesk.postman_collection.json"), &error),
                 qPrintable(error));
        auto *tree = m_console->findChild<QTreeWidget *>(QStringLiteral("collections"));
        QCOMPARE(tree->topLevelItemCount(), 1);
        QTreeWidgetItem *raw = tree->topLevelItem(0)->child(0);
        QVERIFY(raw->text(0).contains(QLatin1String("Ingest / Send raw metric")));
        emit tree->itemActivated(raw, 0);
        QCOMPARE(m_console->request().url, QStringLiteral("{{baseUrl}}/usage/test_1"));
        QCOMPARE(m_console->request().header(u"Authorization"), QStringLiteral("Bearer {{apiKey}}"));

        // The seed's sample with "5" as a string, sent to this endpoint: stored.
        QVERIFY(sendAndWait());
        QCOMPARE(lastResponse().status, 201);
        QCOMPARE(storedRows(), 3);

        // Save the current request into "My requests", export it, read it back.
        tree->setCurrentItem(nullptr);
        QTest::mouseClick(child<QPushButton>("saveRequest"), Qt::LeftButton);
        QCOMPARE(sidebar->collections().size(), 2);
        QCOMPARE(sidebar->collections().at(1).name, QStringLiteral("My requests"));
        const QString path = m_dir.filePath(QStringLiteral("mine.postman_collection.json"));
        QVERIFY2(sidebar->exportPostmanFile(1, path, &error), qPrintable(error));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const auto back = Postman::readCollection(file.readAll(), &error);
        QVERIFY2(back, qPrintable(error));
        QCOMPARE(back->requests.size(), 1);
        QCOMPARE(back->requests.first().request, m_console->requestWithAuth());

        // A Postman environment fills the console's variables.
        QVERIFY2(sidebar->importEnvironmentFile(QStringLiteral(MDK_TEST_DATA "/postman/local.postman_environment.json"), &error),
                 qPrintable(error));
        auto *environments = child<QComboBox>("environment");
        QCOMPARE(environments->count(), 2);
        QCOMPARE(environments->currentText(), QStringLiteral("Meterdesk local"));
        QCOMPARE(child<QLineEdit>("envApiKey")->text(), QStringLiteral("mdk_live_example"));
        QCOMPARE(m_console->environment().value(QStringLiteral("baseUrl")), QStringLiteral("http://127.0.0.1:8080"));
        // Back to this endpoint: its own URL and the key created earlier.
        environments->setCurrentIndex(0);
        QCOMPARE(child<QLineEdit>("envBaseUrl")->text(), m_app->endpoint().url());
        QCOMPARE(child<QLineEdit>("envApiKey")->text(), key);

        // The environment exports as a Postman file that reads back.
        const QString envPath = m_dir.filePath(QStringLiteral("env.postman_environment.json"));
        QVERIFY2(m_console->environmentBar()->exportTo(envPath, &error), qPrintable(error));
        QFile envFile(envPath);
        QVERIFY(envFile.open(QIODevice::ReadOnly));
        QString envName;
        const auto envValues = Postman::readEnvironment(envFile.readAll(), &envName, &error);
        QVERIFY2(envValues, qPrintable(error));
        QCOMPARE(envName, QStringLiteral("This endpoint"));
        QVERIFY(envValues->contains(qMakePair(QStringLiteral("apiKey"), key)));

        // A new collection, renamed in the tree.
        QTest::mouseClick(child<QPushButton>("newCollection"), Qt::LeftButton);
        QCOMPARE(sidebar->collections().size(), 3);
        tree->topLevelItem(2)->setText(0, QStringLiteral("Smoke tests"));
        QCOMPARE(sidebar->collections().at(2).name, QStringLiteral("Smoke tests"));

        // All collections are on disk for the next start.
        m_console->store()->waitForWrites();
        const auto stored = ConsoleStore(m_console->store()->directory()).loadCollections(&error);
        QCOMPARE(stored.size(), 3);
        QCOMPARE(stored.at(0).requests.size(), 5);
        QCOMPARE(stored.at(2).name, QStringLiteral("Smoke tests"));
    }

    void runnerSendsManyEventsAndSummarisesByStatus()
    {
        const qint64 before = storedRows();
        m_app->window().setCurrentPage(1);
        child<QComboBox>("environment")->setCurrentIndex(0);
        m_console->newEventFor(QStringLiteral("test_1"));
        RunnerPanel *runner = m_console->runnerPanel();
        RunConfig config;
        config.count = 3000;
        config.concurrency = 8;
        config.customers = 50;
        config.duplicatePercent = 10;
        config.invalidPercent = 5;
        runner->setConfig(config);
        QTest::mouseClick(runner->findChild<QPushButton *>(QStringLiteral("runStart")), Qt::LeftButton);
        QCOMPARE(runner->findChild<QPushButton *>(QStringLiteral("runStart"))->text(), QStringLiteral("Stop"));
        QTRY_VERIFY_WITH_TIMEOUT(runner->lastStats().finished, 60000);
        const RunStats stats = runner->lastStats();
        QVERIFY2(stats.error.isEmpty(), qPrintable(stats.error));
        QCOMPARE(stats.completed, 3000);
        QCOMPARE(stats.networkErrors, 0);
        // What the plan says, the endpoint answered: invalid ones 422, the rest stored or duplicates.
        const RunPlan plan(config, m_console->resolvedRequest().body.toUtf8(), 0);
        qint64 invalid = 0;
        for (qsizetype i = 0; i < config.count; ++i)
            invalid += plan.kind(i) == RunPlan::Kind::Invalid;
        QCOMPARE(stats.byStatus.value(422), invalid);
        QCOMPARE(stats.byStatus.value(201) + stats.byStatus.value(200) + invalid, 3000);
        QVERIFY(stats.byStatus.value(200) > 0);
        QCOMPARE(storedRows(), before + stats.byStatus.value(201));
        QCOMPARE(runner->findChild<QProgressBar *>(QStringLiteral("runProgress"))->value(), 3000);
        QCOMPARE(runner->findChild<QTableWidget *>(QStringLiteral("runByStatus"))->rowCount(), int(stats.byStatus.size()));
        QVERIFY(runner->findChild<QLabel *>(QStringLiteral("runSummary"))->text().contains(QLatin1String("done")));
        QCOMPARE(runner->findChild<QPushButton *>(QStringLiteral("runStart"))->text(), QStringLiteral("Start"));
        qInfo("runner: %lld events in %.2f s = %.0f events/s", stats.completed, stats.elapsedS, stats.eventsPerSecond());
    }

    void runnerStopsAtOnceAndTheGuiKeepsRunning()
    {
        RunnerPanel *runner = m_console->runnerPanel();
        RunConfig config;
        config.count = 1000000;
        config.ratePerSecond = 200; // slow on purpose
        runner->setConfig(config);
        QTest::mouseClick(runner->findChild<QPushButton *>(QStringLiteral("runStart")), Qt::LeftButton);
        QElapsedTimer clock;
        clock.start();
        QTest::qWait(600);
        QVERIFY(!runner->lastStats().finished);
        QTest::mouseClick(runner->findChild<QPushButton *>(QStringLiteral("runStart")), Qt::LeftButton); // Stop
        QTRY_VERIFY_WITH_TIMEOUT(runner->lastStats().finished, 5000);
        QVERIFY(runner->lastStats().stopped);
        QVERIFY(runner->lastStats().completed < 1000); // the rate held
        QVERIFY(runner->findChild<QLabel *>(QStringLiteral("runSummary"))->text().contains(QLatin1String("stopped")));
    }

    void runPlanIsDeterministicWithItsShares()
    {
        RunConfig config;
        config.count = 10000;
        config.customers = 7;
        config.duplicatePercent = 20;
        config.invalidPercent = 10;
        const QByteArray body = "{\"data\":{\"amount\":12.50,\"n\":{\"x\":1}},\"timestamp\":\"x\",\"customer_id\":\"c\"}";
        const RunPlan a(config, body, 1'684'661'438'731'000), b(config, body, 1'684'661'438'731'000);
        QVERIFY(a.isValid());
        int invalid = 0, duplicates = 0;
        QSet<QByteArray> customers;
        for (qsizetype i = 0; i < config.count; ++i) {
            QCOMPARE(a.body(i), b.body(i));
            invalid += a.kind(i) == RunPlan::Kind::Invalid;
            duplicates += a.kind(i) == RunPlan::Kind::Duplicate;
            const QByteArray text = a.body(i);
            QVERIFY(text.startsWith("{\"data\":{\"amount\":12.50,\"n\":{\"x\":1}},\"timestamp\":\"")); // data as written
            if (a.kind(i) != RunPlan::Kind::Invalid)
                customers.insert(text.mid(text.indexOf("customer-")));
        }
        QVERIFY2(invalid > 900 && invalid < 1100, qPrintable(QString::number(invalid)));
        QVERIFY2(duplicates > 1800 && duplicates < 2200, qPrintable(QString::number(duplicates)));
        QCOMPARE(customers.size(), 7);
        QVERIFY(a.body(0).contains("\"timestamp\":\"2023-05-21T09:30:38.731"));
        QVERIFY(!RunPlan(config, "[1]", 0).isValid());
        QVERIFY(RunPlan(config, "{\"x\":1}", 0).error().contains(QLatin1String("data")));
    }

    void bigBodiesOpenRawFirst()
    {
        ResponseView view;
        view.resize(800, 600);
        view.show();
        HttpResponse big;
        big.status = 200;
        big.headers = {{"Content-Type", "application/json"}};
        big.body = "[" + QByteArray("1,").repeated(ResponseView::RawFirstLimit / 2 + 10) + "1]";
        QElapsedTimer clock;
        clock.start();
        view.showResponse(big);
        QCoreApplication::processEvents();
        QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));
        auto *body = view.findChild<QPlainTextEdit *>(QStringLiteral("responseBody"));
        auto *pretty = view.findChild<QPushButton *>(QStringLiteral("responsePretty"));
        QVERIFY(!body->toPlainText().contains(u'\n')); // as received
        QVERIFY(!pretty->isHidden());
        QTest::mouseClick(pretty, Qt::LeftButton);
        QVERIFY(body->toPlainText().startsWith(QLatin1String("[\n  1,\n  1,")));
        QVERIFY(pretty->isHidden());

        // Small ones are pretty-printed at once, numbers exactly as sent.
        HttpResponse small;
        small.status = 201;
        small.body = "{\"amount\":12.50}";
        view.showResponse(small);
        QCOMPARE(body->toPlainText(), QStringLiteral("{\n  \"amount\": 12.50\n}"));
    }

    void historyIsBounded()
    {
        ConsoleHistory history;
        for (int i = 0; i < ConsoleHistory::MaxEntries + 5; ++i) {
            HistoryEntry e;
            e.request.url = QStringLiteral("http://h/usage/e%1").arg(i);
            e.response.body = QByteArray(i == ConsoleHistory::MaxEntries + 4 ? ConsoleHistory::MaxBodyBytes + 10 : 3, 'x');
            history.add(e);
        }
        QCOMPARE(history.entries().size(), ConsoleHistory::MaxEntries);
        QCOMPARE(history.entries().first().request.url, QStringLiteral("http://h/usage/e%1").arg(ConsoleHistory::MaxEntries + 4));
        QCOMPARE(history.entries().first().response.body.size(), ConsoleHistory::MaxBodyBytes);
        QCOMPARE(history.search(QStringLiteral("E10")).size(), 6); // e10 and e100..e104; e0..e4 were dropped
        QCOMPARE(history.search(QStringLiteral("e4")).size(), 10); // e40..e49: e4 itself was dropped
        QString error;
        const auto back = ConsoleHistory::fromJson(history.toJson(), &error);
        QVERIFY2(back, qPrintable(error));
        QCOMPARE(back->entries().size(), history.entries().size());
        QCOMPARE(back->entries().last().request.url, history.entries().last().request.url);
        QVERIFY(!ConsoleHistory::fromJson("{\"entries\":[]}", &error));
    }
};

QTEST_MAIN(TestConsole)
#include "tst_console.moc"
