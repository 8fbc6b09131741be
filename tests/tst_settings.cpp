// Settings page with real widgets on the offscreen platform: the endpoint's listen
// address, the organisation, and API keys created and revoked against a real
// workspace file (checked through a second connection, as the endpoint sees it).
#include "apikeys.h"
#include "apikeysmodel.h"
#include "apikeycreateddialog.h"
#include "settingspage.h"
#include "workspace.h"
#include "workspaceservice.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using namespace meterdesk;
using namespace Qt::StringLiterals;

class TestSettings : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void createdKeyIsShownOnceThenListed();
    void revokeAfterConfirmationStopsTheKey();
    void revokeCancelledLeavesTheKeyLive();
    void revokeNeedsALiveSelection();
    void revokeFailureIsShownInline();
    void createFailureIsShownInline();
    void keysByKeyboardOnly();
    void organisationIsShownAndCopied();
    void listenAddressIsValidatedInline_data();
    void listenAddressIsValidatedInline();
    void startAndStopAreRequested();
    void endpointErrorOffersAFreePort();
    void httpsNeedsBothFiles();

private:
    template<typename T> T *widget(const char *name) const
    {
        return m_page->findChild<T *>(QString::fromLatin1(name));
    }
    std::unique_ptr<Workspace> openAgain() const;
    QModelIndex keyIndex(int row, int column = 0) const;
    void clickRow(int row);
    QString createKeyThroughUi(const QString &name);
    QMessageBox *askToRevoke();

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_file;
    QString m_organisation;
    WorkspaceService *m_service = nullptr;
    SettingsPage *m_page = nullptr;
};

void TestSettings::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void TestSettings::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_file = m_dir->filePath(u"workspace.sqlite"_s);
    QString error;
    std::unique_ptr<Workspace> workspace = Workspace::open(m_file, &error);
    QVERIFY2(workspace, qPrintable(error));
    m_organisation = workspace->organisation();
    m_service = new WorkspaceService(std::move(workspace));
    m_page = new SettingsPage(m_service);
    m_page->resize(900, 700);
    m_page->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_page));
}

void TestSettings::cleanup()
{
    delete m_page; // its dialogs are its children
    m_page = nullptr;
    delete m_service;
    m_service = nullptr;
    m_dir.reset();
}

std::unique_ptr<Workspace> TestSettings::openAgain() const
{
    QString error;
    auto workspace = Workspace::open(m_file, &error);
    if (!workspace)
        qWarning() << error;
    return workspace;
}

QModelIndex TestSettings::keyIndex(int row, int column) const
{
    const auto *view = widget<QTableView>("keysView");
    return view->model()->index(row, column);
}

void TestSettings::clickRow(int row)
{
    auto *view = widget<QTableView>("keysView");
    const QRect rect = view->visualRect(keyIndex(row));
    QVERIFY(rect.isValid());
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
}

// Types a name, clicks Create key, checks the one-time dialog and closes it.
QString TestSettings::createKeyThroughUi(const QString &name)
{
    auto *keyName = widget<QLineEdit>("keyName");
    keyName->selectAll();
    QTest::keyClicks(keyName, name);
    QTest::mouseClick(widget<QPushButton>("createKey"), Qt::LeftButton);
    QPointer<ApiKeyCreatedDialog> dialog = m_page->findChild<ApiKeyCreatedDialog *>();
    if (!dialog || QApplication::activeModalWidget() != dialog)
        return {};
    const auto *field = dialog->findChild<QLineEdit *>(u"createdKey"_s);
    QString key = field ? field->text() : QString();
    dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Close)->click();
    if (!QTest::qWaitFor([&] { return dialog.isNull(); }))
        return {};
    return key;
}

QMessageBox *TestSettings::askToRevoke()
{
    QTest::mouseClick(widget<QPushButton>("revokeKey"), Qt::LeftButton);
    auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
    return box && box->objectName() == u"revokeConfirm"_s ? box : nullptr;
}

