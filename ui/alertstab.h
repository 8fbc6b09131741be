#pragma once

#include "alerts.h"

#include <QHash>
#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace meterdesk {

class WorkspaceWorker;

// The Alerts tab of a usage event's page (docs/METERS.md, "Alerts"): the event's
// alerts (enable/disable in place), a form to add or edit one with inline messages
// (the same Alerts::validate the storage applies), delete, and the selected alert's
// firing history (when, customer, window, value, webhook outcome). The alert tables
// are small, but a database server may be slow or gone: they are read and written on
// a thread of their own (WorkspaceWorker), and the widgets are filled when the answer
// comes. Evaluation is AlertMonitor's (app/). GUI thread.
class AlertsTab : public QWidget
{
    Q_OBJECT
public:
    explicit AlertsTab(const QString &workspaceLocation, QWidget *parent = nullptr);
    ~AlertsTab() override;

    void showDefinition(const UsageEventDefinition &definition);

    QTableWidget *alertsTable() const { return m_alerts; }
    QTableWidget *firingsTable() const { return m_firings; }
    // The inline message of a form field ("name", "field", "function", "timeZone",
    // "threshold", "webhookUrl"), empty when none.
    QString fieldMessage(const QString &pointer) const;
    qint64 selectedAlertId() const;

public slots:
    void reload();          // the list, then the selected alert's history
    void firingsChanged();  // an alert fired or a webhook answered: reload when shown
    void newAlert();        // an empty form
    // Create or update from the form: false with inline messages when the form is not
    // valid; else true, and saved() or inline messages (or the status line) follow.
    bool save();
    bool deleteSelected();  // no confirmation: the caller (the button) asks; removed() follows

signals:
    void saved(qint64 id);
    void removed(qint64 id);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void fillFields();
    void fillList(const QList<AlertDefinition> &list, qint64 select);
    void loadForm(const AlertDefinition &alert);
    AlertDefinition formAlert() const;
    void showProblems(const Problems &problems);
    void checkInline();
    void reloadFirings();

    std::unique_ptr<WorkspaceWorker> m_worker;
    quint64 m_firingsAsked = 0; // the newest firing history asked for; older answers are dropped
    UsageEventDefinition m_definition;
    QList<AlertDefinition> m_list;
    qint64 m_editingId = 0;
    bool m_stale = false;
    bool m_filling = false;

    QTableWidget *m_alerts = nullptr;
    QTableWidget *m_firings = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_formTitle = nullptr;
    QLineEdit *m_name = nullptr;
    QComboBox *m_field = nullptr;
    QComboBox *m_function = nullptr;
    QComboBox *m_window = nullptr;
    QComboBox *m_zone = nullptr;
    QComboBox *m_comparison = nullptr;
    QLineEdit *m_threshold = nullptr;
    QLineEdit *m_webhook = nullptr;
    QCheckBox *m_enabled = nullptr;
    QPushButton *m_save = nullptr;
    QPushButton *m_delete = nullptr;
    QHash<QString, QLabel *> m_messages; // pointer -> inline message
};

} // namespace meterdesk
