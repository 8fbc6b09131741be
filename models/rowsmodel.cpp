#include "rowsmodel.h"

#include "timestamp.h"
#include "workspace.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QLocale>
#include <QThread>
#include <QTimer>

namespace meterdesk {

namespace {
// Owns the worker thread's connection and RowStore, created on first use there.
class RowsWorker : public QObject
{
public:
    explicit RowsWorker(QString location) : m_location(std::move(location)) {}
    RowStore *store(QString *error)
    {
        if (!m_store) {
            m_workspace = Workspace::open(m_location, error);
            if (m_workspace)
                m_store = std::make_unique<RowStore>(*m_workspace);
        }
        return m_store.get();
    }
    void close()
    {
        m_store.reset();
        m_workspace.reset();
    }

private:
    QString m_location;
    std::unique_ptr<Workspace> m_workspace;
    std::unique_ptr<RowStore> m_store;
};
} // namespace

RowsModel::RowsModel(QString location, QObject *parent)
    : QAbstractTableModel(parent), m_location(std::move(location)), m_liveTimer(new QTimer(this))
{
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("rows"));
    m_worker = new RowsWorker(m_location);
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread->start();
    m_countThread = new QThread(this);
    m_countThread->setObjectName(QStringLiteral("rows-count"));
    m_countWorker = new RowsWorker(m_location);
    m_countWorker->moveToThread(m_countThread);
    connect(m_countThread, &QThread::finished, m_countWorker, &QObject::deleteLater);
    m_countThread->start();
    m_liveTimer->setSingleShot(true);
    m_liveTimer->setInterval(100); // at most ~10 live updates per second
    connect(m_liveTimer, &QTimer::timeout, this, &RowsModel::fetchLive);
}

RowsModel::~RowsModel()
{
    for (QObject *w : {m_worker, m_countWorker}) {
        auto *worker = static_cast<RowsWorker *>(w);
        QMetaObject::invokeMethod(worker, [worker] { worker->close(); }, Qt::BlockingQueuedConnection);
    }
    m_thread->quit();
    m_countThread->quit();
    m_thread->wait();
    m_countThread->wait();
}

void RowsModel::post(std::function<void(RowStore &)> job, QObject *on)
{
    auto *worker = static_cast<RowsWorker *>(on ? on : m_worker);
    QPointer<RowsModel> self(this);
    QMetaObject::invokeMethod(worker, [worker, job = std::move(job), self] {
        QString error;
        RowStore *store = worker->store(&error);
        if (!store) {
            QMetaObject::invokeMethod(qApp, [self, error] {
                if (self)
                    emit self->queryFailed(error);
            });
            return;
        }
        job(*store);
    });
}

void RowsModel::setQuery(const RowsQuery &query)
{
    beginResetModel();
    m_query = query;
    m_columns = RowStore::columns(query.definition);
    m_rows.clear();
    m_more = false;
    m_count.reset();
    ++m_generation;
    m_loading = false;
    endResetModel();
    requestPage();
    // The exact count, and the id the live feed starts after: on a second worker
    // with its own connection, so a count over millions of rows never delays a page.
    const quint64 generation = m_generation;
    QPointer<RowsModel> self(this);
    post([self, query, generation](RowStore &store) {
        QString error;
        const auto count = store.count(query, &error);
        const qint64 maxId = store.maxId(query.definition);
        QMetaObject::invokeMethod(qApp, [self, count, error, generation, maxId] {
            if (!self || generation != self->m_generation)
                return;
            self->m_maxSeenId = std::max(self->m_maxSeenId, maxId);
            if (count) {
                self->m_count = *count;
                emit self->countChanged(*count, true);
            } else if (!error.isEmpty()) {
                emit self->queryFailed(error);
            }
        });
    }, m_countWorker);
}

