#include "sqltemplatetab.h"

#include "csvwriter.h"
#include "timestamp.h"
#include "workspace.h"

#include <QAbstractTableModel>
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSyntaxHighlighter>
#include <QTableView>
#include <QThread>
#include <QTimeZone>
#include <QVBoxLayout>

namespace meterdesk {

// The rows of the last run, as the database gave them. GUI thread.
class SqlResultsModel : public QAbstractTableModel
{
public:
    using QAbstractTableModel::QAbstractTableModel;

    void setResult(QStringList columns, QList<QVariantList> rows)
    {
        beginResetModel();
        m_columns = std::move(columns);
        m_rows = std::move(rows);
        endResetModel();
    }
    const QStringList &columns() const { return m_columns; }
    const QList<QVariantList> &rows() const { return m_rows; }

    int rowCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : int(m_rows.size()); }
    int columnCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : int(m_columns.size()); }
    QVariant data(const QModelIndex &index, int role) const override
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid))
            return {};
        const QVariant &v = m_rows[index.row()].value(index.column());
        switch (role) {
        case Qt::DisplayRole: return v.isNull() ? QStringLiteral("NULL") : v.toString();
        case Qt::EditRole: return v;
        case Qt::ForegroundRole: return v.isNull() ? QVariant(QColor(Qt::gray)) : QVariant();
        case Qt::TextAlignmentRole: {
            const int t = v.typeId();
            const bool number = t == QMetaType::Int || t == QMetaType::LongLong || t == QMetaType::Double
                || t == QMetaType::UInt || t == QMetaType::ULongLong;
            return QVariant::fromValue(Qt::Alignment((number ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter));
        }
        default: return {};
        }
    }
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override
    {
        if (role != Qt::DisplayRole)
            return {};
        if (orientation == Qt::Horizontal)
            return m_columns.value(section);
        return section + 1;
    }

private:
    QStringList m_columns;
    QList<QVariantList> m_rows;
};

namespace {

// SQL keywords, {{placeholders}} (unknown ones in red), strings and comments, by the
// same tokenizer that expands templates, one line at a time.
class SqlHighlighter : public QSyntaxHighlighter
{
public:
    explicit SqlHighlighter(QTextDocument *document)
        : QSyntaxHighlighter(document),
          m_keywords(QStringLiteral("\\b(SELECT|FROM|WHERE|AND|OR|NOT|GROUP|BY|ORDER|HAVING|LIMIT|OFFSET|AS|ON|JOIN|"
                                    "LEFT|RIGHT|INNER|OUTER|CROSS|UNION|ALL|DISTINCT|WITH|RECURSIVE|VALUES|CASE|WHEN|"
                                    "THEN|ELSE|END|IN|IS|NULL|BETWEEN|LIKE|CAST|ASC|DESC|SUM|COUNT|MIN|MAX|AVG|"
                                    "COALESCE|OVER|PARTITION|INSERT|UPDATE|DELETE|DROP|CREATE|ALTER|"
                                    "ATTACH|PRAGMA|INTO|SET)\\b"),
                     QRegularExpression::CaseInsensitiveOption)
    {
        const bool dark = QGuiApplication::palette().color(QPalette::Base).lightness() < 128;
        m_keyword.setForeground(dark ? QColor(0x56, 0x9c, 0xd6) : QColor(0x00, 0x00, 0xc0));
        m_keyword.setFontWeight(QFont::DemiBold);
        m_placeholder.setForeground(dark ? QColor(0xc5, 0x86, 0xc0) : QColor(0x8e, 0x24, 0xaa));
        m_placeholder.setFontWeight(QFont::Bold);
        m_unknown.setForeground(QColor(0xd3, 0x2f, 0x2f));
        m_unknown.setUnderlineStyle(QTextCharFormat::WaveUnderline);
        m_string.setForeground(dark ? QColor(0xce, 0x91, 0x78) : QColor(0xa3, 0x15, 0x15));
        m_comment.setForeground(QColor(0x80, 0x80, 0x80));
        m_comment.setFontItalic(true);
        for (const QString &n : SqlTemplates::placeholderNames())
            m_known.append(n);
    }

protected:
    void highlightBlock(const QString &text) override
    {
        for (const SqlTemplates::Token &t : SqlTemplates::tokenize(text)) {
            const int start = int(t.start);
            const int length = int(t.length);
            switch (t.kind) {
            case SqlTemplates::TokenKind::Code: {
                auto it = m_keywords.globalMatch(QStringView(text).mid(t.start, t.length));
                while (it.hasNext()) {
                    const auto m = it.next();
                    setFormat(start + int(m.capturedStart()), int(m.capturedLength()), m_keyword);
                }
                break;
            }
            case SqlTemplates::TokenKind::Placeholder: {
                const QString name = text.mid(start + 2, length - 4).trimmed();
                const bool known = text.mid(start, length).endsWith(QLatin1String("}}")) && m_known.contains(name);
                setFormat(start, length, known ? m_placeholder : m_unknown);
                break;
            }
            case SqlTemplates::TokenKind::String: setFormat(start, length, m_string); break;
            case SqlTemplates::TokenKind::Comment: setFormat(start, length, m_comment); break;
            case SqlTemplates::TokenKind::Identifier:
            case SqlTemplates::TokenKind::Semicolon: break;
            }
        }
    }

private:
    QRegularExpression m_keywords;
    QStringList m_known;
    QTextCharFormat m_keyword, m_placeholder, m_unknown, m_string, m_comment;
};

QDateTime monthStart(const QDate &day)
{
    return QDateTime(QDate(day.year(), day.month(), 1), QTime(0, 0), QTimeZone::utc());
}

} // namespace

