#pragma once

#include "httprequest.h"
#include "httpresponse.h"

#include <QHash>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTimer;
class QToolButton;

namespace meterdesk {

class HeadersEditor;
class RequestSender;
class ResponseView;
class WorkspaceService;

// The REST console page: a request builder (method, URL, headers, auth helper,
// JSON body with live validation), an environment of {{variables}} filled from the
// running endpoint, "New event for…" a usage event, Import from cURL, Copy as
// cURL and code snippets, and the response pane. Sending goes through the
// injected RequestSender (app/ provides the network client), so this page has no
// networking and no SQL. GUI thread.
class ConsolePage : public QWidget
{
    Q_OBJECT
public:
    ConsolePage(WorkspaceService *service, RequestSender *sender, QWidget *parent = nullptr);

    // The endpoint's URL, e.g. "http://127.0.0.1:8080" -> {{baseUrl}}.
    void setBaseUrl(const QString &url);
    void setApiKey(const QString &key);
    QHash<QString, QString> environment() const;

    // Fills the builder with a ready-to-send event for the usage event `slug`.
    void newEventFor(const QString &slug);
    void setRequest(const HttpRequest &request);
    // The request as edited ({{variables}} unresolved, auth helper not applied).
    HttpRequest request() const;
    // What Send sends: auth header added, variables resolved (unknown ones listed).
    HttpRequest resolvedRequest(QStringList *unresolved = nullptr) const;

    void send();   // or cancel, when a request is in flight
    void openCurlImport();
    QString curlCommand() const; // of the resolved request

signals:
    void responseShown(const meterdesk::HttpResponse &response);

private:
    QWidget *buildToolbar();
    QWidget *buildEnvironment();
    QWidget *buildBodyTab();
    QWidget *buildAuthTab();
    void validateBody();
    void prettyPrintBody();
    void onFinished(const HttpResponse &response);
    void createKey();

    WorkspaceService *m_service;
    RequestSender *m_sender;
    QLineEdit *m_baseUrl = nullptr;
    QLineEdit *m_organisation = nullptr;
    QLineEdit *m_apiKey = nullptr;
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
};

} // namespace meterdesk
