#pragma once

#include "eventexporter.h"
#include "rowstore.h"

#include <QDialog>
#include <QFutureWatcher>

#include <atomic>
#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace meterdesk {

// "Export…" of the Rows tab: the current filter (customer, from, to) of one usage
// event as CSV or NDJSON, streamed by EventExporter on a QtConcurrent worker with
// its own Workspace, written beside the chosen file and renamed when complete,
// with progress and cancel. Column filters are not applied by the exporter: the
// dialog says so. Owns its widgets and the watcher of the running export.
// GUI thread; the export itself runs on a pool thread.
class ExportDialog : public QDialog
{
    Q_OBJECT
public:
    // `expectedRows`: the filter's row count when known (for the progress bar).
    ExportDialog(QString workspaceLocation, RowsQuery query, std::optional<qint64> expectedRows,
                 QWidget *parent = nullptr);
    ~ExportDialog() override;

    // Also picks the format from the extension (.ndjson / .jsonl, else CSV).
    void setFile(const QString &path);
    QString file() const { return m_path; }
    void setFormat(ExportFormat format);
    ExportFormat format() const;
    bool isRunning() const { return m_watcher.isRunning(); }
    std::optional<ExportResult> result() const { return m_result; }

public slots:
    void startExport();
    void cancelExport();
    void reject() override; // while exporting: cancel first, close when it stops

signals:
    void exported(const meterdesk::ExportResult &result);

private:
    void chooseFile();
    void finished();
    void setRunning(bool running);

    QString m_location;
    RowsQuery m_query;
    std::optional<qint64> m_expected;
    QString m_path;
    bool m_closeWhenDone = false;
    std::optional<ExportResult> m_result;
    std::shared_ptr<std::atomic_bool> m_cancel;
    QFutureWatcher<ExportResult> m_watcher;

    QLabel *m_filter = nullptr;
    QLabel *m_columnNote = nullptr;
    QComboBox *m_format = nullptr;
    QLineEdit *m_file = nullptr;
    QPushButton *m_choose = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_resultLabel = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_cancelButton = nullptr;
    QPushButton *m_close = nullptr;
};

} // namespace meterdesk