// Owns one thread's connection, opened there on first use: the template store
// (read-write workspace) or the read-only runner.
struct SqlTemplateTab::Worker : QObject
{
    explicit Worker(QString location) : location(std::move(location)) {}
    SqlTemplateStore *store(QString *error)
    {
        if (!m_store) {
            m_workspace = Workspace::open(location, error);
            if (m_workspace)
                m_store = std::make_unique<SqlTemplateStore>(*m_workspace);
        }
        return m_store.get();
    }
    SqlTemplateRunner *runner(QString *error)
    {
        if (!m_runner)
            m_runner = SqlTemplateRunner::open(location, error);
        return m_runner.get();
    }
    void close()
    {
        m_store.reset();
        m_workspace.reset();
        m_runner.reset();
    }

    const QString location;

private:
    std::unique_ptr<Workspace> m_workspace;
    std::unique_ptr<SqlTemplateStore> m_store;
    std::unique_ptr<SqlTemplateRunner> m_runner;
};

SqlTemplateTab::SqlTemplateTab(const QString &location, QWidget *parent)
    : QWidget(parent), m_location(location),
      m_kind(SqlDialect::isPostgresUrl(location) ? SqlDialect::Kind::PostgreSQL : SqlDialect::Kind::SQLite),
      m_model(new SqlResultsModel(this))
{
    m_templateBox = new QComboBox(this);
    m_templateBox->setObjectName(QStringLiteral("sqlTemplates"));
    m_templateBox->setMinimumContentsLength(24);
    auto *save = new QPushButton(tr("Save"), this);
    save->setObjectName(QStringLiteral("sqlSave"));
    auto *saveAs = new QPushButton(tr("Save as…"), this);
    saveAs->setObjectName(QStringLiteral("sqlSaveAs"));
    m_rename = new QPushButton(tr("Rename…"), this);
    m_rename->setObjectName(QStringLiteral("sqlRename"));
    m_delete = new QPushButton(tr("Delete"), this);
    m_delete->setObjectName(QStringLiteral("sqlDelete"));
    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Template:"), this));
    top->addWidget(m_templateBox, 1);
    for (QPushButton *b : {save, saveAs, m_rename, m_delete})
        top->addWidget(b);

    m_editor = new QPlainTextEdit(this);
    m_editor->setObjectName(QStringLiteral("sqlEditor"));
    m_editor->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_editor->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_editor->setTabStopDistance(QFontMetricsF(m_editor->font()).horizontalAdvance(u' ') * 4);
    new SqlHighlighter(m_editor->document());

    m_customer = new QComboBox(this);
    m_customer->setObjectName(QStringLiteral("sqlCustomer"));
    m_customer->setEditable(true);
    m_customer->setInsertPolicy(QComboBox::NoInsert);
    m_customer->setMinimumContentsLength(16);
    m_customer->lineEdit()->setPlaceholderText(tr("customer_id"));
    m_from = new QDateTimeEdit(this);
    m_from->setObjectName(QStringLiteral("sqlFrom"));
    m_to = new QDateTimeEdit(this);
    m_to->setObjectName(QStringLiteral("sqlTo"));
    for (QDateTimeEdit *e : {m_from, m_to}) {
        e->setTimeSpec(Qt::UTC);
        e->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        e->setCalendarPopup(true);
    }
    m_from->setToolTip(tr("{{start_date}}: the first instant of the period (UTC, inclusive)"));
    m_to->setToolTip(tr("{{end_date}}: the end of the period (UTC, exclusive)"));
    auto *thisMonth = new QPushButton(tr("This month"), this);
    thisMonth->setObjectName(QStringLiteral("sqlThisMonth"));
    auto *lastMonth = new QPushButton(tr("Last month"), this);
    lastMonth->setObjectName(QStringLiteral("sqlLastMonth"));
    m_run = new QPushButton(tr("Run"), this);
    m_run->setObjectName(QStringLiteral("sqlRun"));
    m_run->setDefault(true);
    m_run->setToolTip(tr("Run the query read-only (Ctrl+Enter)"));
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setObjectName(QStringLiteral("sqlCancel"));
    m_cancel->setEnabled(false);
    auto *params = new QHBoxLayout;
    params->addWidget(new QLabel(tr("Customer:"), this));
    params->addWidget(m_customer, 1);
    params->addWidget(new QLabel(tr("From:"), this));
    params->addWidget(m_from);
    params->addWidget(new QLabel(tr("To:"), this));
    params->addWidget(m_to);
    params->addWidget(thisMonth);
    params->addWidget(lastMonth);
    params->addWidget(m_run);
    params->addWidget(m_cancel);

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("sqlStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("sqlResults"));
    m_view->setModel(m_model);
    m_view->setWordWrap(false);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto *copy = new QPushButton(tr("Copy results"), this);
    copy->setObjectName(QStringLiteral("sqlCopy"));
    auto *exportButton = new QPushButton(tr("Export CSV…"), this);
    exportButton->setObjectName(QStringLiteral("sqlExport"));
    auto *bottom = new QHBoxLayout;
    bottom->addWidget(m_status, 1);
    bottom->addWidget(copy);
    bottom->addWidget(exportButton);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_editor, 2);
    layout->addLayout(params);
    layout->addWidget(m_view, 3);
    layout->addLayout(bottom);

    auto *runAction = new QAction(tr("Run"), this);
    runAction->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    runAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    addAction(runAction);
    connect(runAction, &QAction::triggered, this, &SqlTemplateTab::run);
    connect(m_run, &QPushButton::clicked, this, &SqlTemplateTab::run);
    connect(m_cancel, &QPushButton::clicked, this, &SqlTemplateTab::cancel);
    connect(save, &QPushButton::clicked, this, &SqlTemplateTab::save);
    connect(saveAs, &QPushButton::clicked, this, &SqlTemplateTab::saveAs);
    connect(m_rename, &QPushButton::clicked, this, &SqlTemplateTab::renameCurrent);
    connect(m_delete, &QPushButton::clicked, this, &SqlTemplateTab::deleteCurrent);
    connect(copy, &QPushButton::clicked, this, &SqlTemplateTab::copyResults);
    connect(exportButton, &QPushButton::clicked, this, &SqlTemplateTab::exportCsv);
    connect(m_templateBox, &QComboBox::activated, this, &SqlTemplateTab::showTemplate);
    connect(thisMonth, &QPushButton::clicked, this, [this] {
        const QDateTime start = monthStart(QDateTime::currentDateTimeUtc().date());
        setPeriod(start.toMSecsSinceEpoch() * 1000, start.addMonths(1).toMSecsSinceEpoch() * 1000);
    });
    connect(lastMonth, &QPushButton::clicked, this, [this] {
        const QDateTime end = monthStart(QDateTime::currentDateTimeUtc().date());
        setPeriod(end.addMonths(-1).toMSecsSinceEpoch() * 1000, end.toMSecsSinceEpoch() * 1000);
    });
    thisMonth->click();

    m_runThread = new QThread(this);
    m_runThread->setObjectName(QStringLiteral("sql-run"));
    m_runWorker = new Worker(location);
    m_runWorker->moveToThread(m_runThread);
    connect(m_runThread, &QThread::finished, m_runWorker, &QObject::deleteLater);
    m_runThread->start();
    m_storeThread = new QThread(this);
    m_storeThread->setObjectName(QStringLiteral("sql-store"));
    m_storeWorker = new Worker(location);
    m_storeWorker->moveToThread(m_storeThread);
    connect(m_storeThread, &QThread::finished, m_storeWorker, &QObject::deleteLater);
    m_storeThread->start();
}

