#include "exportdialog.h"

#include "timestamp.h"
#include "workspace.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPromise>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <climits>

namespace meterdesk {

namespace {

struct ExportJob
{
    QString location;
    QString slug;
    QString path;
    ExportOptions options;
    std::shared_ptr<std::atomic_bool> cancel;
};

// On a pool thread: the worker's own connection, opened and closed here.
void runExport(QPromise<ExportResult> &promise, ExportJob job)
{
    ExportResult result;
    QString error;
    std::unique_ptr<Workspace> ws = Workspace::open(job.location, &error);
    const std::optional<UsageEventDefinition> definition = ws ? ws->definition(job.slug) : std::nullopt;
    // Written beside and renamed at the end: a cancelled or failed export leaves no half file.
    QSaveFile file(job.path);
    if (!ws) {
        result.error = error;
    } else if (!definition) {
        result.error = QObject::tr("the usage event \"%1\" no longer exists").arg(job.slug);
    } else if (!file.open(QIODevice::WriteOnly)) {
        result.error = QObject::tr("cannot write %1: %2").arg(job.path, file.errorString());
    } else {
        job.options.cancel = job.cancel.get();
        job.options.progress = [&promise](qint64 rows) {
            promise.setProgressValueAndText(int(qMin<qint64>(rows, INT_MAX)), QObject::tr("%L1 rows written").arg(rows));
        };
        result = EventExporter::run(*ws, *definition, file, job.options);
        if (result.error.isEmpty() && !result.cancelled && !file.commit())
            result.error = QObject::tr("cannot write %1: %2").arg(job.path, file.errorString());
        else if (!result.error.isEmpty() || result.cancelled)
            file.cancelWriting();
    }
    promise.addResult(result);
}

} // namespace

ExportDialog::ExportDialog(QString location, RowsQuery query, std::optional<qint64> expectedRows, QWidget *parent)
    : QDialog(parent), m_location(std::move(location)), m_query(std::move(query)), m_expected(expectedRows)
{
    setWindowTitle(tr("Export %1").arg(m_query.definition.name));
    QStringList filter;
    if (!m_query.customerId.isEmpty())
        filter.append(tr("customer_id = %1").arg(m_query.customerId));
    if (m_query.fromUs)
        filter.append(tr("from %1").arg(Timestamp::toIso(*m_query.fromUs)));
    if (m_query.toUs)
        filter.append(tr("before %1").arg(Timestamp::toIso(*m_query.toUs)));
    m_filter = new QLabel(filter.isEmpty() ? tr("All rows, oldest first.")
                                           : tr("Rows with %1, oldest first.").arg(filter.join(tr(", "))),
                          this);
    m_filter->setObjectName(QStringLiteral("exportFilter"));
    m_filter->setWordWrap(true);
    if (m_expected && m_query.columnFilters.isEmpty())
        m_filter->setText(m_filter->text() + u' ' + tr("%Ln row(s).", nullptr, int(qMin<qint64>(*m_expected, INT_MAX))));
    m_columnNote = new QLabel(tr("The column filters are not applied by export: every row matching the customer "
                                 "and time range above is written."),
                              this);
    m_columnNote->setObjectName(QStringLiteral("exportColumnFilterNote"));
    m_columnNote->setWordWrap(true);
    m_columnNote->setStyleSheet(QStringLiteral("color: #b26a00"));
    m_columnNote->setVisible(!m_query.columnFilters.isEmpty());

    m_format = new QComboBox(this);
    m_format->setObjectName(QStringLiteral("exportFormat"));
    m_format->addItem(tr("CSV (customer_id, timestamp, one column per field)"));
    m_format->addItem(tr("NDJSON (one event per line, all stored data)"));
    m_file = new QLineEdit(this);
    m_file->setObjectName(QStringLiteral("exportFile"));
    m_choose = new QPushButton(tr("Choose…"), this);
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(m_choose);
    auto *form = new QFormLayout;
    form->addRow(tr("Format"), m_format);
    form->addRow(tr("File"), fileRow);

    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("exportProgress"));
    m_progress->hide();
    m_resultLabel = new QLabel(this);
    m_resultLabel->setObjectName(QStringLiteral("exportResult"));
    m_resultLabel->setWordWrap(true);
    m_resultLabel->hide();

    m_start = new QPushButton(tr("Export"), this);
    m_start->setObjectName(QStringLiteral("exportStart"));
    m_start->setDefault(true);
    m_start->setEnabled(false);
    m_cancelButton = new QPushButton(tr("Cancel export"), this);
    m_cancelButton->setObjectName(QStringLiteral("exportCancel"));
    m_cancelButton->hide();
    m_close = new QPushButton(tr("Close"), this);
    m_close->setObjectName(QStringLiteral("exportClose"));
    auto *buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(m_start);
    buttons->addWidget(m_cancelButton);
    buttons->addWidget(m_close);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_filter);
    layout->addWidget(m_columnNote);
    layout->addLayout(form);
    layout->addWidget(m_progress);
    layout->addWidget(m_resultLabel);
    layout->addStretch();
    layout->addLayout(buttons);
    resize(560, 240);

    connect(m_file, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_path = text.trimmed();
        m_start->setEnabled(!m_path.isEmpty() && !isRunning());
    });
    connect(m_choose, &QPushButton::clicked, this, &ExportDialog::chooseFile);
    connect(m_start, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(m_cancelButton, &QPushButton::clicked, this, &ExportDialog::cancelExport);
    connect(m_close, &QPushButton::clicked, this, &ExportDialog::reject);
    connect(&m_watcher, &QFutureWatcher<ExportResult>::progressValueChanged, m_progress, &QProgressBar::setValue);
    connect(&m_watcher, &QFutureWatcher<ExportResult>::progressTextChanged, m_progress, &QProgressBar::setFormat);
    connect(&m_watcher, &QFutureWatcher<ExportResult>::finished, this, &ExportDialog::finished);
}

