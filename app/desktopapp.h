#pragma once

#include <QObject>
#include <QString>

#include <memory>

class QStackedWidget;

namespace meterdesk {

class AlertMonitor;
class AlertNotifier;
class ConsolePage;
class EventPage;
class IngestService;
class MainWindow;
class OpenWorkspaceDialog;
class SettingsPage;
class UsageEventsPage;
class WorkspaceService;

// The desktop app composed: the workspace service, the in-process endpoint, the
// window and its pages, and the wiring between them. Used by `meterdesk` (GUI
// mode), the GUI tests and scripts/screenshots. GUI thread.
class DesktopApp : public QObject
{
    Q_OBJECT
public:
    static std::unique_ptr<DesktopApp> create(const QString &database, const QString &listenOverride, QString *error);
    ~DesktopApp() override;

    // Shows the window (geometry and page as last time) and starts the endpoint
    // unless the user stopped it last time; on a workspace without usage events,
    // opens Getting started unless the user said not to show it again.
    void start();
    // Saves window state, stops the endpoint (drains and commits).
    void shutdown();

    MainWindow &window() const;
    WorkspaceService &service() const;
    IngestService &endpoint() const;
    UsageEventsPage *usageEventsPage() const { return m_list; }
    EventPage *eventPage() const { return m_eventPage; }
    SettingsPage *settingsPage() const { return m_settings; }
    ConsolePage *consolePage() const { return m_console; }
    AlertMonitor *alertMonitor() const { return m_alerts.get(); }
    AlertNotifier *alertNotifier() const { return m_notifier; }
    void openEvent(const QString &slug);
    void showList();
    // File › Open workspace…: the dialog, open (window-modal, deletes itself on
    // close); it validates by opening the workspace, then openWorkspaceRequested().
    OpenWorkspaceDialog *openWorkspaceDialog();
    QString location() const { return m_database; }

signals:
    // A validated workspace to switch to: whoever owns this app (AppHost) replaces it.
    void openWorkspaceRequested(const QString &location);

private:
    DesktopApp() = default;
    void build(const QString &listenOverride);
    void startEndpoint(const QString &hostPort);
    void addHelpMenu();
    void addFileMenu();
    void addAlerts();

    std::unique_ptr<WorkspaceService> m_service;
    std::unique_ptr<IngestService> m_endpoint;
    std::unique_ptr<AlertMonitor> m_alerts;
    AlertNotifier *m_notifier = nullptr;
    std::unique_ptr<MainWindow> m_window;
    QStackedWidget *m_metering = nullptr;
    UsageEventsPage *m_list = nullptr;
    EventPage *m_eventPage = nullptr;
    SettingsPage *m_settings = nullptr;
    ConsolePage *m_console = nullptr;
    QString m_database;
    QString m_listen;
    bool m_listenOverridden = false;
    quint64 m_lastAccepted = 0;
    bool m_shutDown = false;
};

// The GUI process's current DesktopApp. Open replaces it without leaving the process:
// the new workspace is opened and built first (a failure leaves the current app as
// it was), then the current one shuts down (its endpoint drained and committed),
// then the new one starts and the old one is deleted. An app's
// openWorkspaceRequested() does the same, queued, so the app is never deleted
// inside its own signal.
class AppHost : public QObject
{
    Q_OBJECT
public:
    explicit AppHost(const QString &listenOverride, QObject *parent = nullptr);
    ~AppHost() override;

    bool open(const QString &location, QString *error);
    DesktopApp *app() const { return m_app.get(); }
    void shutdown();

signals:
    void switched(const QString &location);
    void switchFailed(const QString &location, const QString &error);

private:
    QString m_listen;
    std::unique_ptr<DesktopApp> m_app;
};

// `meterdesk` in GUI mode.
int runGui(const QString &database, const QString &listenOverride);

} // namespace meterdesk