void TestSettings::createdKeyIsShownOnceThenListed()
{
    auto *create = widget<QPushButton>("createKey");
    QVERIFY(create);
    QVERIFY(!create->isEnabled()); // a key needs a name
    QTest::keyClicks(widget<QLineEdit>("keyName"), u"ci runner"_s);
    QVERIFY(create->isEnabled());
    QTest::mouseClick(create, Qt::LeftButton);

    QPointer<ApiKeyCreatedDialog> dialog = m_page->findChild<ApiKeyCreatedDialog *>();
    QVERIFY(dialog);
    QCOMPARE(QApplication::activeModalWidget(), dialog.data());
    auto *field = dialog->findChild<QLineEdit *>(u"createdKey"_s);
    QVERIFY(field);
    QVERIFY(field->isReadOnly());
    const QString key = field->text();
    QVERIFY2(key.startsWith(u"mdk_"_s), qPrintable(key));
    QVERIFY(key.size() > 20);
    const auto *warning = dialog->findChild<QLabel *>(u"createdKeyWarning"_s);
    QVERIFY(warning && warning->isVisible());
    QVERIFY(warning->text().contains(u"not be shown again"_s));
    QVERIFY(warning->text().contains(u"SHA-256"_s));
    QTest::mouseClick(dialog->findChild<QPushButton *>(u"copyKey"_s), Qt::LeftButton);
    QCOMPARE(QGuiApplication::clipboard()->text(), key);

    QTest::mouseClick(dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Close), Qt::LeftButton);
    QTRY_VERIFY(dialog.isNull()); // gone, and the key with it
    QVERIFY(!QApplication::activeModalWidget());

    // Listed by name and prefix, never the key; selected, and live.
    auto *view = widget<QTableView>("keysView");
    QCOMPARE(view->model()->rowCount(), 1);
    QCOMPARE(keyIndex(0, ApiKeysModel::Name).data().toString(), u"ci runner"_s);
    QCOMPARE(keyIndex(0, ApiKeysModel::Prefix).data().toString(), key.left(12) + u"…"_s);
    QCOMPARE(keyIndex(0, ApiKeysModel::State).data().toString(), u"live"_s);
    for (int column = 0; column < view->model()->columnCount(); ++column)
        QVERIFY(!keyIndex(0, column).data().toString().contains(key));
    QVERIFY(widget<QLineEdit>("keyName")->text().isEmpty());
    QVERIFY(widget<QPushButton>("revokeKey")->isEnabled());
    QVERIFY(!widget<QLabel>("keyError")->isVisible());

    // The endpoint (another connection) accepts it.
    auto other = openAgain();
    QVERIFY(other);
    QCOMPARE(ApiKeys::verify(ApiKeys::liveDigests(*other), key.toLatin1()), keyIndex(0).data(ApiKeysModel::IdRole).toLongLong());
}

void TestSettings::revokeAfterConfirmationStopsTheKey()
{
    const QString key = createKeyThroughUi(u"to revoke"_s);
    QVERIFY(key.startsWith(u"mdk_"_s));
    auto other = openAgain();
    QVERIFY(other);
    QVERIFY(ApiKeys::verify(ApiKeys::liveDigests(*other), key.toLatin1()));

    widget<QTableView>("keysView")->clearSelection();
    QVERIFY(!widget<QPushButton>("revokeKey")->isEnabled());
    clickRow(0);
    QVERIFY(widget<QPushButton>("revokeKey")->isEnabled());
    QPointer<QMessageBox> box = askToRevoke();
    QVERIFY(box);
    QVERIFY(box->text().contains(u"to revoke"_s));
    QCOMPARE(box->defaultButton(), box->button(QMessageBox::No)); // destructive: not the default
    QTest::mouseClick(box->button(QMessageBox::Yes), Qt::LeftButton);
    QTRY_VERIFY(box.isNull());

    QCOMPARE(keyIndex(0, ApiKeysModel::State).data().toString(), u"revoked"_s);
    QVERIFY(!widget<QPushButton>("revokeKey")->isEnabled());
    QVERIFY(!widget<QLabel>("keyError")->isVisible());
    QVERIFY(!ApiKeys::verify(ApiKeys::liveDigests(*other), key.toLatin1()));
    QVERIFY(!ApiKeys::verify(ApiKeys::liveDigests(*openAgain()), key.toLatin1()));
}

