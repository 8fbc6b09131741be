#pragma once

#include <QWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QStackedWidget;
class QTableView;
class QPushButton;

namespace meterdesk {

class UsageEventsModel;
class WorkspaceService;

// Metering › Usage Events: the list of usage events (name, slug, endpoint URL with
// copy, rows, last event), a filter, + ADD USAGE EVENT, and an empty state that
// explains and offers the seed's example. GUI thread; data via WorkspaceService.
class UsageEventsPage : public QWidget
{
    Q_OBJECT
public:
    UsageEventsPage(WorkspaceService *service, QWidget *parent = nullptr);

    UsageEventsModel *model() const { return m_model; }
    void setBaseUrl(const QString &url);
    QString baseUrl() const { return m_baseUrl; }

public slots:
    void addUsageEvent();   // opens the form
    void tryExample();      // creates the seed's test_1 event
    void reload();          // definitions + stats

signals:
    void openEvent(const QString &slug);

private:
    QString selectedSlug() const;
    void editSelected();
    void deleteSelected();
    void copyEndpoint();

    WorkspaceService *m_service;
    UsageEventsModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QStackedWidget *m_stack = nullptr;
    QTableView *m_view = nullptr;
    QLineEdit *m_filter = nullptr;
    QString m_baseUrl = QStringLiteral("http://127.0.0.1:8080");
};

} // namespace meterdesk
