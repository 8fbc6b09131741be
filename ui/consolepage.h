#pragma once

#include "httprequest.h"
#include "httpresponse.h"

#include <QDateTime>
#include <QHash>
#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTimer;
class QToolButton;

namespace meterdesk {

class ConsoleSidebar;
class ConsoleStore;
class EnvironmentBar;
class EventRunner;
class RunnerPanel;
class HeadersEditor;
class RequestSender;
class ResponseView;
class WorkspaceService;

// The REST console page: a request builder (method, URL, headers, auth helper,
// JSON body with live validation), an environment of {{variables}} filled from the
// running endpoint, "New event for…" a usage event, Import from cURL, Copy as
// cURL and code snippets, the response pane, and a sidebar with the history and
// collections (persisted through the ConsoleStore app/ gives it). Sending goes through the
// injected RequestSender (app/ provides the network client), so this page has no
// networking and no SQL. GUI thread.
class ConsolePage : public QWidget
{
    Q_OBJECT
public:
    ConsolePage(WorkspaceService *service, RequestSender *sender, QWidget *parent = nullptr);
    ~ConsolePage() override;

    // Where history and collections live; loads them. Without one nothing persists.
    void setStore(std::unique_ptr<ConsoleStore> store);
    ConsoleSidebar *sidebar() const { return m_sidebar; }
    ConsoleStore *store() const { return m_store.get(); }
    // Enables the Runner tab (many events from this request) with this runner (not owned).
    void setRunner(EventRunner *runner);
    RunnerPanel *runnerPanel() const { return m_runner; }

    // The endpoint's URL, e.g. "http://127.0.0.1:8080" -> {{baseUrl}} of "This endpoint".
    void setBaseUrl(const QString &url);
    void setApiKey(const QString &key); // of the current environment
    EnvironmentBar *environmentBar() const { return m_environment; }
    QHash<QString, QString> environment() const;

    // Fills the builder with a ready-to-send event for the usage event `slug`.
    void newEventFor(const QString &slug);
    void setRequest(const HttpRequest &request);
    // The request as edited ({{variables}} unresolved, auth helper not applied).
    HttpRequest request() const;
    // request() with the auth helper's header added ({{variables}} still unresolved).
    HttpRequest requestWithAuth() const;
    // What Send sends: auth header added, variables resolved (unknown ones listed).
    HttpRequest resolvedRequest(QStringList *unresolved = nullptr) const;

    void send();   // or cancel, when a request is in flight
    void openCurlImport();
    QString curlCommand() const; // of the resolved request

signals:
    void responseShown(const meterdesk::HttpResponse &response);

private:
    QWidget *buildToolbar();
    QWidget *buildBodyTab();
    QWidget *buildAuthTab();
    void validateBody();
    void prettyPrintBody();
    void onFinished(const HttpResponse &response);
    void createKey();
    bool checkResolved(const QStringList &unresolved, const HttpRequest &resolved);

    WorkspaceService *m_service;
    RequestSender *m_sender;
    EnvironmentBar *m_environment = nullptr;
    QComboBox *m_method = nullptr;
    QLineEdit *m_url = nullptr;
    QPushButton *m_send = nullptr;
    QTabWidget *m_requestTabs = nullptr;
    HeadersEditor *m_headers = nullptr;
    QComboBox *m_authKind = nullptr;
    QLineEdit *m_authValue = nullptr;
    QPlainTextEdit *m_body = nullptr;
    QLabel *m_bodyStatus = nullptr;
    QTimer *m_validate = nullptr;
    QToolButton *m_newEvent = nullptr;
    ResponseView *m_response = nullptr;
    ConsoleSidebar *m_sidebar = nullptr;
    RunnerPanel *m_runner = nullptr;
    std::unique_ptr<ConsoleStore> m_store;
    HttpRequest m_inFlight;                   // as edited, for the history
    QDateTime m_sentAt;
};

} // namespace meterdesk
