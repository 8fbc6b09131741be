#include "importdialog.h"

#include "workspace.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPromise>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace meterdesk {

namespace {

constexpr int ProgressSteps = 1000; // per mille of the file's bytes

struct ImportJob
{
    QString location;
    QString slug;
    QString path;
    ImportFormat format = ImportFormat::Csv;
    QHash<QString, QString> mapping;
    QString rejectsPath;
    std::shared_ptr<QTemporaryDir> scratch; // kept alive until the worker is done with it
    std::shared_ptr<std::atomic_bool> cancel;
};

// On a pool thread: the worker's own connection, opened and closed here.
void runImport(QPromise<ImportSummary> &promise, const ImportJob &job)
{
    promise.setProgressRange(0, ProgressSteps);
    ImportSummary summary;
    QString error;
    std::unique_ptr<Workspace> ws = Workspace::open(job.location, &error);
    const std::optional<UsageEventDefinition> definition = ws ? ws->definition(job.slug) : std::nullopt;
    QFile input(job.path);
    QFile rejects(job.rejectsPath);
    if (!ws)
        summary.error = error;
    else if (!definition)
        summary.error = QObject::tr("the usage event \"%1\" no longer exists").arg(job.slug);
    else if (!input.open(QIODevice::ReadOnly))
        summary.error = QObject::tr("cannot read %1: %2").arg(job.path, input.errorString());
    else if (!rejects.open(QIODevice::WriteOnly))
        summary.error = QObject::tr("cannot write %1: %2").arg(job.rejectsPath, rejects.errorString());
    else {
        ImportOptions options;
        options.format = job.format;
        options.mapping = job.mapping;
        options.cancel = job.cancel.get();
        options.rejects = &rejects;
        options.progress = [&promise](const ImportProgress &p) {
            const int step = p.totalBytes > 0 ? int(qMin<qint64>(ProgressSteps, p.bytesRead * ProgressSteps / p.totalBytes))
                                              : 0;
            promise.setProgressValueAndText(step, QObject::tr("%L1 rows read").arg(p.rows));
        };
        summary = EventImporter::run(*ws, *definition, input, options);
    }
    promise.addResult(summary);
}

QString tableText(const QString &text)
{
    QString t = text;
    return t.replace(u'\n', u'⏎');
}

} // namespace

