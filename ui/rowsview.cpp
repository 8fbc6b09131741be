#include "rowsview.h"

#include "exportdialog.h"
#include "importdialog.h"
#include "rowsmodel.h"
#include "timestamp.h"

#include <QAction>
#include <QCheckBox>
#include <QClipboard>
#include <QDialog>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QTableView>
#include <QUndoStack>
#include <QVBoxLayout>

namespace meterdesk {

namespace {

// One cell edit; undo writes the old value back through the same validator and audit.
class EditCommand : public QUndoCommand
{
public:
    EditCommand(RowsModel *model, qint64 rowId, int column, QString before, QString after)
        : m_model(model), m_rowId(rowId), m_column(column), m_before(std::move(before)), m_after(std::move(after))
    {
        setText(QObject::tr("edit row %1").arg(rowId));
    }
    void undo() override { apply(m_before); }
    void redo() override
    {
        if (m_first) {
            m_first = false; // the view already sent it
            return;
        }
        apply(m_after);
    }

private:
    void apply(const QString &text)
    {
        for (int r = 0; r < m_model->rowCount(); ++r)
            if (m_model->rowAt(r)->id == m_rowId)
                m_model->editField(r, m_column, text);
    }
    RowsModel *m_model;
    qint64 m_rowId;
    int m_column;
    QString m_before, m_after;
    bool m_first = true;
};

// Deleted rows; undo puts them back with their ids (both audited).
class DeleteCommand : public QUndoCommand
{
public:
    DeleteCommand(RowsModel *model, QList<StoredRow> rows) : m_model(model), m_rows(std::move(rows))
    {
        setText(QObject::tr("delete %n row(s)", nullptr, int(m_rows.size())));
    }
    void undo() override { m_model->restoreRows(m_rows, {}); }
    void redo() override
    {
        if (m_first) {
            m_first = false;
            return;
        }
        QList<int> rows;
        for (const StoredRow &gone : std::as_const(m_rows))
            for (int r = 0; r < m_model->rowCount(); ++r)
                if (m_model->rowAt(r)->id == gone.id)
                    rows.append(r);
        m_model->deleteRows(rows, {});
    }

private:
    RowsModel *m_model;
    QList<StoredRow> m_rows;
    bool m_first = true;
};

} // namespace

RowsView::RowsView(const QString &location, QWidget *parent)
    : QWidget(parent), m_model(new RowsModel(location, this)), m_undo(new QUndoStack(this))
{
    m_location = location;
    m_customer = new QLineEdit(this);
    m_customer->setObjectName(QStringLiteral("customerFilter"));
    m_customer->setPlaceholderText(tr("customer_id (exact)"));
    m_from = new QLineEdit(this);
    m_from->setObjectName(QStringLiteral("fromFilter"));
    m_from->setPlaceholderText(tr("from (e.g. 2023-05-01)"));
    m_to = new QLineEdit(this);
    m_to->setObjectName(QStringLiteral("toFilter"));
    m_to->setPlaceholderText(tr("to (exclusive)"));
    for (QLineEdit *e : {m_customer, m_from, m_to})
        e->setClearButtonEnabled(true);
    m_localTime = new QCheckBox(tr("Local time"), this);
    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("rowCount"));
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_customer, 2);
    bar->addWidget(m_from, 1);
    bar->addWidget(m_to, 1);
    bar->addWidget(m_localTime);
    bar->addWidget(m_count);
    for (const auto &[name, text, keys, slot] :
         {std::tuple{"importButton", tr("Import…"), QKeySequence(Qt::CTRL | Qt::Key_I), &RowsView::openImport},
          std::tuple{"exportButton", tr("Export…"), QKeySequence(Qt::CTRL | Qt::Key_E), &RowsView::openExport}}) {
        auto *button = new QPushButton(text, this);
        button->setObjectName(QLatin1String(name));
        button->setToolTip(tr("%1 (%2)").arg(text, keys.toString(QKeySequence::NativeText)));
        auto *action = new QAction(text, this);
        action->setShortcut(keys);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        QWidget::addAction(action);
        connect(button, &QPushButton::clicked, this, slot);
        connect(action, &QAction::triggered, this, slot);
        bar->addWidget(button);
    }

    m_filterStrip = new QWidget(this);
    m_filterStrip->setFixedHeight(28);
    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("rows"));
    m_view->setModel(m_model);
    m_view->setSortingEnabled(true);
    m_view->horizontalHeader()->setSortIndicator(RowStore::TimestampColumn, Qt::DescendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectItems);
    m_view->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed
                            | QAbstractItemView::AnyKeyPressed);
    m_view->setWordWrap(false);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);

    m_newRows = new QPushButton(this);
    m_newRows->setObjectName(QStringLiteral("newRowsChip"));
    m_newRows->hide();
    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("rowsError"));
    m_error->setStyleSheet(QStringLiteral("color: #d32f2f"));
    m_error->setWordWrap(true);
    m_error->hide();

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_filterStrip);
    layout->addWidget(m_newRows, 0, Qt::AlignHCenter);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_error);

    auto addAction = [this](const QString &text, const QKeySequence &keys, auto slot) {
        auto *a = new QAction(text, this);
        a->setShortcut(keys);
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(a, &QAction::triggered, this, slot);
        m_view->addAction(a);
        return a;
    };
    QAction *undo = m_undo->createUndoAction(this, tr("Undo"));
    undo->setShortcut(QKeySequence::Undo);
    undo->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    QAction *redo = m_undo->createRedoAction(this, tr("Redo"));
    redo->setShortcut(QKeySequence::Redo);
    redo->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    QWidget::addAction(undo);
    QWidget::addAction(redo);
    QAction *copyTsv = addAction(tr("Copy (TSV)"), QKeySequence::Copy, [this] { copySelection(false); });
    QAction *copyJson = addAction(tr("Copy as JSON"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C),
                                  [this] { copySelection(true); });
    QAction *remove = addAction(tr("Delete rows"), QKeySequence::Delete, [this] { deleteSelected(); });
    QAction *history = addAction(tr("Row history…"), QKeySequence(Qt::CTRL | Qt::Key_H), [this] { showHistory(); });

    connect(m_view, &QTableView::customContextMenuRequested, this, [=, this](const QPoint &pos) {
        QMenu menu(this);
        menu.addActions({copyTsv, copyJson, history, remove, undo, redo});
        menu.exec(m_view->viewport()->mapToGlobal(pos));
    });
    for (QLineEdit *e : {m_customer, m_from, m_to})
        connect(e, &QLineEdit::returnPressed, this, &RowsView::applyFilters);
    connect(m_customer, &QLineEdit::textChanged, this, [this](const QString &t) {
        if (t.isEmpty())
            applyFilters();
    });
    connect(m_localTime, &QCheckBox::toggled, m_model, &RowsModel::setLocalTime);
    connect(m_model, &RowsModel::countChanged, this, [this](qint64 rows, bool exact) {
        m_count->setText(exact ? tr("%1 rows").arg(QLocale().toString(rows))
                               : tr("≥ %1 rows (counting…)").arg(QLocale().toString(rows)));
    });
    connect(m_model, &RowsModel::loadingChanged, this, [this](bool loading) {
        if (loading && m_count->text().isEmpty())
            m_count->setText(tr("Loading…"));
        if (!loading && !m_sized && m_model->rowCount() > 0) {
            // Fit the columns to the first page once per usage event, not on every page.
            m_sized = true;
            m_view->resizeColumnsToContents();
            for (int c = 0; c < m_model->columnCount(); ++c)
                m_view->setColumnWidth(c, std::clamp(m_view->columnWidth(c), 80, 320));
            placeColumnFilters();
        }
    });
    connect(m_model, &RowsModel::queryFailed, this, [this](const QString &e) {
        m_error->setText(e);
        m_error->show();
    });
    connect(m_model, &RowsModel::editFailed, this, [this](const QString &e) {
        m_error->setText(tr("Not saved: %1").arg(e));
        m_error->show();
    });
    connect(m_model, &RowsModel::rowsArrivedAtTop, this, [this](int n) {
        QScrollBar *bar = m_view->verticalScrollBar();
        if (bar->value() == 0)
            return; // at the top: the new rows simply show
        bar->setValue(bar->value() + n); // keep the rows the user is reading in place
        m_pendingNew += n;
        m_newRows->setText(tr("↑ %n new row(s)", nullptr, m_pendingNew));
        m_newRows->show();
    });
    connect(m_newRows, &QPushButton::clicked, this, [this] {
        m_view->scrollToTop();
        m_pendingNew = 0;
        m_newRows->hide();
    });
    connect(m_view->verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int v) {
        m_model->setFollowTop(v < 50);
        if (v == 0) {
            m_pendingNew = 0;
            m_newRows->hide();
        }
    });
    // Record every edit the view commits, for undo.
    connect(m_view->itemDelegate(), &QAbstractItemDelegate::commitData, this, [this](QWidget *editor) {
        const QModelIndex index = m_view->currentIndex();
        const StoredRow *row = m_model->rowAt(index.row());
        auto *line = qobject_cast<QLineEdit *>(editor);
        if (!row || !line)
            return;
        const QString before = m_model->data(index, Qt::EditRole).toString();
        if (before != line->text())
            m_undo->push(new EditCommand(m_model, row->id, index.column(), before, line->text()));
    });
    connect(m_view->horizontalHeader(), &QHeaderView::sectionResized, this, &RowsView::placeColumnFilters);
    connect(m_view->horizontalHeader(), &QHeaderView::sectionMoved, this, &RowsView::placeColumnFilters);
    connect(m_view->horizontalScrollBar(), &QScrollBar::valueChanged, this, &RowsView::placeColumnFilters);
}

