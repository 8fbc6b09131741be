#include "desktopapp.h"

#include "aboutdialog.h"
#include "alertmonitor.h"
#include "alertnotifier.h"
#include "alertstab.h"
#include "appsettings.h"
#include "cli.h"
#include "consoleclient.h"
#include "consolepage.h"
#include "consolestore.h"
#include "loadrunner.h"
#include "eventpage.h"
#include "gettingstarted.h"
#include "helpdialog.h"
#include "httprequest.h"
#include "ingestservice.h"
#include "mainwindow.h"
#include "openworkspacedialog.h"
#include "settingspage.h"
#include "sqldialect.h"
#include "usageeventspage.h"
#include "workspace.h"
#include "workspaceservice.h"

#include <QAction>
#include <QApplication>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTextStream>
#include <QTimer>
#include <QTranslator>

// The user guide and the API reference compiled in (resources/help.qrc); a static
// library's resources are registered by name, outside any namespace.
static void initHelpResources()
{
    Q_INIT_RESOURCE(help);
}

namespace meterdesk {

namespace {

// The REST console with its network client (app/consoleclient.h), which it owns
// through the QObject tree; {{baseUrl}} follows the running endpoint, and a usage
// event's "Open in console" brings the page up with an event ready to send.
ConsolePage *createConsole(WorkspaceService *service, IngestService *endpoint, EventPage *eventPage, MainWindow *window)
{
    auto *client = new ConsoleClient;
    auto *console = new ConsolePage(service, client);
    client->setParent(console);
    console->setRunner(new LoadRunner(console));
    console->setStore(std::make_unique<ConsoleStore>(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)));
    QObject::connect(endpoint, &IngestService::started, console, &ConsolePage::setBaseUrl);
    QObject::connect(eventPage, &EventPage::openInConsole, console, [console, window](const QString &slug) {
        console->newEventFor(slug);
        if (auto *pages = qobject_cast<QStackedWidget *>(console->parentWidget()))
            window->setCurrentPage(pages->indexOf(console));
    });
    QObject::connect(eventPage, &EventPage::resendInConsole, console,
                     [console, window](const QString &slug, const QString &body) {
                         HttpRequest r;
                         r.method = QStringLiteral("POST");
                         r.url = QStringLiteral("{{baseUrl}}/usage/") + slug;
                         r.headers = {{QStringLiteral("organisation"), QStringLiteral("{{organisation}}")},
                                      {QStringLiteral("authorization"), QStringLiteral("Bearer {{apiKey}}")},
                                      {QStringLiteral("Content-Type"), QStringLiteral("application/json")}};
                         r.body = body;
                         console->setRequest(r);
                         if (auto *pages = qobject_cast<QStackedWidget *>(console->parentWidget()))
                             window->setCurrentPage(pages->indexOf(console));
                     });
    return console;
}

} // namespace

std::unique_ptr<DesktopApp> DesktopApp::create(const QString &database, const QString &listenOverride, QString *error)
{
    std::unique_ptr<Workspace> workspace = Workspace::open(database, error);
    if (!workspace)
        return nullptr;
    std::unique_ptr<DesktopApp> app(new DesktopApp);
    app->m_database = database;
    app->m_service = std::make_unique<WorkspaceService>(std::move(workspace));
    app->m_endpoint = std::make_unique<IngestService>(database);
    app->m_alerts = std::make_unique<AlertMonitor>(database);
    app->build(listenOverride);
    return app;
}

DesktopApp::~DesktopApp()
{
    shutdown();
}

MainWindow &DesktopApp::window() const { return *m_window; }
WorkspaceService &DesktopApp::service() const { return *m_service; }
IngestService &DesktopApp::endpoint() const { return *m_endpoint; }

void DesktopApp::openEvent(const QString &slug)
{
    m_eventPage->showEvent(slug);
    m_metering->setCurrentWidget(m_eventPage);
    m_window->setCurrentPage(0);
}

void DesktopApp::showList()
{
    m_metering->setCurrentWidget(m_list);
}