ImportDialog::ImportDialog(QString location, UsageEventDefinition definition, QWidget *parent)
    : QDialog(parent), m_location(std::move(location)), m_definition(std::move(definition))
{
    setWindowTitle(tr("Import into %1").arg(m_definition.name));
    m_file = new QLineEdit(this);
    m_file->setObjectName(QStringLiteral("importFile"));
    m_file->setReadOnly(true);
    m_file->setPlaceholderText(tr("A .csv, .ndjson or .jsonl file"));
    m_choose = new QPushButton(tr("Choose…"), this);
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(m_choose);

    m_info = new QLabel(this);
    m_info->setObjectName(QStringLiteral("importInfo"));
    m_info->setWordWrap(true);
    m_mapping = new QTableWidget(0, 2, this);
    m_mapping->setObjectName(QStringLiteral("importMapping"));
    m_mapping->setHorizontalHeaderLabels({tr("File column"), tr("Field")});
    m_mapping->horizontalHeader()->setStretchLastSection(true);
    m_mapping->verticalHeader()->hide();
    m_mapping->setMaximumHeight(160);
    m_mapping->hide();
    m_headerError = new QLabel(this);
    m_headerError->setObjectName(QStringLiteral("importHeaderError"));
    m_headerError->setStyleSheet(QStringLiteral("color: #d32f2f"));
    m_headerError->setWordWrap(true);
    m_headerError->hide();
    m_preview = new QTableWidget(this);
    m_preview->setObjectName(QStringLiteral("importPreview"));
    m_preview->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_preview->setWordWrap(false);

    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("importProgress"));
    m_progress->setRange(0, ProgressSteps);
    m_progress->hide();
    m_summaryLabel = new QLabel(this);
    m_summaryLabel->setObjectName(QStringLiteral("importSummary"));
    m_summaryLabel->setWordWrap(true);
    m_summaryLabel->hide();
    m_problems = new QPlainTextEdit(this);
    m_problems->setObjectName(QStringLiteral("importProblems"));
    m_problems->setReadOnly(true);
    m_problems->setMaximumHeight(120);
    m_problems->hide();

    m_start = new QPushButton(tr("Import"), this);
    m_start->setObjectName(QStringLiteral("importStart"));
    m_start->setEnabled(false);
    m_start->setDefault(true);
    m_cancelButton = new QPushButton(tr("Cancel import"), this);
    m_cancelButton->setObjectName(QStringLiteral("importCancel"));
    m_cancelButton->hide();
    m_saveRejects = new QPushButton(tr("Save rejected rows…"), this);
    m_saveRejects->setObjectName(QStringLiteral("saveRejects"));
    m_saveRejects->hide();
    m_close = new QPushButton(tr("Close"), this);
    m_close->setObjectName(QStringLiteral("importClose"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_saveRejects);
    buttons->addStretch();
    buttons->addWidget(m_start);
    buttons->addWidget(m_cancelButton);
    buttons->addWidget(m_close);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(fileRow);
    layout->addWidget(m_info);
    layout->addWidget(m_mapping);
    layout->addWidget(m_headerError);
    layout->addWidget(m_preview, 1);
    layout->addWidget(m_progress);
    layout->addWidget(m_summaryLabel);
    layout->addWidget(m_problems);
    layout->addLayout(buttons);
    resize(860, 560);

    connect(m_choose, &QPushButton::clicked, this, &ImportDialog::chooseFile);
    connect(m_start, &QPushButton::clicked, this, &ImportDialog::startImport);
    connect(m_cancelButton, &QPushButton::clicked, this, &ImportDialog::cancelImport);
    connect(m_saveRejects, &QPushButton::clicked, this, &ImportDialog::chooseRejectsFile);
    connect(m_close, &QPushButton::clicked, this, &ImportDialog::reject);
    connect(&m_watcher, &QFutureWatcher<ImportSummary>::progressValueChanged, m_progress, &QProgressBar::setValue);
    connect(&m_watcher, &QFutureWatcher<ImportSummary>::progressTextChanged, m_progress, &QProgressBar::setFormat);
    connect(&m_watcher, &QFutureWatcher<ImportSummary>::finished, this, &ImportDialog::finished);
}

ImportDialog::~ImportDialog()
{
    // The worker keeps its own copies (and the scratch folder); it only needs to stop.
    if (m_cancel)
        m_cancel->store(true);
}