RowsView::~RowsView() = default;

void RowsView::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    placeColumnFilters();
}

void RowsView::showDefinition(const UsageEventDefinition &definition)
{
    m_definition = definition;
    m_sized = false;
    m_undo->clear();
    m_error->hide();
    rebuildColumnFilters();
    applyFilters();
}

void RowsView::rebuildColumnFilters()
{
    qDeleteAll(m_columnFilters);
    m_columnFilters.clear();
    const QList<RowStore::Column> cols = RowStore::columns(m_definition);
    for (qsizetype i = 0; i < cols.size(); ++i) {
        auto *e = new QLineEdit(m_filterStrip);
        e->setObjectName(QStringLiteral("columnFilter_%1").arg(cols[i].title));
        e->setPlaceholderText(tr("Filter"));
        e->setToolTip(tr("%1: >5, >=5, <5, <=5, =x, <>x, 5~10, or text to find").arg(cols[i].title));
        connect(e, &QLineEdit::returnPressed, this, &RowsView::applyFilters);
        e->show();
        m_columnFilters.append(e);
    }
    placeColumnFilters();
}

void RowsView::placeColumnFilters()
{
    QHeaderView *header = m_view->horizontalHeader();
    // Line each filter up with its column: the viewport starts after the frame and
    // the row numbers.
    const int offset = m_view->geometry().x() + m_view->viewport()->geometry().x() - m_filterStrip->geometry().x();
    for (int i = 0; i < m_columnFilters.size(); ++i)
        m_columnFilters[i]->setGeometry(offset + header->sectionViewportPosition(i), 0, header->sectionSize(i),
                                        m_filterStrip->height());
}

