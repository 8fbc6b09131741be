#pragma once

#include <QObject>
#include <QString>

#include <memory>

class QStackedWidget;

namespace meterdesk {

class ConsolePage;
class EventPage;
class IngestService;
class MainWindow;
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
    void openEvent(const QString &slug);
    void showList();

private:
    DesktopApp() = default;
    void build(const QString &listenOverride);
    void startEndpoint(const QString &hostPort);
    void addHelpMenu();

    std::unique_ptr<WorkspaceService> m_service;
    std::unique_ptr<IngestService> m_endpoint;
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

// `meterdesk` in GUI mode.
int runGui(const QString &database, const QString &listenOverride);

} // namespace meterdesk
