// The desktop app as a user drives it: real widgets (DesktopApp, the same
// composition as `meterdesk`), QTest keys and clicks, offscreen platform.
#include "desktopapp.h"
#include "deadlettersmodel.h"
#include "eventpage.h"
#include "rejectedview.h"
#include "ingestservice.h"
#include "mainwindow.h"
#include "usageeventform.h"
#include "usageeventsmodel.h"
#include "usageeventspage.h"
#include "workspace.h"
#include "workspaceservice.h"

#include <QApplication>
#include <QClipboard>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlRecord>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>
#include <QTabWidget>

using namespace meterdesk;

class TestGui : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<DesktopApp> m_app;

    UsageEventForm *openForm()
    {
        m_app->usageEventsPage()->addUsageEvent();
        auto *form = m_app->window().findChild<UsageEventForm *>();
        if (form)
            [[maybe_unused]] const bool exposed = QTest::qWaitForWindowExposed(form);
        return form;
    }
    template<typename T>
    T *child(QWidget *parent, const char *name)
    {
        return parent->findChild<T *>(QLatin1String(name));
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        QString error;
        m_app = DesktopApp::create(m_dir.filePath(QStringLiteral("gui.db")), QStringLiteral("127.0.0.1:0"), &error);
        QVERIFY2(m_app, qPrintable(error));
        QSignalSpy started(&m_app->endpoint(), &IngestService::started);
        m_app->start();
        QVERIFY(QTest::qWaitForWindowExposed(&m_app->window()));
        // started may come while the window is being exposed (sooner when Getting started opens too).
        QTRY_VERIFY_WITH_TIMEOUT(!started.isEmpty(), 5000);
    }

    void cleanupTestCase() { m_app.reset(); }

    void statusBarShowsTheEndpoint()
    {
        auto *url = m_app->window().findChild<QLabel *>(QStringLiteral("statusUrl"));
        QVERIFY(url);
        QCOMPARE(url->text(), m_app->endpoint().url());
        QVERIFY(m_app->window().findChild<QLabel *>(QStringLiteral("statusState"))->text().contains(QLatin1String("Running")));
    }

    void emptyStateExplainsAndOffersTheExample()
    {
        auto *empty = m_app->usageEventsPage()->findChild<QWidget *>(QStringLiteral("emptyState"));
        QVERIFY(empty && empty->isVisible());
        QTest::mouseClick(child<QPushButton>(empty, "tryExample"), Qt::LeftButton);
        const auto d = m_app->service().definition(QStringLiteral("test_1"));
        QVERIFY(d);
        QCOMPARE(d->schema.fields.size(), 1);
        QCOMPARE(d->schema.fields.first().path, QStringLiteral("cpu_usage_hours_per_day"));
        QCOMPARE(d->schema.fields.first().type, FieldType::Float);
        QVERIFY(!empty->isVisible());
        QCOMPARE(m_app->usageEventsPage()->model()->rowCount(), 1);
    }

    void typingTheNameDerivesTheSlug()
    {
        UsageEventForm *form = openForm();
        QVERIFY(form);
        auto *name = child<QLineEdit>(form, "name");
        auto *slug = child<QLineEdit>(form, "slug");
        auto *reset = child<QToolButton>(form, "resetSlug");
        QTest::keyClicks(name, QStringLiteral("a raw metric"));
        QCOMPARE(slug->text(), QStringLiteral("a_raw_metric"));
        QVERIFY(child<QLabel>(form, "endpointPreview")->text().endsWith(QLatin1String("/usage/a_raw_metric")));
        QVERIFY(!reset->isEnabled());

        // Editing the slug stops the derivation; reset brings it back.
        slug->selectAll();
        QTest::keyClicks(slug, QStringLiteral("raw-metric"));
        QTest::keyClicks(name, QStringLiteral(" v2"));
        QCOMPARE(slug->text(), QStringLiteral("raw-metric"));
        QVERIFY(reset->isEnabled());
        QTest::mouseClick(reset, Qt::LeftButton);
        QCOMPARE(slug->text(), QStringLiteral("a_raw_metric_v2"));
        form->reject();
    }

    void invalidSlugShowsWhyAndDisablesSave()
    {
        UsageEventForm *form = openForm();
        QVERIFY(form);
        QTest::keyClicks(child<QLineEdit>(form, "name"), QStringLiteral("cpu hours"));
        auto *slug = child<QLineEdit>(form, "slug");
        auto *save = child<QPushButton>(form, "save");
        QVERIFY(save->isEnabled());
        slug->selectAll();
        QTest::keyClicks(slug, QStringLiteral("cpu hours!"));
        auto *error = child<QLabel>(form, "slugError");
        QVERIFY(error->isVisible());
        QVERIFY2(error->text().contains(QLatin1String("letters, digits, underscores and dashes")), qPrintable(error->text()));
        QVERIFY(!save->isEnabled());
        QVERIFY(!form->blocker().isEmpty());
        QVERIFY(child<QLabel>(form, "saveBlocker")->text().contains(QLatin1String("slug")));
        // A slug that is taken says so too.
        slug->selectAll();
        QTest::keyClicks(slug, QStringLiteral("TEST_1"));
        QVERIFY(error->text().contains(QLatin1String("already used")));
        QVERIFY(!save->isEnabled());
        form->reject();
    }

    void inferFromTheSeedSampleAndSave()
    {
        UsageEventForm *form = openForm();
        QVERIFY(form);
        QTest::keyClicks(child<QLineEdit>(form, "name"), QStringLiteral("a raw metric"));
        child<QPlainTextEdit>(form, "sampleJson")->setPlainText(QStringLiteral("{\"cpu_usage_hours_per_day\": \"5\"}"));
        QTest::mouseClick(child<QPushButton>(form, "inferButton"), Qt::LeftButton);
        const DataSchema schema = form->definition().schema;
        QCOMPARE(schema.fields.size(), 1);
        QCOMPARE(schema.fields.first().path, QStringLiteral("cpu_usage_hours_per_day"));
        QCOMPARE(schema.fields.first().type, FieldType::Float);
        QVERIFY(child<QPlainTextEdit>(form, "schemaText")->toPlainText().contains(QLatin1String("\"number\"")));

        QSignalSpy accepted(form, &QDialog::accepted);
        QTest::mouseClick(child<QPushButton>(form, "save"), Qt::LeftButton);
        QCOMPARE(accepted.size(), 1);
        // Saved through the storage API: the definition and its table with the column.
        QString error;
        auto ws = Workspace::open(m_app->service().location(), &error);
        QVERIFY(ws);
        const auto d = ws->definition(QStringLiteral("a_raw_metric"));
        QVERIFY(d);
        QCOMPARE(ws->rowCount(*d), 0);
        QVERIFY(ws->database().record(QStringLiteral("usage_a_raw_metric")).contains(QStringLiteral("data.cpu_usage_hours_per_day")));
        // Saving opens the new event's page.
        QCOMPARE(m_app->eventPage()->slug(), QStringLiteral("a_raw_metric"));
        QVERIFY(m_app->eventPage()->curlSnippet().contains(QLatin1String("/usage/a_raw_metric")));
    }

    void badSampleAndBadSchemaTextAreInline()
    {
        UsageEventForm *form = openForm();
        QVERIFY(form);
        child<QPlainTextEdit>(form, "sampleJson")->setPlainText(QStringLiteral("{not json"));
        QTest::mouseClick(child<QPushButton>(form, "inferButton"), Qt::LeftButton);
        QVERIFY(child<QLabel>(form, "sampleError")->text().contains(QLatin1String("not JSON")));
        auto *text = child<QPlainTextEdit>(form, "schemaText");
        text->setPlainText(QStringLiteral("{\"type\":\"object\",\"properties\":{\"customer_id\":{\"type\":\"string\"}}}"));
        QTRY_VERIFY(!child<QLabel>(form, "schemaTextError")->text().isEmpty());
        QVERIFY(child<QLabel>(form, "schemaTextError")->text().contains(QLatin1String("root field")));
        // A valid text updates the field table.
        text->setPlainText(QStringLiteral("{\"type\":\"object\",\"properties\":{\"calls\":{\"type\":\"integer\"}},\"required\":[\"calls\"]}"));
        QTRY_COMPARE(form->definition().schema.fields.size(), 1);
        QCOMPARE(form->definition().schema.fields.first().type, FieldType::Integer);
        QVERIFY(form->definition().schema.fields.first().required);
        form->reject();
    }

    void listFiltersAndCopiesTheEndpoint()
    {
        m_app->showList();
        auto *view = m_app->usageEventsPage()->findChild<QTableView *>(QStringLiteral("usageEvents"));
        QVERIFY(view);
        QCOMPARE(view->model()->rowCount(), 2);
        QTest::keyClicks(m_app->usageEventsPage()->findChild<QLineEdit *>(QStringLiteral("filter")), QStringLiteral("raw"));
        QCOMPARE(view->model()->rowCount(), 1);
        view->setCurrentIndex(view->model()->index(0, 0));
        QTest::mouseClick(m_app->usageEventsPage()->findChild<QPushButton *>(QStringLiteral("copyEndpoint")), Qt::LeftButton);
        QCOMPARE(QGuiApplication::clipboard()->text(), m_app->endpoint().url() + QStringLiteral("/usage/a_raw_metric"));
        m_app->usageEventsPage()->findChild<QLineEdit *>(QStringLiteral("filter"))->clear();
        QCOMPARE(view->model()->rowCount(), 2);
    }

    void rejectedTabShowsDeadLettersAndResends()
    {
        const auto key = m_app->service().createKey(QStringLiteral("gui"), nullptr);
        QVERIFY(key);
        QNetworkAccessManager nam;
        QNetworkRequest req(QUrl(m_app->endpoint().url() + QStringLiteral("/usage/a_raw_metric")));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        req.setRawHeader("organisation", m_app->service().organisation().toUtf8());
        req.setRawHeader("x-api-key", key->key.toUtf8());
        const QByteArray bad = R"({"data":{"cpu_usage_hours_per_day":"lots"},"customer_id":"c","timestamp":"yesterday"})";
        QNetworkReply *reply = nam.post(req, bad);
        QSignalSpy done(reply, &QNetworkReply::finished);
        QVERIFY(done.wait(5000));
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 422);
        reply->deleteLater();

        m_app->openEvent(QStringLiteral("a_raw_metric"));
        RejectedView *rejected = m_app->eventPage()->rejectedView();
        auto *tabs = m_app->eventPage()->findChild<QTabWidget *>();
        tabs->setCurrentWidget(rejected); // showing the tab reloads it
        QTRY_COMPARE_WITH_TIMEOUT(rejected->model()->rowCount(), 1, 5000);
        QCOMPARE(rejected->model()->data(rejected->model()->index(0, DeadLettersModel::Status)).toInt(), 422);
        QVERIFY(rejected->model()->data(rejected->model()->index(0, DeadLettersModel::Problem)).toString().contains(QLatin1String("/")));
        QVERIFY(rejected->findChild<QPlainTextEdit *>(QStringLiteral("requestBody"))->toPlainText().contains(QLatin1String("lots")));
        QVERIFY(!rejected->findChild<QPlainTextEdit *>(QStringLiteral("requestHeaders"))->toPlainText().contains(key->key));

        // Fix and re-send: the body goes to the REST console, ready to edit.
        QSignalSpy resend(m_app->eventPage(), &EventPage::resendInConsole);
        QTest::mouseClick(rejected->findChild<QPushButton *>(QStringLiteral("resend")), Qt::LeftButton);
        QCOMPARE(resend.size(), 1);
        QVERIFY(resend.first().at(1).toString().contains(QLatin1String("lots")));
        QCOMPARE(m_app->window().currentPage(), 1);
        m_app->window().setCurrentPage(0);

        // Delete.
        rejected->view()->selectRow(0);
        QTest::mouseClick(rejected->findChild<QPushButton *>(QStringLiteral("deleteLetter")), Qt::LeftButton);
        QCOMPARE(rejected->model()->rowCount(), 0);
        QVERIFY(m_app->service().deadLetters(QStringLiteral("a_raw_metric")).isEmpty());
    }

    void removingAFieldAsksFirst()
    {
        const auto before = m_app->service().definition(QStringLiteral("test_1"));
        QVERIFY(before);
        auto *form = new UsageEventForm(&m_app->service(), m_app->endpoint().url(), before, &m_app->window());
        form->setAttribute(Qt::WA_DeleteOnClose);
        form->show();
        QVERIFY(child<QLineEdit>(form, "slug")->isReadOnly());
        auto *fields = form->findChild<QTableView *>(QStringLiteral("schemaFields"));
        fields->selectRow(0);
        QTest::mouseClick(child<QPushButton>(form, "removeField"), Qt::LeftButton);
        bool asked = false;
        // The confirmation says what happens to stored rows; answer Yes.
        auto answer = [&asked] {
            if (auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget())) {
                asked = box->text().contains(QLatin1String("removed"));
                box->button(QMessageBox::Yes)->click();
            }
        };
        QTimer poll;
        connect(&poll, &QTimer::timeout, this, answer);
        poll.start(20);
        QSignalSpy accepted(form, &QDialog::accepted);
        QTest::mouseClick(child<QPushButton>(form, "save"), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(accepted.size(), 1, 5000);
        QVERIFY(asked);
        QVERIFY(m_app->service().definition(QStringLiteral("test_1"))->schema.fields.isEmpty());
    }

    void plainListenBeyondLoopbackIsWarned()
    {
        // Settings › Endpoint: started on every interface without HTTPS files, the page says
        // so; back on loopback the warning goes.
        auto *page = m_app->window().findChild<QWidget *>(QStringLiteral("settingsPage"));
        QVERIFY(page);
        auto *warning = child<QLabel>(page, "securityWarning");
        auto *listen = child<QLineEdit>(page, "listenAddress");
        QVERIFY(warning);
        QVERIFY(listen);
        auto restart = [&](const QString &address) {
            QSignalSpy started(&m_app->endpoint(), &IngestService::started);
            if (child<QPushButton>(page, "stopButton")->isEnabled())
                QTest::mouseClick(child<QPushButton>(page, "stopButton"), Qt::LeftButton);
            listen->setText(address);
            QTest::mouseClick(child<QPushButton>(page, "startButton"), Qt::LeftButton);
            QTRY_VERIFY_WITH_TIMEOUT(!started.isEmpty(), 5000);
        };
        restart(QStringLiteral("0.0.0.0:0"));
        QVERIFY(!warning->isHidden());
        QVERIFY(warning->text().contains(QLatin1String("without TLS")));
        restart(QStringLiteral("127.0.0.1:0"));
        QVERIFY(warning->isHidden());
        QVERIFY(m_app->endpoint().url().startsWith(QLatin1String("http://127.0.0.1:")));
    }
};

QTEST_MAIN(TestGui)
#include "tst_gui.moc"