SqlTemplateTab::~SqlTemplateTab()
{
    // A running query stops at the cancel flag (SQLite between steps, PostgreSQL on the server).
    if (m_cancelFlag)
        m_cancelFlag->store(true);
    for (Worker *worker : {m_runWorker, m_storeWorker})
        QMetaObject::invokeMethod(worker, [worker] { worker->close(); }, Qt::BlockingQueuedConnection);
    m_runThread->quit();
    m_storeThread->quit();
    m_runThread->wait();
    m_storeThread->wait();
}

QAbstractItemModel *SqlTemplateTab::resultsModel() const
{
    return m_model;
}

void SqlTemplateTab::post(Worker *worker, const std::function<void(Worker &)> &job)
{
    QMetaObject::invokeMethod(worker, [worker, job] { job(*worker); });
}

void SqlTemplateTab::showDefinition(const UsageEventDefinition &definition)
{
    const bool other = definition.slug != m_definition.slug;
    m_definition = definition;
    if (other) {
        m_model->setResult({}, {});
        m_status->clear();
        m_customer->clear();
        m_editor->clear();
        m_templates.clear();
        m_templateBox->clear();
    }
    // A page shows every tab's usage event at once: the scan for customers waits until
    // this tab is actually looked at.
    m_stale = true;
    if (isVisible())
        load();
}