void RowsModel::requestPage()
{
    if (m_loading)
        return;
    m_loading = true;
    emit loadingChanged(true);
    const quint64 generation = m_generation;
    const RowsQuery query = m_query;
    const std::optional<StoredRow> after = m_rows.isEmpty() ? std::nullopt : std::optional<StoredRow>(m_rows.last());
    QPointer<RowsModel> self(this);
    post([self, query, after, generation](RowStore &store) {
        RowsPage page = store.page(query, after ? &*after : nullptr, PageSize);
        QMetaObject::invokeMethod(qApp, [self, page, generation] {
            if (!self || generation != self->m_generation)
                return;
            if (!page.error.isEmpty()) {
                self->m_loading = false;
                emit self->loadingChanged(false);
                emit self->queryFailed(page.error);
                return;
            }
            if (!page.rows.isEmpty()) {
                const int first = int(self->m_rows.size());
                self->beginInsertRows({}, first, first + int(page.rows.size()) - 1);
                self->m_rows += page.rows;
                for (const StoredRow &r : page.rows)
                    self->m_maxSeenId = std::max(self->m_maxSeenId, r.id);
                self->endInsertRows();
            }
            self->m_more = page.more;
            // Only now: a fetchMore() from a view reacting to the insert must wait
            // for this page to be in place, or it would ask for the same page again.
            self->m_loading = false;
            emit self->loadingChanged(false);
            if (!self->m_count)
                emit self->countChanged(self->m_rows.size(), !page.more);
        });
    });
}

bool RowsModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_more && !m_loading;
}

void RowsModel::fetchMore(const QModelIndex &parent)
{
    if (canFetchMore(parent))
        requestPage();
}

void RowsModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= m_columns.size() || !m_columns[column].sortable)
        return;
    if (m_query.sortColumn == column && m_query.descending == (order == Qt::DescendingOrder))
        return;
    RowsQuery q = m_query;
    q.sortColumn = column;
    q.descending = order == Qt::DescendingOrder;
    setQuery(q);
}

void RowsModel::setLocalTime(bool local)
{
    m_localTime = local;
    if (!m_rows.isEmpty())
        emit dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1), {Qt::DisplayRole});
}

const StoredRow *RowsModel::rowAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows[row] : nullptr;
}

bool RowsModel::before(const StoredRow &a, const StoredRow &b) const
{
    const int c = m_query.sortColumn;
    const QVariant &va = a.values.value(c);
    const QVariant &vb = b.values.value(c);
    const auto order = QVariant::compare(va, vb);
    if (order == QPartialOrdering::Equivalent)
        return m_query.descending ? a.id > b.id : a.id < b.id;
    return m_query.descending ? order == QPartialOrdering::Greater : order == QPartialOrdering::Less;
}

void RowsModel::refreshLive()
{
    if (!m_liveTimer->isActive())
        m_liveTimer->start();
}

void RowsModel::fetchLive()
{
    if (m_liveBusy) {
        m_liveAgain = true;
        return;
    }
    m_liveBusy = true;
    const quint64 generation = m_generation;
    const RowsQuery query = m_query;
    const qint64 afterId = m_maxSeenId;
    QPointer<RowsModel> self(this);
    post([self, query, afterId, generation](RowStore &store) {
        QString error;
        QList<StoredRow> rows = store.arrivedAfter(query, afterId, LiveBatch + 1, &error);
        // More than one batch since the last look (a flood): take the newest arrivals
        // only and move on; the rest shows with the next query or page.
        const bool overflow = rows.size() > LiveBatch;
        qint64 newestId = afterId;
        if (overflow) {
            newestId = store.maxId(query.definition);
            rows = store.arrivedAfter(query, std::max(afterId, newestId - LiveBatch), LiveBatch, &error);
        }
        QMetaObject::invokeMethod(qApp, [self, rows, generation, overflow, newestId] {
            if (!self)
                return;
            self->m_liveBusy = false;
            if (generation == self->m_generation)
                self->mergeLive(rows, overflow ? newestId : 0);
            if (self->m_liveAgain) {
                self->m_liveAgain = false;
                self->refreshLive();
            }
        });
    });
}

