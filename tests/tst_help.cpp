// The Help menu and Getting started as a user meets them: real widgets (DesktopApp,
// the same composition as `meterdesk`) on an empty workspace, offscreen, with the
// in-process endpoint on a free port.
#include "aboutdialog.h"
#include "appsettings.h"
#include "consolepage.h"
#include "desktopapp.h"
#include "eventpage.h"
#include "firstrunguide.h"
#include "helpdialog.h"
#include "ingestservice.h"
#include "mainwindow.h"
#include "rowsmodel.h"
#include "rowsview.h"
#include "workspaceservice.h"

#include <QAction>
#include <QCheckBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMenu>
#include <QMenuBar>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTranslator>

using namespace meterdesk;

class TestHelp : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<DesktopApp> m_app;

    QAction *helpAction(const QString &text)
    {
        const QList<QAction *> menus = m_app->window().menuBar()->actions();
        for (QAction *menu : menus) {
            if (menu->text() != QLatin1String("&Help") || !menu->menu())
                continue;
            const QList<QAction *> actions = menu->menu()->actions();
            for (QAction *a : actions) {
                if (a->text() == text)
                    return a;
            }
        }
        return nullptr;
    }
    template<typename T>
    T *openedDialog()
    {
        const QList<T *> dialogs = m_app->window().findChildren<T *>();
        for (T *d : dialogs) {
            if (d->isVisible())
                return d;
        }
        return nullptr;
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        AppSettings::showGettingStarted.set(true); // a first run, whatever an earlier run recorded
        QVERIFY(m_dir.isValid());
        QString error;
        m_app = DesktopApp::create(m_dir.filePath(QStringLiteral("help.db")), QStringLiteral("127.0.0.1:0"), &error);
        QVERIFY2(m_app, qPrintable(error));
        QSignalSpy started(&m_app->endpoint(), &IngestService::started);
        QSignalSpy failed(&m_app->endpoint(), &IngestService::failed);
        m_app->start();
        QVERIFY(QTest::qWaitForWindowExposed(&m_app->window()));
        QTRY_VERIFY_WITH_TIMEOUT(!started.isEmpty() || !failed.isEmpty(), 5000); // may come while exposing
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
    }

    void cleanupTestCase() { m_app.reset(); }

    void userGuideOpensWithF1()
    {
        QAction *guide = helpAction(QStringLiteral("&User guide"));
        QVERIFY(guide);
        QCOMPARE(guide->shortcut(), QKeySequence(Qt::Key_F1));
        guide->trigger();
        auto *dialog = openedDialog<HelpDialog>();
        QVERIFY(dialog);
        QCOMPARE(dialog->path(), QStringLiteral(":/docs/USER_GUIDE.md"));
        const QString text = dialog->browser()->toPlainText();
        QVERIFY2(text.contains(QLatin1String("Define a usage event")), qPrintable(text.left(200)));
        QVERIFY(text.contains(QLatin1String("PostgreSQL")));
        // Rendered, not shown as source: the first block is a level-1 heading without its "#".
        const QTextBlock first = dialog->browser()->document()->firstBlock();
        QCOMPARE(first.text(), QStringLiteral("Meterdesk user guide"));
        QCOMPARE(first.blockFormat().headingLevel(), 1);
        QVERIFY(!text.contains(QLatin1String("## ")));
        // A link to a sibling document opens it in place.
        emit dialog->browser()->anchorClicked(QUrl(QStringLiteral("API.md")));
        QCOMPARE(dialog->path(), QStringLiteral(":/docs/API.md"));
        dialog->close();
    }

    void apiReferenceOpens()
    {
        QAction *api = helpAction(QStringLiteral("&API reference"));
        QVERIFY(api);
        api->trigger();
        auto *dialog = openedDialog<HelpDialog>();
        QVERIFY(dialog);
        QVERIFY(dialog->browser()->toPlainText().contains(QLatin1String("POST /usage/{slug}/batch")));
        dialog->close();
    }

    void aboutShowsVersionQtAndLicences()
    {
        QAction *about = helpAction(QStringLiteral("&About Meterdesk"));
        QVERIFY(about);
        about->trigger();
        auto *dialog = openedDialog<AboutDialog>();
        QVERIFY(dialog);
        QVERIFY(dialog->isModal()); // open(): window-modal, no nested event loop
        const QString text = dialog->text();
        QVERIFY2(text.contains(QLatin1String("Meterdesk " MDK_VERSION)), qPrintable(text));
        QVERIFY(text.contains(QString::fromLatin1(qVersion())));
        QVERIFY(text.contains(QLatin1String("LGPL-3.0")));
        QVERIFY(text.contains(QLatin1String("not chosen a licence")));
        dialog->reject();
    }

    void translationsAreCompiledIn()
    {
        QVERIFY(QFile::exists(QStringLiteral(":/i18n/meterdesk_en.qm")));
        QTranslator translator;
        QVERIFY(translator.load(QLocale(QLocale::English), QStringLiteral("meterdesk"), QStringLiteral("_"), QStringLiteral(":/i18n")));
    }

    void gettingStartedEndToEnd()
    {
        // Opened by start() on the empty workspace.
        auto *guide = openedDialog<FirstRunGuide>();
        QVERIFY(guide);
        QVERIFY(!guide->isModal());
        QCOMPARE(guide->currentStep(), int(FirstRunGuide::CreateExample));
        QVERIFY(!guide->doButton(FirstRunGuide::CreateKey)->isEnabled()); // in order

        QTest::mouseClick(guide->doButton(FirstRunGuide::CreateExample), Qt::LeftButton);
        QCOMPARE(guide->state(FirstRunGuide::CreateExample), FirstRunGuide::State::Done);
        const auto example = m_app->service().definition(QStringLiteral("test_1"));
        QVERIFY(example);
        QCOMPARE(example->schema.fields.first().path, QStringLiteral("cpu_usage_hours_per_day"));

        QVERIFY(m_app->service().keys().isEmpty());
        QTest::mouseClick(guide->doButton(FirstRunGuide::CreateKey), Qt::LeftButton);
        QCOMPARE(guide->state(FirstRunGuide::CreateKey), FirstRunGuide::State::Done);
        QCOMPARE(m_app->service().keys().size(), 1);
        const QString key = m_app->consolePage()->environment().value(QStringLiteral("apiKey"));
        QVERIFY(!key.isEmpty());

        QSignalSpy answered(m_app->consolePage(), &ConsolePage::responseShown);
        QTest::mouseClick(guide->doButton(FirstRunGuide::SendEvent), Qt::LeftButton);
        QCOMPARE(m_app->window().currentPage(), 1); // the console, where the request went from
        QVERIFY(m_app->consolePage()->request().url.endsWith(QLatin1String("/usage/test_1")));
        QTRY_COMPARE_WITH_TIMEOUT(guide->state(FirstRunGuide::SendEvent), FirstRunGuide::State::Done, 10000);
        QCOMPARE(answered.size(), 1);
        QCOMPARE(answered.first().first().value<HttpResponse>().status, 201);
        QVERIFY(guide->statusText(FirstRunGuide::SendEvent).contains(QLatin1String("201")));

        QTest::mouseClick(guide->doButton(FirstRunGuide::SeeRow), Qt::LeftButton);
        QCOMPARE(guide->state(FirstRunGuide::SeeRow), FirstRunGuide::State::Done);
        QCOMPARE(m_app->window().currentPage(), 0);
        QCOMPARE(m_app->eventPage()->slug(), QStringLiteral("test_1"));
        RowsModel *rows = m_app->eventPage()->rowsView()->model();
        QTRY_COMPARE_WITH_TIMEOUT(rows->rowCount(), 1, 5000);
        QCOMPARE(guide->currentStep(), int(FirstRunGuide::StepCount));

        // Closed with "Don't show again" (checked by default): not opened by itself again.
        QVERIFY(guide->findChild<QCheckBox *>(QStringLiteral("dontShowAgain"))->isChecked());
        guide->reject();
        QCOMPARE(AppSettings::showGettingStarted.get(), false);
    }

    void stepsCanBeSkipped()
    {
        QAction *again = helpAction(QStringLiteral("&Getting started"));
        QVERIFY(again);
        again->trigger();
        auto *guide = openedDialog<FirstRunGuide>();
        QVERIFY(guide);
        for (int i = 0; i < FirstRunGuide::StepCount; ++i) {
            const auto step = FirstRunGuide::Step(i);
            QVERIFY(guide->skipButton(step)->isEnabled());
            QTest::mouseClick(guide->skipButton(step), Qt::LeftButton);
            QCOMPARE(guide->state(step), FirstRunGuide::State::Skipped);
        }
        QCOMPARE(guide->currentStep(), int(FirstRunGuide::StepCount));
        QCOMPARE(m_app->service().keys().size(), 1); // skipping did nothing
        guide->reject();
    }

    // docs/API.md (the Help menu's copy) names every route and answer /openapi.json serves.
    void apiReferenceMatchesOpenApi()
    {
        QFile doc(QStringLiteral(":/docs/API.md"));
        QVERIFY(doc.open(QIODevice::ReadOnly));
        const QString api = QString::fromUtf8(doc.readAll());
        QNetworkAccessManager nam;
        QNetworkReply *reply = nam.get(QNetworkRequest(QUrl(m_app->endpoint().url() + QStringLiteral("/openapi.json"))));
        QSignalSpy done(reply, &QNetworkReply::finished);
        QVERIFY(done.wait(5000));
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        const QJsonObject paths = QJsonDocument::fromJson(reply->readAll()).object().value(QStringLiteral("paths")).toObject();
        reply->deleteLater();
        QVERIFY(paths.contains(QStringLiteral("/usage/test_1")));
        int operations = 0;
        for (auto path = paths.begin(); path != paths.end(); ++path) {
            const QString route = QString(path.key()).replace(QLatin1String("/usage/test_1"), QLatin1String("/usage/{slug}"));
            const QJsonObject methods = path.value().toObject();
            for (auto method = methods.begin(); method != methods.end(); ++method) {
                const QString operation = method.key().toUpper() + u' ' + route;
                QVERIFY2(api.contains(u'`' + operation + u'`'), qPrintable(operation + QStringLiteral(" is not in docs/API.md")));
                const QJsonObject responses = method.value().toObject().value(QStringLiteral("responses")).toObject();
                for (const QString &status : responses.keys()) {
                    QVERIFY2(api.contains(QStringLiteral("\n| ") + status) || api.contains(QStringLiteral(" / ") + status + QStringLiteral(" |")),
                             qPrintable(operation + u' ' + status + QStringLiteral(" is not in docs/API.md's answers")));
                }
                ++operations;
            }
        }
        QCOMPARE(operations, 4); // POST /usage/{slug}, its /batch, GET /usage/{slug}, GET /usage/{slug}/aggregate
    }
};

QTEST_MAIN(TestHelp)
#include "tst_help.moc"
