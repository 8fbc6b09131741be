#pragma once

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QTableView;
class QTimer;

namespace meterdesk {

class DeadLettersModel;
class WorkspaceService;

// The Rejected tab: the dead letters of one usage event (time, status, first
// problem) with a detail pane (problem, request body, redacted headers), "Fix and
// re-send" (hands the body to the REST console), delete and clear. GUI thread.
class RejectedView : public QWidget
{
    Q_OBJECT
public:
    RejectedView(WorkspaceService *service, QWidget *parent = nullptr);

    void showSlug(const QString &slug);
    DeadLettersModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }

public slots:
    void reload();
    void deleteSelected();
    void clearAll();

signals:
    // The user wants to fix this body and send it again.
    void resendRequested(const QString &slug, const QString &body);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void showDetail();

    WorkspaceService *m_service;
    DeadLettersModel *m_model = nullptr;
    QTableView *m_view = nullptr;
    QPlainTextEdit *m_problem = nullptr;
    QPlainTextEdit *m_body = nullptr;
    QPlainTextEdit *m_headers = nullptr;
    QLabel *m_empty = nullptr;
    QString m_slug;
    QTimer *m_poll = nullptr;
};

} // namespace meterdesk