void DesktopApp::build(const QString &listenOverride)
{
    m_window = std::make_unique<MainWindow>();
    m_window->setWindowTitle(tr("Meterdesk — %1").arg(SqlDialect::redacted(m_service->location())));
    m_metering = new QStackedWidget;
    m_list = new UsageEventsPage(m_service.get());
    m_eventPage = new EventPage(m_service.get());
    m_metering->addWidget(m_list);
    m_metering->addWidget(m_eventPage);
    m_settings = new SettingsPage(m_service.get());
    m_window->addPage(tr("Metering › Usage Events"), m_metering);
    m_console = createConsole(m_service.get(), m_endpoint.get(), m_eventPage, m_window.get());
    m_window->addPage(tr("REST console"), m_console);
    m_window->addPage(tr("Settings"), m_settings);

    addFileMenu();
    addHelpMenu();
    addAlerts();
    connect(m_list, &UsageEventsPage::openEvent, this, &DesktopApp::openEvent);
    connect(m_eventPage, &EventPage::back, this, &DesktopApp::showList);

    m_listenOverridden = !listenOverride.isEmpty();
    m_listen = m_listenOverridden ? listenOverride : AppSettings::listenAddress.get();
    m_settings->setListenAddress(m_listen);
    m_settings->setTlsFiles(AppSettings::tlsCertificateFile.get(), AppSettings::tlsKeyFile.get());
    connect(m_endpoint.get(), &IngestService::started, this, [this](const QString &url) {
        m_window->setEndpointState(true, url);
        m_list->setBaseUrl(url);
        m_eventPage->setBaseUrl(url);
        m_settings->setEndpointState(true, url, {});
    });
    connect(m_endpoint.get(), &IngestService::failed, this, [this](const QString &why) {
        m_window->setEndpointState(false, {}, why);
        m_settings->setEndpointState(false, {}, why);
    });
    connect(m_settings, &SettingsPage::startRequested, this, [this](const QString &hostPort) {
        AppSettings::listenAddress.set(hostPort);
        AppSettings::endpointEnabled.set(true);
        AppSettings::tlsCertificateFile.set(m_settings->tlsCertificateFile());
        AppSettings::tlsKeyFile.set(m_settings->tlsKeyFile());
        startEndpoint(hostPort);
    });
    connect(m_settings, &SettingsPage::stopRequested, this, [this] {
        m_endpoint->stop();
        AppSettings::endpointEnabled.set(false);
        m_window->setEndpointState(false, {}, tr("Stopped (Settings › Endpoint starts it again)"));
        m_settings->setEndpointState(false, {}, {});
    });
    connect(m_service.get(), &WorkspaceService::definitionsChanged, m_endpoint.get(), &IngestService::reload);
    connect(m_service.get(), &WorkspaceService::keysChanged, m_endpoint.get(), &IngestService::reload);

    // Row counts after commits (coalesced, counted off the GUI thread); events/s once a second.
    auto *statsDebounce = new QTimer(this);
    statsDebounce->setSingleShot(true);
    statsDebounce->setInterval(1000);
    connect(statsDebounce, &QTimer::timeout, m_service.get(), &WorkspaceService::refreshStats);
    connect(m_endpoint.get(), &IngestService::committed, m_eventPage, &EventPage::rowsCommitted);
    connect(m_endpoint.get(), &IngestService::committed, statsDebounce, [statsDebounce] {
        if (!statsDebounce->isActive())
            statsDebounce->start();
    });
    auto *rateTimer = new QTimer(this);
    rateTimer->setInterval(1000);
    connect(rateTimer, &QTimer::timeout, this, [this] {
        const quint64 now = m_endpoint->acceptedCount();
        m_window->setEventsPerSecond(now >= m_lastAccepted ? double(now - m_lastAccepted) : 0);
        m_lastAccepted = now;
    });
    rateTimer->start();
}

// Usage alerts: the monitor evaluates after commits; a crossing shows as a desktop
// notification and in the Alerts tab's history.
void DesktopApp::addAlerts()
{
    m_notifier = new AlertNotifier(m_window.get(), this);
    connect(m_endpoint.get(), &IngestService::committed, m_alerts.get(), &AlertMonitor::rowsCommitted);
    connect(m_alerts.get(), &AlertMonitor::fired, this, [this](const AlertDefinition &alert, const AlertFiring &firing) {
        m_notifier->notify(tr("Usage alert “%1”").arg(alert.name), Alerts::notificationText(alert, firing));
        m_eventPage->alertsTab()->firingsChanged();
    });
    connect(m_alerts.get(), &AlertMonitor::webhookFinished, this, [this] {
        m_eventPage->alertsTab()->firingsChanged();
    });
    connect(m_notifier, &AlertNotifier::activated, this, [this] { m_window->setCurrentPage(0); });
}

void DesktopApp::addFileMenu()
{
    connect(m_window->addFileAction(tr("&Open workspace…"), QKeySequence::Open), &QAction::triggered, this,
            [this] { openWorkspaceDialog(); });
}

OpenWorkspaceDialog *DesktopApp::openWorkspaceDialog()
{
    // Opening is the check: the same migrations and connection as the switch itself.
    auto *dialog = new OpenWorkspaceDialog(m_database, [](const QString &location) {
        QString error;
        return Workspace::open(location, &error) ? QString() : error;
    }, m_window.get());
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &OpenWorkspaceDialog::openRequested, this, &DesktopApp::openWorkspaceRequested);
    dialog->open();
    return dialog;
}