void SqlTemplateTab::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_stale)
        load();
}

void SqlTemplateTab::load()
{
    m_stale = false;
    if (m_definition.slug.isEmpty())
        return;
    reloadTemplates(QString());
    // The customers in the table, for the combo (typing any other id works too).
    QPointer<SqlTemplateTab> self(this);
    post(m_runWorker, [self, definition = m_definition](Worker &w) {
        QString error;
        QStringList customers;
        if (SqlTemplateRunner *runner = w.runner(&error))
            customers = runner->customers(definition, 1000, &error);
        QMetaObject::invokeMethod(qApp, [self, customers, slug = definition.slug] {
            if (!self || slug != self->m_definition.slug)
                return;
            const QString typed = self->m_customer->currentText();
            self->m_customer->clear();
            self->m_customer->addItems(customers);
            self->m_customer->setEditText(typed.isEmpty() ? customers.value(0) : typed);
        });
    });
}

void SqlTemplateTab::setPeriod(qint64 fromUs, qint64 toUs)
{
    m_from->setDateTime(QDateTime::fromMSecsSinceEpoch(fromUs / 1000, QTimeZone::utc()));
    m_to->setDateTime(QDateTime::fromMSecsSinceEpoch(toUs / 1000, QTimeZone::utc()));
}

void SqlTemplateTab::reloadTemplates(const QString &select)
{
    QPointer<SqlTemplateTab> self(this);
    const UsageEventDefinition definition = m_definition;
    post(m_storeWorker, [self, definition, select](Worker &w) {
        QString error;
        std::optional<QList<SqlTemplate>> saved;
        if (SqlTemplateStore *store = w.store(&error))
            saved = store->list(definition.slug, &error);
        QMetaObject::invokeMethod(qApp, [self, saved, error, select, slug = definition.slug] {
            if (!self || slug != self->m_definition.slug)
                return;
            if (!saved) {
                self->showError(tr("Templates could not be read: %1").arg(error));
                return;
            }
            QList<SqlTemplate> all = *saved;
            // The default template, unless one saved under its name replaces it.
            const SqlTemplate fallback = SqlTemplates::defaultTemplate(self->m_definition, self->m_kind);
            if (std::none_of(all.cbegin(), all.cend(), [&](const SqlTemplate &t) {
                    return t.name.compare(fallback.name, Qt::CaseInsensitive) == 0;
                }))
                all.prepend(fallback);
            const QString keep = select.isEmpty() ? self->m_templateBox->currentData().toString() : select;
            self->m_templates = all;
            self->m_templateBox->clear();
            for (const SqlTemplate &t : std::as_const(all))
                self->m_templateBox->addItem(t.id ? t.name : tr("%1 (default)").arg(t.name), t.name);
            int index = std::max(0, self->m_templateBox->findData(keep));
            self->m_templateBox->setCurrentIndex(index);
            // A fresh tab, or a chosen template: its text in the editor. A re-list after
            // a save keeps what the user is editing.
            if (!select.isEmpty() || self->m_editor->toPlainText().isEmpty())
                self->showTemplate(index);
            else
                for (QPushButton *b : {self->m_delete, self->m_rename})
                    b->setEnabled(self->m_templates.value(index).id != 0);
            emit self->templatesChanged();
        });
    });
}