void ImportDialog::chooseFile()
{
    auto *dialog = new QFileDialog(this, tr("Import CSV / NDJSON"), QFileInfo(m_path).absolutePath(),
                                   tr("Events (*.csv *.ndjson *.jsonl);;All files (*)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::ExistingFile);
    connect(dialog, &QFileDialog::fileSelected, this, &ImportDialog::setFile);
    dialog->open();
}

void ImportDialog::setFile(const QString &path)
{
    if (isRunning())
        return;
    m_path = path;
    m_file->setText(QDir::toNativeSeparators(path));
    m_format = EventImporter::formatOf(path);
    m_summary.reset();
    m_summaryLabel->hide();
    m_problems->hide();
    m_saveRejects->hide();
    m_progress->hide();
    m_mapping->setRowCount(0);
    m_mapping->hide();
    refreshPreview();
}

QHash<QString, QString> ImportDialog::mapping() const
{
    QHash<QString, QString> out;
    for (int r = 0; r < m_mapping->rowCount(); ++r) {
        const QString column = m_mapping->item(r, 0)->text();
        const auto *combo = qobject_cast<QComboBox *>(m_mapping->cellWidget(r, 1));
        if (combo->currentIndex() == 1) {
            out.insert(column, QString()); // skip
        } else if (combo->currentIndex() > 1) {
            const QString target = combo->currentData().toString();
            if (target != column)
                out.insert(column, target);
        } // 0: not chosen; the engine says the column is not a field
    }
    return out;
}

void ImportDialog::refreshPreview()
{
    m_headerOk = false;
    m_start->setEnabled(false);
    m_headerError->hide();
    m_preview->clear();
    m_preview->setRowCount(0);
    m_preview->setColumnCount(0);
    if (!m_format) {
        m_info->setText(tr("Choose a file ending in .csv, .ndjson or .jsonl: the format comes from the name."));
        return;
    }
    QFile input(m_path);
    if (!input.open(QIODevice::ReadOnly)) {
        m_info->setText(tr("Cannot read %1: %2").arg(m_path, input.errorString()));
        return;
    }
    ImportPreview preview = EventImporter::preview(m_definition.schema, input, *m_format, mapping(), PreviewRows);
    if (*m_format == ImportFormat::Csv && m_mapping->rowCount() == 0 && buildMapping(preview.columns) && input.seek(0))
        preview = EventImporter::preview(m_definition.schema, input, *m_format, mapping(), PreviewRows); // the defaults may do
    showPreview(preview);
}

bool ImportDialog::buildMapping(const QStringList &columns)
{
    QStringList targets{QStringLiteral("customer_id"), QStringLiteral("timestamp")};
    for (const SchemaField &f : m_definition.schema.fields)
        targets.append(f.path);
    auto targetOf = [&](const QString &column) -> QString {
        if (targets.contains(column))
            return column;
        if (column.startsWith(QLatin1String("data.")) && targets.contains(column.mid(5)))
            return column.mid(5);
        return {};
    };
    bool differs = false;
    for (const QString &c : columns)
        differs = differs || targetOf(c).isEmpty();
    if (!differs)
        return false; // the file speaks the schema's names: nothing to map
    m_mapping->setRowCount(int(columns.size()));
    for (int r = 0; r < columns.size(); ++r) {
        const QString &column = columns[r];
        auto *name = new QTableWidgetItem(column);
        name->setFlags(Qt::ItemIsEnabled);
        m_mapping->setItem(r, 0, name);
        auto *combo = new QComboBox(m_mapping);
        combo->setObjectName(QStringLiteral("map_%1").arg(column));
        combo->addItem(tr("— choose a field —"));
        combo->addItem(tr("(skip this column)"));
        for (const QString &t : std::as_const(targets))
            combo->addItem(t, t);
        const QString target = targetOf(column);
        if (!target.isEmpty())
            combo->setCurrentIndex(combo->findData(target));
        else if (column == QLatin1String("line") || column == QLatin1String("reason"))
            combo->setCurrentIndex(1); // a saved rejects file read back
        m_mapping->setCellWidget(r, 1, combo);
        connect(combo, &QComboBox::currentIndexChanged, this, &ImportDialog::refreshPreview);
    }
    m_mapping->show();
    return true;
}

void ImportDialog::showPreview(const ImportPreview &preview)
{
    m_preview->clear();
    QStringList headers = preview.columns;
    headers.append(tr("problem"));
    m_preview->setColumnCount(int(headers.size()));
    m_preview->setHorizontalHeaderLabels(headers);
    m_preview->setRowCount(int(preview.rows.size()));
    int bad = 0;
    for (int r = 0; r < preview.rows.size(); ++r) {
        const PreviewRow &row = preview.rows[r];
        m_preview->setVerticalHeaderItem(r, new QTableWidgetItem(QString::number(row.line)));
        for (int c = 0; c < row.cells.size() && c < preview.columns.size(); ++c)
            m_preview->setItem(r, c, new QTableWidgetItem(tableText(row.cells[c])));
        auto *problem = new QTableWidgetItem(row.reason.isEmpty() ? tr("ok") : row.reason);
        problem->setToolTip(row.reason);
        m_preview->setItem(r, int(preview.columns.size()), problem);
        if (!row.reason.isEmpty()) {
            ++bad;
            for (int c = 0; c < m_preview->columnCount(); ++c)
                if (QTableWidgetItem *item = m_preview->item(r, c))
                    item->setForeground(QColor(0xd3, 0x2f, 0x2f));
        }
    }
    m_preview->resizeColumnsToContents();
    m_headerOk = preview.error.isEmpty();
    m_headerError->setText(preview.error);
    m_headerError->setVisible(!m_headerOk);
    m_info->setText(tr("%1 · the first %n row(s) of the file; %2 would be refused (duplicates are found while importing).",
                       nullptr, int(preview.rows.size()))
                        .arg(*m_format == ImportFormat::Csv ? tr("CSV") : tr("NDJSON"))
                        .arg(bad));
    m_start->setEnabled(m_headerOk && !isRunning());
}

void ImportDialog::startImport()
{
    if (isRunning() || !m_headerOk || !m_format)
        return;
    m_scratch = std::make_shared<QTemporaryDir>();
    m_rejectsPath = m_scratch->filePath(QStringLiteral("rejects.csv"));
    m_cancel = std::make_shared<std::atomic_bool>(false);
    ImportJob job{m_location, m_definition.slug, m_path, *m_format, mapping(), m_rejectsPath, m_scratch, m_cancel};
    m_summary.reset();
    m_summaryLabel->hide();
    m_problems->hide();
    m_saveRejects->hide();
    m_progress->setValue(0);
    m_progress->setFormat(tr("Starting…"));
    m_progress->show();
    setRunning(true);
    m_watcher.setFuture(QtConcurrent::run(runImport, std::move(job)));
}

void ImportDialog::cancelImport()
{
    if (!isRunning())
        return;
    m_cancel->store(true);
    m_cancelButton->setEnabled(false);
    m_progress->setFormat(tr("Cancelling…"));
}

void ImportDialog::reject()
{
    if (isRunning()) {
        m_closeWhenDone = true;
        cancelImport();
        return;
    }
    QDialog::reject();
}

void ImportDialog::setRunning(bool running)
{
    m_start->setVisible(!running);
    m_start->setEnabled(!running && m_headerOk);
    m_cancelButton->setVisible(running);
    m_cancelButton->setEnabled(running);
    m_choose->setEnabled(!running);
    m_mapping->setEnabled(!running);
}

void ImportDialog::finished()
{
    ImportSummary s;
    if (m_watcher.future().resultCount() > 0)
        s = m_watcher.result();
    else
        s.error = tr("the import stopped without a result");
    m_summary = s;
    setRunning(false);
    m_progress->setValue(s.cancelled || !s.error.isEmpty() ? m_progress->value() : ProgressSteps);
    m_progress->setFormat(s.cancelled ? tr("Cancelled") : s.error.isEmpty() ? tr("Done") : tr("Stopped"));
    const QString text = s.text();
    const qsizetype firstBreak = text.indexOf(u'\n');
    m_summaryLabel->setText(firstBreak < 0 ? text : text.left(firstBreak));
    m_summaryLabel->show();
    m_problems->setPlainText(firstBreak < 0 ? QString() : text.mid(firstBreak + 1));
    m_problems->setVisible(firstBreak >= 0);
    m_saveRejects->setVisible(s.rejected + s.conflicts > 0);
    emit imported(s);
    if (m_closeWhenDone)
        QDialog::reject();
}

void ImportDialog::chooseRejectsFile()
{
    const QFileInfo source(m_path);
    auto *dialog = new QFileDialog(this, tr("Save rejected rows"),
                                   source.absoluteDir().filePath(source.completeBaseName() + QStringLiteral(".rejects.csv")),
                                   tr("CSV (*.csv)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->setDefaultSuffix(QStringLiteral("csv"));
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString &path) {
        QString error;
        if (!saveRejectsTo(path, &error)) {
            m_problems->appendPlainText(error);
            m_problems->show();
        }
    });
    dialog->open();
}

bool ImportDialog::saveRejectsTo(const QString &path, QString *error)
{
    if (isRunning() || m_rejectsPath.isEmpty()) {
        if (error)
            *error = tr("no finished import to take rejected rows from");
        return false;
    }
    if (QFile::exists(path))
        QFile::remove(path);
    QFile source(m_rejectsPath);
    if (!source.copy(path)) {
        if (error)
            *error = tr("cannot write %1: %2").arg(path, source.errorString());
        return false;
    }
    return true;
}

} // namespace meterdesk