void RowsModel::mergeLive(QList<StoredRow> rows, qint64 skipToId)
{
    m_maxSeenId = std::max(m_maxSeenId, skipToId);
    for (const StoredRow &r : std::as_const(rows))
        m_maxSeenId = std::max(m_maxSeenId, r.id);
    if (rows.isEmpty())
        return;
    std::sort(rows.begin(), rows.end(), [this](const StoredRow &a, const StoredRow &b) { return before(a, b); });
    // Rows that sort before everything loaded go in as one block at the top.
    int top = 0;
    while (top < rows.size() && (m_rows.isEmpty() || before(rows[top], m_rows.first())))
        ++top;
    if (top > 0) {
        beginInsertRows({}, 0, top - 1);
        m_rows = rows.mid(0, top) + m_rows;
        endInsertRows();
    }
    for (int i = top; i < rows.size(); ++i) {
        const auto it = std::lower_bound(m_rows.begin(), m_rows.end(), rows[i],
                                         [this](const StoredRow &a, const StoredRow &b) { return before(a, b); });
        const int pos = int(it - m_rows.begin());
        if (pos == m_rows.size() && m_more)
            continue; // past the loaded range: it arrives with a later page
        beginInsertRows({}, pos, pos);
        m_rows.insert(pos, rows[i]);
        endInsertRows();
    }
    if (m_count) {
        *m_count += rows.size();
        emit countChanged(*m_count, true);
    }
    // Following the newest rows: keep memory flat by letting go of the tail (it
    // comes back page by page when scrolled to).
    if (m_followTop && m_rows.size() > qsizetype(4) * PageSize) {
        const int keep = 2 * PageSize;
        beginRemoveRows({}, keep, int(m_rows.size()) - 1);
        m_rows.resize(keep);
        endRemoveRows();
        m_more = true;
    }
    if (top > 0)
        emit rowsArrivedAtTop(top);
}

void RowsModel::setFollowTop(bool follow)
{
    m_followTop = follow;
}

void RowsModel::editField(int row, int column, const QString &text, std::function<void(QString)> done)
{
    const StoredRow *r = rowAt(row);
    if (!r)
        return;
    const qint64 id = r->id;
    const UsageEventDefinition d = m_query.definition;
    QPointer<RowsModel> self(this);
    post([self, d, id, column, text, done = std::move(done)](RowStore &store) {
        QString error;
        const auto updated = store.editField(d, id, column, text, &error);
        QMetaObject::invokeMethod(qApp, [self, updated, error, done, id] {
            if (!self)
                return;
            if (updated) {
                for (int i = 0; i < self->m_rows.size(); ++i) {
                    if (self->m_rows[i].id == id) {
                        self->m_rows[i] = *updated;
                        emit self->dataChanged(self->index(i, 0), self->index(i, self->columnCount() - 1));
                    }
                }
            } else {
                emit self->editFailed(error);
            }
            if (done)
                done(error);
        });
    });
}

void RowsModel::deleteRows(const QList<int> &rows, std::function<void(QList<StoredRow>, QString)> done)
{
    QList<qint64> ids;
    for (int row : rows)
        if (const StoredRow *r = rowAt(row))
            ids.append(r->id);
    const UsageEventDefinition d = m_query.definition;
    QPointer<RowsModel> self(this);
    post([self, d, ids, done = std::move(done)](RowStore &store) {
        QString error;
        QList<StoredRow> removed;
        store.removeRows(d, ids, &removed, &error);
        QMetaObject::invokeMethod(qApp, [self, removed, error, done] {
            if (!self)
                return;
            for (const StoredRow &gone : removed) {
                for (int i = 0; i < self->m_rows.size(); ++i) {
                    if (self->m_rows[i].id == gone.id) {
                        self->beginRemoveRows({}, i, i);
                        self->m_rows.removeAt(i);
                        self->endRemoveRows();
                        break;
                    }
                }
            }
            if (self->m_count) {
                *self->m_count -= removed.size();
                emit self->countChanged(*self->m_count, true);
            }
            if (done)
                done(removed, error);
        });
    });
}