void SqlTemplateTab::showTemplate(int index)
{
    if (index < 0 || index >= m_templates.size())
        return;
    m_editor->setPlainText(m_templates[index].sql);
    m_delete->setEnabled(m_templates[index].id != 0);
    m_rename->setEnabled(m_templates[index].id != 0);
}

void SqlTemplateTab::showError(const QString &message)
{
    m_status->setStyleSheet(QStringLiteral("color: #d32f2f"));
    m_status->setText(message);
}

void SqlTemplateTab::showStatus(const QString &message)
{
    m_status->setStyleSheet(QString());
    m_status->setText(message);
}

void SqlTemplateTab::run()
{
    if (m_definition.slug.isEmpty())
        return;
    if (m_cancelFlag)
        m_cancelFlag->store(true); // the new run replaces the old one
    m_cancelFlag = std::make_shared<std::atomic_bool>(false);
    const quint64 generation = ++m_runGeneration;
    SqlTemplateParameters p;
    p.startUs = m_from->dateTime().toMSecsSinceEpoch() * 1000;
    p.endUs = m_to->dateTime().toMSecsSinceEpoch() * 1000;
    p.customerId = m_customer->currentText();
    m_running = true;
    m_cancel->setEnabled(true);
    showStatus(tr("Running…"));
    QPointer<SqlTemplateTab> self(this);
    post(m_runWorker, [self, generation, definition = m_definition, sql = m_editor->toPlainText(), p,
                       cancel = m_cancelFlag](Worker &w) {
        SqlRunResult r;
        if (cancel->load()) {
            r.error = QStringLiteral("Cancelled.");
        } else if (SqlTemplateRunner *runner = w.runner(&r.error)) {
            r = runner->run(definition, sql, p, SqlRunLimits{}, cancel.get());
        }
        QMetaObject::invokeMethod(qApp, [self, generation, r] {
            if (!self || generation != self->m_runGeneration)
                return;
            self->m_running = false;
            self->m_cancel->setEnabled(false);
            if (!r.error.isEmpty()) {
                self->m_model->setResult({}, {});
                self->showError(r.error);
            } else {
                self->m_model->setResult(r.columns, r.rows);
                QString text = (r.rows.size() == 1 ? tr("1 row in %2 ms") : tr("%1 rows in %2 ms"))
                                   .arg(QLocale().toString(r.rows.size()))
                                   .arg(r.elapsedMs);
                if (r.truncated)
                    text += tr(" — only the first %1 rows are shown: the query returns more.")
                                .arg(QLocale().toString(SqlRunLimits{}.maxRows));
                self->showStatus(text);
                self->m_view->resizeColumnsToContents();
                for (int c = 0; c < self->m_model->columnCount(); ++c)
                    self->m_view->setColumnWidth(c, std::clamp(self->m_view->columnWidth(c), 60, 360));
            }
            emit self->runFinished();
        });
    });
}

void SqlTemplateTab::cancel()
{
    if (m_cancelFlag)
        m_cancelFlag->store(true);
}

void SqlTemplateTab::save()
{
    const int index = m_templateBox->currentIndex();
    if (index < 0 || index >= m_templates.size())
        return;
    const SqlTemplate current = m_templates[index];
    if (current.id == 0) {
        createNamed(current.name); // the default template, saved under its name
        return;
    }
    QPointer<SqlTemplateTab> self(this);
    post(m_storeWorker, [self, id = current.id, name = current.name, sql = m_editor->toPlainText()](Worker &w) {
        QString error;
        SqlTemplateStore *store = w.store(&error);
        const bool ok = store && store->update(id, sql, &error);
        QMetaObject::invokeMethod(qApp, [self, ok, error, name] {
            if (!self)
                return;
            if (!ok) {
                self->showError(tr("Not saved: %1").arg(error));
                return;
            }
            self->showStatus(tr("Saved “%1”.").arg(name));
            self->reloadTemplates(name);
        });
    });
}

void SqlTemplateTab::createNamed(const QString &name)
{
    QPointer<SqlTemplateTab> self(this);
    post(m_storeWorker, [self, slug = m_definition.slug, name, sql = m_editor->toPlainText()](Worker &w) {
        QString error;
        SqlTemplateStore *store = w.store(&error);
        const std::optional<SqlTemplate> created = store ? store->create(slug, name, sql, &error) : std::nullopt;
        QMetaObject::invokeMethod(qApp, [self, created, error] {
            if (!self)
                return;
            if (!created) {
                self->showError(tr("Not saved: %1").arg(error));
                return;
            }
            self->showStatus(tr("Saved “%1”.").arg(created->name));
            self->reloadTemplates(created->name);
        });
    });
}