void RowsView::applyFilters()
{
    RowsQuery q;
    q.definition = m_definition;
    const RowsQuery current = m_model->query();
    if (current.definition.slug == m_definition.slug) {
        q.sortColumn = current.sortColumn;
        q.descending = current.descending;
    }
    q.customerId = m_customer->text().trimmed();
    m_error->hide();
    auto readTime = [this](QLineEdit *e, const QString &what) -> std::optional<qint64> {
        const QString t = e->text().trimmed();
        if (t.isEmpty())
            return std::nullopt;
        const Timestamp::Parsed p = Timestamp::fromUserInput(t);
        if (!p.micros) {
            m_error->setText(tr("%1: %2").arg(what, p.error));
            m_error->show();
        }
        return p.micros;
    };
    q.fromUs = readTime(m_from, tr("from"));
    q.toUs = readTime(m_to, tr("to"));
    for (int i = 0; i < m_columnFilters.size(); ++i)
        if (!m_columnFilters[i]->text().trimmed().isEmpty())
            q.columnFilters.insert(i, m_columnFilters[i]->text());
    m_count->clear();
    m_pendingNew = 0;
    m_newRows->hide();
    m_model->setQuery(q);
    placeColumnFilters();
}

void RowsView::rowsCommitted()
{
    m_model->refreshLive();
}