void TestSettings::revokeCancelledLeavesTheKeyLive()
{
    const QString key = createKeyThroughUi(u"keep me"_s);
    QVERIFY(key.startsWith(u"mdk_"_s));
    clickRow(0);

    // Escape answers "no".
    QPointer<QMessageBox> box = askToRevoke();
    QVERIFY(box);
    QTest::keyClick(box, Qt::Key_Escape);
    QTRY_VERIFY(box.isNull());
    QCOMPARE(keyIndex(0, ApiKeysModel::State).data().toString(), u"live"_s);

    // So does the No button.
    box = askToRevoke();
    QVERIFY(box);
    QTest::mouseClick(box->button(QMessageBox::No), Qt::LeftButton);
    QTRY_VERIFY(box.isNull());
    QCOMPARE(keyIndex(0, ApiKeysModel::State).data().toString(), u"live"_s);
    QVERIFY(widget<QPushButton>("revokeKey")->isEnabled());

    auto other = openAgain();
    QVERIFY(other);
    QVERIFY(ApiKeys::verify(ApiKeys::liveDigests(*other), key.toLatin1()));
}

void TestSettings::revokeNeedsALiveSelection()
{
    QString error;
    const auto first = m_service->createKey(u"first"_s, &error);
    const auto second = m_service->createKey(u"second"_s, &error);
    QVERIFY2(first && second, qPrintable(error));
    QVERIFY(m_service->revokeKey(first->info.id, &error));
    // keysChanged refreshed the view without any click.
    QCOMPARE(widget<QTableView>("keysView")->model()->rowCount(), 2);
    QCOMPARE(keyIndex(0, ApiKeysModel::State).data().toString(), u"revoked"_s);
    QCOMPARE(keyIndex(1, ApiKeysModel::State).data().toString(), u"live"_s);

    auto *revoke = widget<QPushButton>("revokeKey");
    QVERIFY(!revoke->isEnabled()); // nothing selected
    clickRow(0);
    QVERIFY(!revoke->isEnabled()); // revoked already
    QVERIFY(!askToRevoke());
    clickRow(1);
    QVERIFY(revoke->isEnabled());

    // The selection survives a refresh from elsewhere.
    const auto third = m_service->createKey(u"third"_s, &error);
    QVERIFY(third);
    QCOMPARE(widget<QTableView>("keysView")->model()->rowCount(), 3);
    QVERIFY(revoke->isEnabled());
    QCOMPARE(widget<QTableView>("keysView")->selectionModel()->selectedRows().value(0).row(), 1);
}

void TestSettings::revokeFailureIsShownInline()
{
    QString error;
    const auto created = m_service->createKey(u"twice"_s, &error);
    QVERIFY(created);
    clickRow(0);
    // Revoked behind the page's back (the CLI, another window): the page still shows it live.
    auto other = openAgain();
    QVERIFY(other);
    QVERIFY(ApiKeys::revoke(*other, created->info.id, &error));
    QCOMPARE(keyIndex(0, ApiKeysModel::State).data().toString(), u"live"_s);

    QPointer<QMessageBox> box = askToRevoke();
    QVERIFY(box);
    QTest::mouseClick(box->button(QMessageBox::Yes), Qt::LeftButton);
    QTRY_VERIFY(box.isNull());
    auto *keyError = widget<QLabel>("keyError");
    QVERIFY(keyError->isVisible());
    QVERIFY2(keyError->text().contains(u"Could not revoke"_s), qPrintable(keyError->text()));
    QCOMPARE(keyIndex(0, ApiKeysModel::State).data().toString(), u"revoked"_s); // reloaded: what is true now
    QVERIFY(!widget<QPushButton>("revokeKey")->isEnabled());
}