ExportDialog::~ExportDialog()
{
    if (m_cancel)
        m_cancel->store(true); // the worker owns its copies; it only needs to stop
}

void ExportDialog::setFile(const QString &path)
{
    m_file->setText(path);
    const QString suffix = QFileInfo(path).suffix().toLower();
    setFormat(suffix == QLatin1String("ndjson") || suffix == QLatin1String("jsonl") ? ExportFormat::Ndjson
                                                                                      : ExportFormat::Csv);
}

void ExportDialog::setFormat(ExportFormat format)
{
    m_format->setCurrentIndex(format == ExportFormat::Ndjson ? 1 : 0);
}

ExportFormat ExportDialog::format() const
{
    return m_format->currentIndex() == 1 ? ExportFormat::Ndjson : ExportFormat::Csv;
}

void ExportDialog::chooseFile()
{
    const QString suffix = format() == ExportFormat::Ndjson ? QStringLiteral("ndjson") : QStringLiteral("csv");
    auto *dialog = new QFileDialog(this, tr("Export to"),
                                   m_path.isEmpty() ? QDir::home().filePath(m_query.definition.slug + u'.' + suffix) : m_path,
                                   tr("CSV (*.csv);;NDJSON (*.ndjson *.jsonl)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->setDefaultSuffix(suffix);
    connect(dialog, &QFileDialog::fileSelected, this, &ExportDialog::setFile);
    dialog->open();
}

void ExportDialog::startExport()
{
    if (isRunning() || m_path.isEmpty())
        return;
    ExportJob job;
    job.location = m_location;
    job.slug = m_query.definition.slug;
    job.path = m_path;
    job.options.format = format();
    job.options.customerId = m_query.customerId;
    job.options.fromUs = m_query.fromUs;
    job.options.toUs = m_query.toUs;
    m_cancel = std::make_shared<std::atomic_bool>(false);
    job.cancel = m_cancel;
    m_result.reset();
    m_resultLabel->hide();
    // Without column filters the view's count is the export's; otherwise a busy bar.
    const int total = m_expected && m_query.columnFilters.isEmpty() ? int(qMin<qint64>(*m_expected, INT_MAX)) : 0;
    m_progress->setRange(0, total);
    m_progress->setValue(0);
    m_progress->setFormat(tr("Starting…"));
    m_progress->show();
    setRunning(true);
    m_watcher.setFuture(QtConcurrent::run(runExport, std::move(job)));
}

void ExportDialog::cancelExport()
{
    if (!isRunning())
        return;
    m_cancel->store(true);
    m_cancelButton->setEnabled(false);
    m_progress->setFormat(tr("Cancelling…"));
}

void ExportDialog::reject()
{
    if (isRunning()) {
        m_closeWhenDone = true;
        cancelExport();
        return;
    }
    QDialog::reject();
}

void ExportDialog::setRunning(bool running)
{
    m_start->setVisible(!running);
    m_start->setEnabled(!running && !m_path.isEmpty());
    m_cancelButton->setVisible(running);
    m_cancelButton->setEnabled(running);
    m_choose->setEnabled(!running);
    m_file->setEnabled(!running);
    m_format->setEnabled(!running);
}

void ExportDialog::finished()
{
    ExportResult r;
    if (m_watcher.future().resultCount() > 0)
        r = m_watcher.result();
    else
        r.error = tr("the export stopped without a result");
    m_result = r;
    setRunning(false);
    m_progress->setRange(0, 1);
    m_progress->setValue(r.error.isEmpty() && !r.cancelled ? 1 : 0);
    m_progress->setFormat(r.cancelled ? tr("Cancelled") : r.error.isEmpty() ? tr("Done") : tr("Failed"));
    if (!r.error.isEmpty())
        m_resultLabel->setText(tr("Not exported: %1").arg(r.error));
    else if (r.cancelled)
        m_resultLabel->setText(tr("Cancelled after %Ln row(s); no file was written.", nullptr, int(qMin<qint64>(r.rows, INT_MAX))));
    else
        m_resultLabel->setText(tr("Exported %Ln row(s) to %1.", nullptr, int(qMin<qint64>(r.rows, INT_MAX)))
                                   .arg(QDir::toNativeSeparators(m_path)));
    m_resultLabel->show();
    emit exported(r);
    if (m_closeWhenDone)
        QDialog::reject();
}

} // namespace meterdesk