void RowsView::copySelection(bool asJson)
{
    QModelIndexList cells = m_view->selectionModel()->selectedIndexes();
    if (cells.isEmpty())
        return;
    std::sort(cells.begin(), cells.end());
    if (asJson) {
        QStringList rows;
        QSet<int> seen;
        for (const QModelIndex &c : std::as_const(cells)) {
            if (seen.contains(c.row()))
                continue;
            seen.insert(c.row());
            rows.append(RowStore::rowJson(m_definition, *m_model->rowAt(c.row())));
        }
        QGuiApplication::clipboard()->setText(rows.size() == 1 ? rows.first()
                                                               : u'[' + rows.join(QStringLiteral(",\n")) + u']');
        return;
    }
    QString out;
    int lastRow = cells.first().row();
    bool firstInRow = true;
    for (const QModelIndex &c : std::as_const(cells)) {
        if (c.row() != lastRow) {
            out += u'\n';
            lastRow = c.row();
            firstInRow = true;
        }
        if (!firstInRow)
            out += u'\t';
        out += c.data().toString().replace(u'\t', u' ').replace(u'\n', u' ');
        firstInRow = false;
    }
    QGuiApplication::clipboard()->setText(out);
}

void RowsView::deleteSelected()
{
    QList<int> rows;
    for (const QModelIndex &c : m_view->selectionModel()->selectedIndexes())
        if (!rows.contains(c.row()))
            rows.append(c.row());
    if (rows.isEmpty())
        return;
    m_model->deleteRows(rows, [this](const QList<StoredRow> &removed, const QString &error) {
        if (!error.isEmpty()) {
            m_error->setText(tr("Not deleted: %1").arg(error));
            m_error->show();
        }
        if (!removed.isEmpty())
            m_undo->push(new DeleteCommand(m_model, removed));
    });
}

void RowsView::openImport()
{
    if (m_definition.slug.isEmpty())
        return;
    auto *dialog = new ImportDialog(m_location, m_definition, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ImportDialog::imported, this, &RowsView::applyFilters);
    dialog->open();
}

void RowsView::openExport()
{
    if (m_definition.slug.isEmpty())
        return;
    const RowsQuery query = m_model->query();
    auto *dialog = new ExportDialog(m_location, query, m_model->exactCount(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void RowsView::showHistory()
{
    const StoredRow *row = m_model->rowAt(m_view->currentIndex().row());
    if (!row)
        return;
    const qint64 id = row->id;
    m_model->history(id, [this, id](const QList<AuditEntry> &entries) {
        auto *dialog = new QDialog(this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setWindowTitle(tr("History of row %1").arg(id));
        auto *text = new QPlainTextEdit(dialog);
        text->setReadOnly(true);
        QString body;
        for (const AuditEntry &e : entries)
            body += tr("%1  %2 by %3\n  before: %4\n  after:  %5\n\n")
                        .arg(Timestamp::toIso(e.atUs), e.action, e.actor, e.before.isEmpty() ? tr("—") : e.before,
                             e.after.isEmpty() ? tr("—") : e.after);
        text->setPlainText(body.isEmpty() ? tr("Row %1 has never been changed since it was stored.").arg(id) : body);
        auto *layout = new QVBoxLayout(dialog);
        layout->addWidget(text);
        dialog->resize(700, 400);
        dialog->open();
    });
}

} // namespace meterdesk
