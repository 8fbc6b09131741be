#pragma once

#include "sqltemplate.h"

#include <QWidget>

#include <atomic>
#include <functional>
#include <memory>

class QAbstractItemModel;
class QComboBox;
class QDateTimeEdit;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableView;
class QThread;

namespace meterdesk {

class SqlResultsModel;

// The SQL tab of a usage event's page (docs/METERS.md, "SQL templates"): a query
// editor with the template placeholders, the usage event's saved templates (plus
// the default one), a customer and a period, Run (Ctrl+Enter) read-only on a
// worker thread with its own connection, the rows in a table, errors inline.
// Saving and listing run on a second worker, so a long query never blocks a save.
// GUI thread.
class SqlTemplateTab : public QWidget
{
    Q_OBJECT
public:
    explicit SqlTemplateTab(const QString &workspaceLocation, QWidget *parent = nullptr);
    ~SqlTemplateTab() override;

    void showDefinition(const UsageEventDefinition &definition);
    void setPeriod(qint64 fromUs, qint64 toUs);
    bool isRunning() const { return m_running; }
    // The results as CSV (RFC 4180, a header row): false with *error when the file cannot be written.
    bool writeCsv(const QString &path, QString *error) const;
    QAbstractItemModel *resultsModel() const;

public slots:
    void run();
    void cancel();
    void save();
    void saveAs();
    void renameCurrent();
    void deleteCurrent();
    void copyResults();
    void exportCsv();

protected:
    void showEvent(QShowEvent *event) override;

signals:
    void runFinished();       // a result (rows or an error) is on screen
    void templatesChanged();  // the template list was (re)loaded

private:
    struct Worker;
    void post(Worker *worker, const std::function<void(Worker &)> &job);
    void load(); // the templates and the table's customers, when the tab is first seen
    void reloadTemplates(const QString &select);
    void showTemplate(int index);
    void showError(const QString &message);
    void showStatus(const QString &message);
    void createNamed(const QString &name);

    QString m_location;
    UsageEventDefinition m_definition;
    SqlDialect::Kind m_kind;
    QList<SqlTemplate> m_templates;       // what the combo shows, in its order
    QComboBox *m_templateBox = nullptr;
    QPlainTextEdit *m_editor = nullptr;
    QComboBox *m_customer = nullptr;
    QDateTimeEdit *m_from = nullptr;
    QDateTimeEdit *m_to = nullptr;
    QPushButton *m_run = nullptr;
    QPushButton *m_cancel = nullptr;
    QPushButton *m_delete = nullptr;
    QPushButton *m_rename = nullptr;
    QLabel *m_status = nullptr;
    QTableView *m_view = nullptr;
    SqlResultsModel *m_model = nullptr;

    QThread *m_runThread = nullptr;
    QThread *m_storeThread = nullptr;
    Worker *m_runWorker = nullptr;   // lives on m_runThread: the read-only runner
    Worker *m_storeWorker = nullptr; // lives on m_storeThread: the template store
    std::shared_ptr<std::atomic_bool> m_cancelFlag;
    quint64 m_runGeneration = 0;
    bool m_running = false;
    bool m_stale = false; // a usage event was set while the tab was hidden
};

} // namespace meterdesk
