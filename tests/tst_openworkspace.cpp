// File › Open workspace…: the dialog validates by opening (its error inline, the app
// unchanged), then AppHost replaces the running DesktopApp with one on the chosen
// workspace without leaving the process: the window shows that workspace's usage
// events and its Rows viewer its rows. On both backends: the second workspace is a
// SQLite file, or with MDK_TEST_BACKEND=postgresql a fresh PostgreSQL database.
#include "desktopapp.h"
#include "eventpage.h"
#include "eventstore.h"
#include "ingestservice.h"
#include "mainwindow.h"
#include "openworkspacedialog.h"
#include "rowsmodel.h"
#include "rowsview.h"
#include "eventloop.h"
#include "testbackend.h"
#include "usageeventsmodel.h"
#include "usageeventspage.h"
#include "workspace.h"
#include "workspaceservice.h"

#include <QAction>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPointer>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QElapsedTimer>
#include <QProgressBar>
#include <QTimer>

using namespace meterdesk;

class TestOpenWorkspace : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    // A workspace with one usage event `name` and `rows` stored events of it.
    static QString makeWorkspace(const QString &location, const QString &name, int rows)
    {
        QString error;
        auto ws = Workspace::open(location, &error);
        if (!ws)
            return error;
        UsageEventDefinition d;
        d.name = name;
        d.schema.fields = {{QStringLiteral("cpu"), FieldType::Float, false, {}}};
        if (!ws->createDefinition(d).isEmpty())
            return QStringLiteral("the definition was refused");
        const auto stored = ws->definitions();
        if (stored.size() != 1)
            return QStringLiteral("expected one definition");
        QList<ValidatedEvent> events;
        for (int i = 0; i < rows; ++i) {
            ValidatedEvent e;
            e.customerId = QStringLiteral("c%1").arg(i);
            e.timestampUs = 1700000000LL * 1000000 + i;
            e.values = {QVariant(i + 0.5)};
            e.dataJson = QStringLiteral("{\"cpu\":%1.5}").arg(i).toUtf8();
            events.append(e);
        }
        QSqlQuery(ws->database()).exec(ws->dialect().beginWrite());
        EventStore store(*ws);
        const auto results = store.storeMany(stored.first(), events, QStringLiteral("api"), 1700000000LL * 1000000);
        if (results.size() != rows || (!results.isEmpty() && !results.last().error.isEmpty()))
            return QStringLiteral("storing failed");
        QSqlQuery(ws->database()).exec(QStringLiteral("COMMIT"));
        return {};
    }

    static QStringList shownEvents(DesktopApp &app)
    {
        QStringList names;
        UsageEventsModel *model = app.usageEventsPage()->model();
        for (int r = 0; r < model->rowCount(); ++r)
            names.append(model->data(model->index(r, UsageEventsModel::Name)).toString());
        return names;
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
    }

    // A PostgreSQL host that accepts the connection and never answers: the dialog shows
    // it is busy, the GUI thread keeps running, and Cancel closes it without a switch.
    void silentServerDoesNotFreezeTheWindow()
    {
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        OpenWorkspaceDialog dialog(QString(), [](const QString &location) {
            QString error;
            return Workspace::open(location, &error) ? QString() : error;
        });
        QSignalSpy requested(&dialog, &OpenWorkspaceDialog::openRequested);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        dialog.setLocation(QStringLiteral("postgresql://nobody@127.0.0.1:%1/nothing").arg(silent.serverPort()));
        QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("open")), Qt::LeftButton);
        QVERIFY(dialog.isBusy());
        QVERIFY(dialog.findChild<QProgressBar *>(QStringLiteral("progress"))->isVisible());
        QVERIFY(!dialog.findChild<QPushButton *>(QStringLiteral("open"))->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(silent.hasPendingConnections(), 5000); // the client is connected and waiting
        // The event loop is not blocked: a 50 ms timer fires on time, again and again.
        const qint64 ticksMs = test::tenTimerTicksMs();
        QVERIFY2(ticksMs >= 0 && ticksMs < 1500, qPrintable(QString::number(ticksMs)));
        QVERIFY(dialog.isBusy());
        dialog.reject();
        QVERIFY(!dialog.isVisible());
        QCOMPARE(requested.size(), 0);
        // Hang up on the waiting client so its pool thread ends now, not at the connect timeout.
        while (QTcpSocket *s = silent.nextPendingConnection())
            s->abort();
        silent.close();
    }

    void opensAnotherWorkspaceInTheSameProcess()
    {
        const QString first = m_dir.filePath(QStringLiteral("first.db"));
        QCOMPARE(makeWorkspace(first, QStringLiteral("first event"), 0), QString());
        QString error;
        const QString second = test::workspaceLocation(m_dir, QStringLiteral("second.db"), &error);
        QVERIFY2(!second.isEmpty(), qPrintable(error));
        QCOMPARE(makeWorkspace(second, QStringLiteral("second event"), 3), QString());

        AppHost host(QStringLiteral("127.0.0.1:0"));
        QVERIFY2(host.open(first, &error), qPrintable(error));
        QPointer<DesktopApp> before = host.app();
        QVERIFY(QTest::qWaitForWindowExposed(&before->window()));
        QTRY_VERIFY_WITH_TIMEOUT(before->endpoint().isRunning(), 5000);
        QCOMPARE(shownEvents(*before), QStringList{QStringLiteral("first event")});

        // The File menu has the entry; the dialog is what it opens.
        QAction *entry = nullptr;
        for (QAction *menu : before->window().menuBar()->actions())
            for (QAction *a : menu->menu() ? menu->menu()->actions() : QList<QAction *>())
                if (a->text().contains(QLatin1String("Open workspace")))
                    entry = a;
        QVERIFY(entry);
        entry->trigger();
        QPointer<OpenWorkspaceDialog> dialog = before->window().findChild<OpenWorkspaceDialog *>();
        QVERIFY(dialog);
        QVERIFY(dialog->isVisible());
        QVERIFY(dialog->findChild<QPushButton *>(QStringLiteral("browse")));

        // A location that does not open: the error inline, the dialog and the app as they were.
        QSignalSpy switched(&host, &AppHost::switched);
        dialog->setLocation(QStringLiteral("postgresql://nobody@127.0.0.1:1/nothing"));
        QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("open")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!dialog->error().isEmpty(), 15000); // validated on a pool thread
        QVERIFY(dialog->isVisible());
        QVERIFY(!dialog->isBusy());
        QVERIFY(dialog->findChild<QLabel *>(QStringLiteral("error"))->isVisible());
        QTest::qWait(50);
        QCOMPARE(switched.size(), 0);
        QCOMPARE(host.app(), before.data());

        // The second workspace: the app is replaced, in this process.
        dialog->setLocation(second);
        QVERIFY(dialog->error().isEmpty()); // editing clears the error
        QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("open")), Qt::LeftButton);
        QTRY_COMPARE(switched.size(), 1);
        QCOMPARE(switched.first().first().toString(), second);
        QVERIFY(!before); // the old app, its window and the dialog are gone
        QVERIFY(!dialog);
        DesktopApp *after = host.app();
        QVERIFY(after);
        QCOMPARE(after->location(), second);
        QCOMPARE(after->service().location(), second);
        QVERIFY(QTest::qWaitForWindowExposed(&after->window()));
        QCOMPARE(shownEvents(*after), QStringList{QStringLiteral("second event")});
        QVERIFY(!after->window().windowTitle().contains(QLatin1String("first.db")));
        QTRY_VERIFY_WITH_TIMEOUT(after->endpoint().isRunning(), 5000);

        // Its Rows viewer shows that workspace's rows.
        const QString slug = after->service().definitions().first().slug;
        after->openEvent(slug);
        auto *rows = after->eventPage()->findChild<RowsView *>();
        QVERIFY(rows);
        QTRY_COMPARE_WITH_TIMEOUT(rows->model()->rowCount(), 3, 5000);
        QTRY_VERIFY(rows->model()->exactCount().has_value());
        QCOMPARE(*rows->model()->exactCount(), qint64(3));
        host.shutdown();
    }
};

QTEST_MAIN(TestOpenWorkspace)
#include "tst_openworkspace.moc"