void TestSettings::createFailureIsShownInline()
{
    auto other = openAgain();
    QVERIFY(other);
    QSqlQuery drop(other->database());
    QVERIFY(drop.exec(u"DROP TABLE api_keys"_s));

    QTest::keyClicks(widget<QLineEdit>("keyName"), u"doomed"_s);
    QTest::mouseClick(widget<QPushButton>("createKey"), Qt::LeftButton);
    QVERIFY(!m_page->findChild<ApiKeyCreatedDialog *>());
    QVERIFY(!QApplication::activeModalWidget());
    auto *keyError = widget<QLabel>("keyError");
    QVERIFY(keyError->isVisible());
    QVERIFY2(keyError->text().contains(u"Could not create"_s), qPrintable(keyError->text()));
    QCOMPARE(widget<QLineEdit>("keyName")->text(), u"doomed"_s); // nothing typed is lost
}

void TestSettings::keysByKeyboardOnly()
{
    auto *keyName = widget<QLineEdit>("keyName");
    keyName->setFocus();
    QTest::keyClicks(keyName, u"keyboard"_s);
    QTest::keyClick(keyName, Qt::Key_Return);
    QPointer<ApiKeyCreatedDialog> dialog = m_page->findChild<ApiKeyCreatedDialog *>();
    QVERIFY(dialog);
    QVERIFY(dialog->findChild<QLineEdit *>(u"createdKey"_s)->text().startsWith(u"mdk_"_s));
    QTest::keyClick(dialog, Qt::Key_Escape);
    QTRY_VERIFY(dialog.isNull());

    // The new key is selected; Delete in the table asks, Escape keeps it.
    auto *view = widget<QTableView>("keysView");
    QVERIFY(view->focusPolicy() & Qt::TabFocus);
    QVERIFY(!view->tabKeyNavigation()); // Tab leaves the table
    // Shortcuts need the active window. The offscreen platform leaves no window
    // active when a dialog closes (a window manager would give it back to the
    // page), so the test gives it back each time.
    const auto focusKeys = [&] {
        m_page->activateWindow();
        view->setFocus();
        return QTest::qWaitForWindowActive(m_page) && QApplication::focusWidget() == view;
    };
    QVERIFY(focusKeys());
    QTest::keyClick(view, Qt::Key_Delete);
    QPointer<QMessageBox> box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
    QVERIFY(box);
    QTest::keyClick(box, Qt::Key_Escape);
    QTRY_VERIFY(box.isNull());
    QCOMPARE(keyIndex(0, ApiKeysModel::State).data().toString(), u"live"_s);

    // Enter takes the default answer, which is "no".
    QVERIFY(focusKeys());
    QTest::keyClick(view, Qt::Key_Delete);
    box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
    QVERIFY(box);
    QTest::keyClick(box, Qt::Key_Return);
    QTRY_VERIFY(box.isNull());
    QCOMPARE(keyIndex(0, ApiKeysModel::State).data().toString(), u"live"_s);

    // Focus on the Revoke answer and Space confirms.
    QVERIFY(focusKeys());
    QTest::keyClick(view, Qt::Key_Delete);
    box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
    QVERIFY(box);
    QTest::keyClick(box->button(QMessageBox::Yes), Qt::Key_Space);
    QTRY_VERIFY(box.isNull());
    QCOMPARE(keyIndex(0, ApiKeysModel::State).data().toString(), u"revoked"_s);
}

void TestSettings::organisationIsShownAndCopied()
{
    auto *field = widget<QLineEdit>("organisation");
    QVERIFY(field);
    QVERIFY(field->isReadOnly());
    QCOMPARE(field->text(), m_organisation);
    QCOMPARE(field->text(), m_service->organisation());
    QVERIFY(!QUuid::fromString(field->text()).isNull());
    const auto *hint = widget<QLabel>("organisationHint");
    QVERIFY(hint && hint->isVisible());
    QVERIFY(hint->text().contains(u"organisation</code> header"_s));

    QGuiApplication::clipboard()->clear();
    QTest::mouseClick(widget<QPushButton>("copyOrganisation"), Qt::LeftButton);
    QCOMPARE(QGuiApplication::clipboard()->text(), m_organisation);
}