void RowsModel::restoreRows(const QList<StoredRow> &rows, std::function<void(QString)> done)
{
    const UsageEventDefinition d = m_query.definition;
    QPointer<RowsModel> self(this);
    post([self, d, rows, done = std::move(done)](RowStore &store) {
        QString error;
        store.restoreRows(d, rows, &error);
        QMetaObject::invokeMethod(qApp, [self, rows, error, done] {
            if (!self)
                return;
            if (error.isEmpty()) {
                for (const StoredRow &r : rows) {
                    const auto it = std::lower_bound(self->m_rows.begin(), self->m_rows.end(), r,
                                                     [&](const StoredRow &a, const StoredRow &b) { return self->before(a, b); });
                    const int pos = int(it - self->m_rows.begin());
                    self->beginInsertRows({}, pos, pos);
                    self->m_rows.insert(pos, r);
                    self->endInsertRows();
                }
                if (self->m_count) {
                    *self->m_count += rows.size();
                    emit self->countChanged(*self->m_count, true);
                }
            }
            if (done)
                done(error);
        });
    });
}

void RowsModel::history(qint64 rowId, std::function<void(QList<AuditEntry>)> done)
{
    const UsageEventDefinition d = m_query.definition;
    QPointer<RowsModel> self(this);
    post([self, d, rowId, done = std::move(done)](RowStore &store) {
        const QList<AuditEntry> entries = store.history(d, rowId);
        QMetaObject::invokeMethod(qApp, [self, entries, done] {
            if (self && done)
                done(entries);
        });
    });
}

int RowsModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }
int RowsModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_columns.size()); }

QString RowsModel::display(const StoredRow &row, int column) const
{
    const QVariant v = row.values.value(column);
    const RowStore::Column &c = m_columns[column];
    if (v.isNull())
        return {};
    if (c.kind == ColumnFilter::Kind::Time) {
        if (!m_localTime)
            return Timestamp::toIso(v.toLongLong());
        return QDateTime::fromMSecsSinceEpoch(v.toLongLong() / 1000).toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
    }
    if (c.fieldIndex >= 0 && m_query.definition.schema.fields[c.fieldIndex].type == FieldType::Boolean)
        return v.toLongLong() ? QStringLiteral("true") : QStringLiteral("false");
    if (c.sqlName == QLatin1String("edited"))
        return v.toLongLong() ? tr("edited") : QString();
    if (c.kind == ColumnFilter::Kind::Real)
        return QString::number(v.toDouble(), 'g', 15);
    return v.toString(); // decimals are stored as exact text
}

QVariant RowsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const StoredRow &row = m_rows[index.row()];
    switch (role) {
    case Qt::DisplayRole: return display(row, index.column());
    case Qt::EditRole: {
        const QVariant v = row.values.value(index.column());
        return v.isNull() ? QString() : display(row, index.column());
    }
    case RawValueRole: return row.values.value(index.column());
    case RowIdRole: return row.id;
    case Qt::TextAlignmentRole: {
        const auto kind = m_columns[index.column()].kind;
        const bool numeric = m_columns[index.column()].fieldIndex >= 0
            && (kind == ColumnFilter::Kind::Integer || kind == ColumnFilter::Kind::Real || kind == ColumnFilter::Kind::Decimal);
        return QVariant::fromValue(numeric ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter);
    }
    case Qt::ToolTipRole:
        return row.edited ? tr("Edited: see the row's history") : QVariant();
    default: return {};
    }
}

bool RowsModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (role != Qt::EditRole || !checkIndex(index, CheckIndexOption::IndexIsValid))
        return false;
    if (value.toString() == data(index, Qt::EditRole).toString())
        return false;
    editField(index.row(), index.column(), value.toString());
    return true; // applied when the worker has validated and stored it
}

Qt::ItemFlags RowsModel::flags(const QModelIndex &index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && m_columns[index.column()].fieldIndex >= 0)
        f |= Qt::ItemIsEditable;
    return f;
}

QVariant RowsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= m_columns.size())
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        const RowStore::Column &c = m_columns[section];
        if (c.kind == ColumnFilter::Kind::Time && c.fieldIndex < 0)
            return QString(c.title + (m_localTime ? tr(" (local)") : tr(" (UTC)")));
        return c.title;
    }
    if (role == Qt::ToolTipRole)
        return m_columns[section].sortable ? tr("Click to sort") : tr("Filter with >5, <=5, =x, <>x, 5~10 or text");
    return {};
}

} // namespace meterdesk
