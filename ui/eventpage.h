#pragma once

#include "usageevent.h"

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QTabWidget;


namespace meterdesk {

class AlertsTab;
class ChartTab;
class RejectedView;
class RowsView;
class SqlTemplateTab;
class WorkspaceService;

// One usage event's page: tabs Rows (the live table viewer), Rejected (dead
// letters), Chart (usage per customer over time) and API (endpoint, headers, a
// curl snippet). GUI thread.
class EventPage : public QWidget
{
    Q_OBJECT
public:
    EventPage(WorkspaceService *service, QWidget *parent = nullptr);

    void showEvent(const QString &slug);
    void setBaseUrl(const QString &url);
    QString slug() const { return m_definition.slug; }
    QString curlSnippet() const;
    RowsView *rowsView() const { return m_rows; }
    RejectedView *rejectedView() const { return m_rejected; }
    AlertsTab *alertsTab() const { return m_alerts; }
    SqlTemplateTab *sqlTab() const { return m_sql; }
    ChartTab *chartTab() const { return m_chart; }

public slots:
    // The endpoint committed rows for `slug`: the Rows and Chart tabs show them live.
    void rowsCommitted(const QString &slug);

signals:
    void back();
    // "Open in console": a ready-to-send event for this usage event in the REST console.
    void openInConsole(const QString &slug);
    // "Fix and re-send" from the Rejected tab: this body, for this usage event, in the console.
    void resendInConsole(const QString &slug, const QString &body);

private:
    void refresh();

    WorkspaceService *m_service;
    UsageEventDefinition m_definition;
    QString m_baseUrl = QStringLiteral("http://127.0.0.1:8080");
    QLabel *m_title = nullptr;
    QTabWidget *m_tabs = nullptr;
    QLabel *m_endpoint = nullptr;
    QPlainTextEdit *m_curl = nullptr;
    QLabel *m_schema = nullptr;
    RowsView *m_rows = nullptr;
    RejectedView *m_rejected = nullptr;
    AlertsTab *m_alerts = nullptr;
    SqlTemplateTab *m_sql = nullptr; // SQL templates (docs/METERS.md)
    ChartTab *m_chart = nullptr;
};

} // namespace meterdesk