void SqlTemplateTab::saveAs()
{
    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(QStringLiteral("sqlNameDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Save template as"));
    dialog->setLabelText(tr("Name of the template:"));
    connect(dialog, &QInputDialog::textValueSelected, this, &SqlTemplateTab::createNamed);
    dialog->open();
}

void SqlTemplateTab::renameCurrent()
{
    const int index = m_templateBox->currentIndex();
    if (index < 0 || index >= m_templates.size() || m_templates[index].id == 0)
        return;
    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(QStringLiteral("sqlNameDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Rename template"));
    dialog->setLabelText(tr("New name:"));
    dialog->setTextValue(m_templates[index].name);
    const qint64 id = m_templates[index].id;
    connect(dialog, &QInputDialog::textValueSelected, this, [this, id](const QString &name) {
        Worker *worker = m_storeWorker;
        QPointer<SqlTemplateTab> self(this);
        post(worker, [self, id, name](Worker &w) {
            QString error;
            SqlTemplateStore *store = w.store(&error);
            const bool ok = store && store->rename(id, name, &error);
            QMetaObject::invokeMethod(qApp, [self, ok, error, name] {
                if (!self)
                    return;
                if (!ok)
                    self->showError(tr("Not renamed: %1").arg(error));
                else
                    self->reloadTemplates(name.trimmed());
            });
        });
    });
    dialog->open();
}

void SqlTemplateTab::deleteCurrent()
{
    const int index = m_templateBox->currentIndex();
    if (index < 0 || index >= m_templates.size() || m_templates[index].id == 0)
        return;
    const SqlTemplate current = m_templates[index];
    auto *box = new QMessageBox(QMessageBox::Question, tr("Delete template"),
                                tr("Delete the template “%1”? This cannot be undone.").arg(current.name),
                                QMessageBox::Yes | QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("sqlDeleteConfirm"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setDefaultButton(QMessageBox::Cancel);
    connect(box, &QMessageBox::finished, this, [this, current](int result) {
        if (result != QMessageBox::Yes)
            return;
        Worker *worker = m_storeWorker;
        QPointer<SqlTemplateTab> self(this);
        post(worker, [self, current](Worker &w) {
            QString error;
            SqlTemplateStore *store = w.store(&error);
            const bool ok = store && store->remove(current.id, &error);
            QMetaObject::invokeMethod(qApp, [self, ok, error, current] {
                if (!self)
                    return;
                if (!ok) {
                    self->showError(tr("Not deleted: %1").arg(error));
                    return;
                }
                self->showStatus(tr("Deleted “%1”.").arg(current.name));
                self->m_editor->clear();
                self->reloadTemplates(QString());
            });
        });
    });
    box->open();
}

void SqlTemplateTab::copyResults()
{
    auto clean = [](QString s) { return s.replace(u'\t', u' ').replace(u'\n', u' '); };
    QStringList lines{m_model->columns().join(u'\t')};
    for (const QVariantList &row : m_model->rows()) {
        QStringList cells;
        for (const QVariant &v : row)
            cells.append(v.isNull() ? QString() : clean(v.toString()));
        lines.append(cells.join(u'\t'));
    }
    QGuiApplication::clipboard()->setText(lines.join(u'\n'));
}

bool SqlTemplateTab::writeCsv(const QString &path, QString *error) const
{
    QByteArray out;
    QList<QByteArray> header;
    for (const QString &c : m_model->columns())
        header.append(c.toUtf8());
    out += CsvWriter::record(header);
    for (const QVariantList &row : m_model->rows()) {
        QList<CsvWriter::Cell> cells;
        for (const QVariant &v : row)
            cells.append({v.isNull() ? QByteArray() : v.toString().toUtf8(), v.isNull()});
        out += CsvWriter::record(cells);
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(out) != out.size() || !file.commit()) {
        *error = file.errorString();
        return false;
    }
    return true;
}

void SqlTemplateTab::exportCsv()
{
    auto *dialog = new QFileDialog(this, tr("Export results as CSV"),
                                   m_definition.slug + QStringLiteral("-query.csv"), tr("CSV files (*.csv)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString &path) {
        QString error;
        if (writeCsv(path, &error))
            showStatus(tr("Exported %1 rows to %2.").arg(QLocale().toString(m_model->rows().size()), path));
        else
            showError(tr("Not exported: %1").arg(error));
    });
    dialog->open();
}

} // namespace meterdesk
