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

class Workspace;

// The Alerts tab of a usage event's page (docs/METERS.md, "Alerts"): the event's
// alerts (enable/disable in place), a form to add or edit one with inline messages
// (the same Alerts::validate the storage applies), delete, and the selected alert's
// firing history (when, customer, window, value, webhook outcome). The alert tables
// are small: read and written through a connection of its own, opened on first use.
// Evaluation is AlertMonitor's (app/). GUI thread.
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
    bool save();            // create or update from the form; false with inline messages
    bool deleteSelected();  // no confirmation: the caller (the button) asks

protected:
    void showEvent(QShowEvent *event) override;

private:
    Workspace *workspace();
    void fillFields();
    void loadForm(const AlertDefinition &alert);
    AlertDefinition formAlert() const;
    void showProblems(const Problems &problems);
    void checkInline();
    void reloadFirings();

    QString m_location;
    std::unique_ptr<Workspace> m_workspace;
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