void DesktopApp::addHelpMenu()
{
    initHelpResources();
    const auto showDocument = [this](const QString &title, const QString &path) {
        auto *dialog = new HelpDialog(title, path, m_window.get());
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
    };
    connect(m_window->addHelpAction(tr("&User guide"), QKeySequence::HelpContents), &QAction::triggered, this,
            [showDocument] { showDocument(tr("Meterdesk user guide"), QStringLiteral(":/docs/USER_GUIDE.md")); });
    connect(m_window->addHelpAction(tr("&API reference")), &QAction::triggered, this,
            [showDocument] { showDocument(tr("Meterdesk HTTP API"), QStringLiteral(":/docs/API.md")); });
    connect(m_window->addHelpAction(tr("&Getting started")), &QAction::triggered, this, [this] { openGettingStarted(*this); });
    connect(m_window->addHelpAction(tr("&About Meterdesk")), &QAction::triggered, this, [this] {
        auto *about = new AboutDialog(QStringLiteral(MDK_VERSION), m_window.get());
        about->setAttribute(Qt::WA_DeleteOnClose);
        about->open();
    });
}

void DesktopApp::startEndpoint(const QString &hostPort)
{
    QString host, why;
    quint16 port = 0;
    if (!parseListenAddress(hostPort, &host, &port, &why)) {
        m_settings->setEndpointState(false, {}, why);
        m_window->setEndpointState(false, {}, why);
        return;
    }
    m_endpoint->stop();
    EndpointLimits limits;
    limits.tlsCertFile = m_settings->tlsCertificateFile();
    limits.tlsKeyFile = m_settings->tlsKeyFile();
    m_endpoint->setTls(limits.tlsCertFile, limits.tlsKeyFile);
    m_settings->setSecurityWarning(plainTextWarning(host, limits).isEmpty()
                                       ? QString()
                                       : tr("%1 is reachable from other machines without TLS: API keys travel in "
                                            "plain text. Set an HTTPS certificate and key above.")
                                             .arg(host));
    m_window->setEndpointState(false, {}, tr("Starting…"));
    m_endpoint->start(host, port);
}

void DesktopApp::start()
{
    m_alerts->start();
    m_window->restoreGeometry(AppSettings::windowGeometry.get());
    m_window->setCurrentPage(AppSettings::lastPage.get());
    m_window->show();
    if (AppSettings::endpointEnabled.get() || m_listenOverridden)
        startEndpoint(m_listen);
    else
        m_window->setEndpointState(false, {}, tr("Stopped (Settings › Endpoint starts it)"));
    if (m_service->definitions().isEmpty() && AppSettings::showGettingStarted.get())
        openGettingStarted(*this);
}

void DesktopApp::shutdown()
{
    if (m_shutDown)
        return;
    m_shutDown = true;
    AppSettings::windowGeometry.set(m_window->saveGeometry());
    AppSettings::lastPage.set(m_window->currentPage());
    m_endpoint->stop();
    m_alerts->stop();
}

AppHost::AppHost(const QString &listenOverride, QObject *parent) : QObject(parent), m_listen(listenOverride) {}

AppHost::~AppHost()
{
    shutdown();
}

bool AppHost::open(const QString &location, QString *error)
{
    std::unique_ptr<DesktopApp> next = DesktopApp::create(location, m_listen, error);
    if (!next)
        return false;
    // Queued: the request comes from inside the old app's dialog, which goes with it.
    connect(next.get(), &DesktopApp::openWorkspaceRequested, this, [this](const QString &where) {
        QString why;
        if (open(where, &why)) {
            emit switched(where);
            return;
        }
        if (m_app)
            QMessageBox::warning(&m_app->window(), tr("Open workspace"), why);
        emit switchFailed(where, why);
    }, Qt::QueuedConnection);
    std::unique_ptr<DesktopApp> previous = std::move(m_app);
    if (previous)
        previous->shutdown(); // endpoint drained and committed; its port is free again
    m_app = std::move(next);
    m_app->start();
    previous.reset();
    return true;
}

void AppHost::shutdown()
{
    if (m_app)
        m_app->shutdown();
}

int runGui(const QString &database, const QString &listenOverride)
{
    // Before any widget exists: the user's language when Meterdesk has it, else English.
    auto *translator = new QTranslator(qApp);
    if (translator->load(QLocale(), QStringLiteral("meterdesk"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QCoreApplication::installTranslator(translator);
    QString error;
    AppHost host(listenOverride);
    if (!host.open(database, &error)) {
        QTextStream(stderr) << "meterdesk: " << error << Qt::endl;
        return ExitFailure;
    }
    const int code = QApplication::exec();
    host.shutdown();
    return code;
}

} // namespace meterdesk