void TestSettings::listenAddressIsValidatedInline_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::newRow("IPv4") << u"127.0.0.1:8080"_s << true;
    QTest::newRow("any address") << u"0.0.0.0:8080"_s << true;
    QTest::newRow("port 0 picks one") << u"127.0.0.1:0"_s << true;
    QTest::newRow("highest port") << u"localhost:65535"_s << true;
    QTest::newRow("IPv6 in brackets") << u"[::1]:8080"_s << true;
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("port only") << u"8080"_s << false;
    QTest::newRow("host only") << u"127.0.0.1"_s << false;
    QTest::newRow("no port after colon") << u"127.0.0.1:"_s << false;
    QTest::newRow("port too big") << u"127.0.0.1:65536"_s << false;
    QTest::newRow("negative port") << u"127.0.0.1:-1"_s << false;
    QTest::newRow("port not a number") << u"127.0.0.1:http"_s << false;
    QTest::newRow("space in host") << u"my host:8080"_s << false;
    QTest::newRow("bare IPv6") << u"::1:8080"_s << false;
    QTest::newRow("unclosed bracket") << u"[::1:8080"_s << false;
    QTest::newRow("URL, not HOST:PORT") << u"http://127.0.0.1:8080"_s << false;
}

void TestSettings::listenAddressIsValidatedInline()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QSignalSpy started(m_page, &SettingsPage::startRequested);
    auto *field = widget<QLineEdit>("listenAddress");
    auto *message = widget<QLabel>("listenAddressError");
    auto *start = widget<QPushButton>("startButton");
    QVERIFY(field && message && start);
    // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): QVERIFY above returns when a pointer is null; the analyzer cannot see through QTest::qVerify
    QVERIFY(!message->isVisible()); // the default is fine

    field->setFocus();
    field->selectAll();
    QTest::keyClick(field, Qt::Key_Backspace);
    QTest::keyClicks(field, text);
    QCOMPARE(field->text(), text);
    QCOMPARE(message->isVisible(), !valid);
    QCOMPARE(start->isEnabled(), valid);
    if (!valid)
        QVERIFY(message->text().contains(u"HOST:PORT"_s));
    QCOMPARE(SettingsPage::isValidListenAddress(text), valid);

    QTest::keyClick(field, Qt::Key_Return); // Enter starts, but only a valid address
    QCOMPARE(started.count(), valid ? 1 : 0);
}

void TestSettings::httpsNeedsBothFiles()
{
    QSignalSpy started(m_page, &SettingsPage::startRequested);
    auto *cert = widget<QLineEdit>("tlsCertificate");
    auto *key = widget<QLineEdit>("tlsKey");
    auto *error = widget<QLabel>("tlsError");
    auto *warning = widget<QLabel>("securityWarning");
    auto *start = widget<QPushButton>("startButton");
    QVERIFY(cert && key && error && warning && start);
    // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): QVERIFY above returns when a pointer is null
    QVERIFY(!error->isVisible());
    QVERIFY(!warning->isVisible());
    QTest::keyClicks(cert, u"/etc/meterdesk/cert.pem"_s);
    QVERIFY(error->isVisible()); // a certificate without its key
    QVERIFY(error->text().contains(u"both"_s));
    QVERIFY(!start->isEnabled());
    QTest::keyClicks(key, u"/etc/meterdesk/key.pem"_s);
    QVERIFY(!error->isVisible());
    QVERIFY(start->isEnabled());
    QTest::mouseClick(start, Qt::LeftButton);
    QCOMPARE(started.count(), 1);
    QCOMPARE(m_page->tlsCertificateFile(), u"/etc/meterdesk/cert.pem"_s);
    QCOMPARE(m_page->tlsKeyFile(), u"/etc/meterdesk/key.pem"_s);
    m_page->setSecurityWarning(u"listening on 0.0.0.0 without TLS"_s);
    QVERIFY(warning->isVisible());
    m_page->setSecurityWarning({});
    QVERIFY(!warning->isVisible());
    m_page->setTlsFiles({}, {});
    QVERIFY(cert->text().isEmpty() && key->text().isEmpty());
}

