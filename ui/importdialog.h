#pragma once

#include "eventimporter.h"
#include "usageevent.h"

#include <QDialog>
#include <QFutureWatcher>

#include <atomic>
#include <memory>
#include <optional>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;
class QTemporaryDir;

namespace meterdesk {

// "Import CSV / NDJSON…" for one usage event (issue 5): a file, a preview of its
// first rows with each row's problems, a column mapping when the file's names are
// not the schema's, then EventImporter on a QtConcurrent worker (which opens its
// own Workspace) with progress and cancel, a summary, and the rejected rows saved
// as CSV. Owns its widgets, the watcher of the running import and the scratch
// folder of the rejects file (shared with the worker, so the last one out removes
// it). GUI thread; the import itself runs on a pool thread.
class ImportDialog : public QDialog
{
    Q_OBJECT
public:
    static constexpr int PreviewRows = 20;

    ImportDialog(QString workspaceLocation, UsageEventDefinition definition, QWidget *parent = nullptr);
    ~ImportDialog() override;

    // Reads the header and the first rows (a few KB, never the whole file).
    void setFile(const QString &path);
    QString file() const { return m_path; }
    // The file column -> field choices of the mapping table ("" skips a column).
    QHash<QString, QString> mapping() const;
    bool isRunning() const { return m_watcher.isRunning(); }
    std::optional<ImportSummary> summary() const { return m_summary; }
    // Copies the last run's conflicting and rejected rows (CSV with line and reason).
    bool saveRejectsTo(const QString &path, QString *error = nullptr);

public slots:
    void startImport();
    void cancelImport();
    void reject() override; // while importing: cancel first, close when it stops

signals:
    // An import ended (finished, cancelled or stopped); stored rows may have changed.
    void imported(const meterdesk::ImportSummary &summary);

private:
    void chooseFile();
    void chooseRejectsFile();
    void refreshPreview();
    bool buildMapping(const QStringList &columns); // false when the names need no mapping
    void showPreview(const ImportPreview &preview);
    void finished();
    void setRunning(bool running);

    QString m_location;
    UsageEventDefinition m_definition;
    QString m_path;
    std::optional<ImportFormat> m_format;
    bool m_headerOk = false;
    bool m_closeWhenDone = false;
    std::optional<ImportSummary> m_summary;
    std::shared_ptr<std::atomic_bool> m_cancel;
    std::shared_ptr<QTemporaryDir> m_scratch; // the rejects file of the last run
    QString m_rejectsPath;
    QFutureWatcher<ImportSummary> m_watcher;

    QLineEdit *m_file = nullptr;
    QLabel *m_info = nullptr;
    QTableWidget *m_mapping = nullptr;
    QLabel *m_headerError = nullptr;
    QTableWidget *m_preview = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_summaryLabel = nullptr;
    QPlainTextEdit *m_problems = nullptr;
    QPushButton *m_choose = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_cancelButton = nullptr;
    QPushButton *m_saveRejects = nullptr;
    QPushButton *m_close = nullptr;
};

} // namespace meterdesk