void TestSettings::startAndStopAreRequested()
{
    QSignalSpy started(m_page, &SettingsPage::startRequested);
    QSignalSpy stopped(m_page, &SettingsPage::stopRequested);
    auto *start = widget<QPushButton>("startButton");
    auto *stop = widget<QPushButton>("stopButton");
    auto *status = widget<QLabel>("endpointStatus");
    QVERIFY(start->isEnabled());
    QVERIFY(!stop->isEnabled());
    QVERIFY(status->text().contains(u"Stopped"_s));

    auto *field = widget<QLineEdit>("listenAddress");
    field->selectAll();
    QTest::keyClicks(field, u"127.0.0.1:9091"_s);
    QTest::mouseClick(start, Qt::LeftButton);
    QCOMPARE(started.count(), 1);
    QCOMPARE(started.first().first().toString(), u"127.0.0.1:9091"_s);
    QVERIFY(!start->isEnabled()); // no second start while the first is pending
    QTest::mouseClick(start, Qt::LeftButton);
    QCOMPARE(started.count(), 1);

    m_page->setEndpointState(true, u"http://127.0.0.1:9091"_s, {});
    QCOMPARE(status->text(), u"Running at http://127.0.0.1:9091"_s);
    QVERIFY(!start->isEnabled());
    QVERIFY(stop->isEnabled());
    QVERIFY(!widget<QWidget>("useFreePort")->isVisible());

    QTest::mouseClick(stop, Qt::LeftButton);
    QCOMPARE(stopped.count(), 1);
    m_page->setEndpointState(false, {}, {});
    QCOMPARE(status->text(), u"Stopped."_s);
    QVERIFY(start->isEnabled());
    QVERIFY(!stop->isEnabled());

    m_page->setListenAddress(u"[::1]:8081"_s);
    QCOMPARE(m_page->listenAddress(), u"[::1]:8081"_s);
    QCOMPARE(field->text(), u"[::1]:8081"_s);
}

void TestSettings::endpointErrorOffersAFreePort()
{
    QSignalSpy started(m_page, &SettingsPage::startRequested);
    auto *status = widget<QLabel>("endpointStatus");
    auto *freePort = widget<QPushButton>("useFreePort");
    QVERIFY(freePort);
    QVERIFY(!freePort->isVisible());

    m_page->setListenAddress(u"127.0.0.1:8080"_s);
    m_page->setEndpointState(false, {}, u"Port 8080 is in use"_s);
    QVERIFY2(status->text().contains(u"Port 8080 is in use"_s), qPrintable(status->text()));
    QVERIFY(status->palette().color(QPalette::WindowText) != m_page->palette().color(QPalette::WindowText));
    QVERIFY(freePort->isVisible());
    QVERIFY(widget<QPushButton>("startButton")->isEnabled()); // retrying as is stays possible

    QTest::mouseClick(freePort, Qt::LeftButton);
    QCOMPARE(m_page->listenAddress(), u"127.0.0.1:0"_s);
    QCOMPARE(started.count(), 1);
    QCOMPARE(started.first().first().toString(), u"127.0.0.1:0"_s);
    QVERIFY(!freePort->isVisible());
    QVERIFY(!status->text().contains(u"in use"_s));

    m_page->setEndpointState(true, u"http://127.0.0.1:40123"_s, {});
    QVERIFY(status->text().contains(u"http://127.0.0.1:40123"_s));
    QCOMPARE(status->palette().color(QPalette::WindowText), m_page->palette().color(QPalette::WindowText));
}

QTEST_MAIN(TestSettings)
#include "tst_settings.moc"
