#include "aggregatemodel.h"

#include "csvwriter.h"
#include "rowstore.h"
#include "workspace.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QPointer>
#include <QThread>

#include <algorithm>
#include <limits>

namespace meterdesk {

namespace {
// Lives on the model's thread: that thread's own connection, opened on first use.
class AggregateWorker : public QObject
{
public:
    explicit AggregateWorker(QString location) : m_location(std::move(location)) {}
    Workspace *workspace(QString *error)
    {
        if (!m_workspace)
            m_workspace = Workspace::open(m_location, error);
        return m_workspace.get();
    }
    void close() { m_workspace.reset(); }

private:
    QString m_location;
    std::unique_ptr<Workspace> m_workspace;
};

// The table's first and last event times (keyset pages of one row each way, on the
// timestamp index); nullopt and no error when the table is empty.
std::optional<std::pair<qint64, qint64>> eventSpan(Workspace &workspace, const UsageEventDefinition &definition,
                                                   QString *error)
{
    RowStore store(workspace);
    RowsQuery q;
    q.definition = definition;
    q.sortColumn = RowStore::TimestampColumn;
    q.descending = false;
    const RowsPage first = store.page(q, nullptr, 1);
    q.descending = true;
    const RowsPage last = first.error.isEmpty() && !first.rows.isEmpty() ? store.page(q, nullptr, 1) : RowsPage{};
    if (!first.error.isEmpty() || !last.error.isEmpty()) {
        *error = first.error.isEmpty() ? last.error : first.error;
        return std::nullopt;
    }
    if (first.rows.isEmpty() || last.rows.isEmpty())
        return std::nullopt;
    return std::pair{first.rows.first().values.value(RowStore::TimestampColumn).toLongLong(),
                     last.rows.first().values.value(RowStore::TimestampColumn).toLongLong()};
}
} // namespace

AggregateModel::AggregateModel(QString location, QObject *parent)
    : QAbstractTableModel(parent), m_location(std::move(location))
{
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("aggregate"));
    m_worker = new AggregateWorker(m_location);
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread->start();
}

AggregateModel::~AggregateModel()
{
    if (m_cancel)
        m_cancel->store(true);
    auto *worker = static_cast<AggregateWorker *>(m_worker);
    QMetaObject::invokeMethod(worker, [worker] { worker->close(); }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
}

void AggregateModel::run(const Aggregate::Query &query, bool allTime)
{
    if (m_cancel)
        m_cancel->store(true);
    auto cancel = std::make_shared<std::atomic_bool>(false);
    m_cancel = cancel;
    const quint64 generation = ++m_generation;
    if (!m_running) {
        m_running = true;
        emit runningChanged(true);
    }
    auto *worker = static_cast<AggregateWorker *>(m_worker);
    QPointer<AggregateModel> self(this);
    QMetaObject::invokeMethod(worker, [worker, query, allTime, cancel, self, generation] {
        if (cancel->load())
            return; // a newer run is queued behind this one and will answer
        QString error;
        Aggregate::Query q = query;
        std::optional<Aggregate::Result> result;
        if (Workspace *ws = worker->workspace(&error)) {
            bool noRows = false;
            if (allTime) {
                if (const auto span = eventSpan(*ws, q.definition, &error)) {
                    q.fromUs = Aggregate::windowStart(span->first, q.window, q.zone);
                    q.toUs = Aggregate::nextWindowStart(Aggregate::windowStart(span->second, q.window, q.zone), q.window, q.zone);
                } else {
                    noRows = error.isEmpty();
                }
            }
            if (noRows)
                result = Aggregate::Result{};
            else if (error.isEmpty())
                result = Aggregate::run(*ws, q, &error, cancel.get());
        }
        QMetaObject::invokeMethod(qApp, [self, generation, q, result, error] {
            if (!self || generation != self->m_generation)
                return;
            self->m_running = false;
            emit self->runningChanged(false);
            self->setResult(q, result.value_or(Aggregate::Result{}));
            if (result)
                emit self->finished();
            else
                emit self->failed(error);
        });
    });
}

void AggregateModel::setResult(const Aggregate::Query &query, Aggregate::Result result)
{
    beginResetModel();
    m_query = query;
    m_result = std::move(result);
    m_cellAt.clear();
    QHash<qint64, int> windowIndex;
    for (int w = 0; w < m_result.windowStarts.size(); ++w)
        windowIndex.insert(m_result.windowStarts[w], w);
    QHash<QString, int> customerIndex;
    for (int c = 0; c < m_result.customers.size(); ++c)
        customerIndex.insert(m_result.customers[c], c);
    const qint64 windows = m_result.windowStarts.size();
    for (int i = 0; i < m_result.cells.size(); ++i) {
        const Aggregate::Cell &cell = m_result.cells[i];
        const int c = customerIndex.value(cell.customerId, -1);
        const int w = windowIndex.value(cell.windowStartUs, -1);
        if (c >= 0 && w >= 0)
            m_cellAt.insert(c * windows + w, i);
    }
    endResetModel();
}

const Aggregate::Cell *AggregateModel::cell(int customer, int window) const
{
    const auto it = m_cellAt.constFind(qint64(customer) * m_result.windowStarts.size() + window);
    return it == m_cellAt.cend() ? nullptr : &m_result.cells[*it];
}

bool AggregateModel::zeroWhenEmpty(Aggregate::Function fn)
{
    using F = Aggregate::Function;
    return fn == F::Sum || fn == F::Count || fn == F::UniqueCount;
}

QString AggregateModel::valueText(int customer, int window) const
{
    if (const Aggregate::Cell *c = cell(customer, window))
        return c->value;
    return zeroWhenEmpty(m_query.function) ? QStringLiteral("0") : QString();
}

QString AggregateModel::windowLabel(qint64 windowStartUs) const
{
    const QDateTime t = QDateTime::fromMSecsSinceEpoch(windowStartUs / 1000, m_query.zone);
    switch (m_query.window) {
    case Aggregate::Window::Hour: return t.toString(QStringLiteral("yyyy-MM-dd HH:mm"));
    case Aggregate::Window::Day: return t.toString(QStringLiteral("yyyy-MM-dd"));
    case Aggregate::Window::Month: return t.toString(QStringLiteral("yyyy-MM"));
    }
    return {};
}

QByteArray AggregateModel::toCsv() const
{
    QList<QByteArray> header{QByteArrayLiteral("window_start")};
    for (const QString &c : m_result.customers)
        header.append(c.toUtf8());
    QByteArray out = CsvWriter::record(header);
    for (int w = 0; w < m_result.windowStarts.size(); ++w) {
        QList<CsvWriter::Cell> cells;
        cells.append({QDateTime::fromMSecsSinceEpoch(m_result.windowStarts[w] / 1000, m_query.zone)
                          .toString(Qt::ISODate).toUtf8(), false});
        for (int c = 0; c < m_result.customers.size(); ++c) {
            const QString v = valueText(c, w);
            cells.append({v.toUtf8(), v.isEmpty()});
        }
        out += CsvWriter::record(cells);
    }
    return out;
}

QString AggregateModel::toTsv(const QModelIndexList &cells) const
{
    int top = 0, left = 0, bottom = rowCount() - 1, right = columnCount() - 1;
    if (!cells.isEmpty()) {
        top = left = std::numeric_limits<int>::max();
        bottom = right = -1;
        for (const QModelIndex &i : cells) {
            top = std::min(top, i.row());
            bottom = std::max(bottom, i.row());
            left = std::min(left, i.column());
            right = std::max(right, i.column());
        }
    }
    auto clean = [](QString s) { return s.replace(u'\t', u' ').replace(u'\n', u' '); };
    QStringList lines;
    QStringList header;
    for (int c = left; c <= right; ++c)
        header.append(clean(headerData(c, Qt::Horizontal).toString()));
    lines.append(header.join(u'\t'));
    for (int r = top; r <= bottom; ++r) {
        QStringList line;
        for (int c = left; c <= right; ++c)
            line.append(clean(data(index(r, c)).toString()));
        lines.append(line.join(u'\t'));
    }
    return lines.join(u'\n') + u'\n';
}

int AggregateModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() || isEmpty() ? 0 : int(m_result.windowStarts.size());
}

int AggregateModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() || isEmpty() ? 0 : 1 + int(m_result.customers.size());
}

QVariant AggregateModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int w = index.row();
    const int c = index.column() - 1;
    switch (role) {
    case Qt::DisplayRole:
        return c < 0 ? windowLabel(m_result.windowStarts[w]) : valueText(c, w);
    case WindowStartRole:
        return m_result.windowStarts[w];
    case NumberRole:
        if (c < 0)
            return {};
        if (const Aggregate::Cell *cl = cell(c, w))
            return cl->number;
        return zeroWhenEmpty(m_query.function) ? QVariant(0.0) : QVariant();
    case RowsRole:
        if (c < 0)
            return {};
        if (const Aggregate::Cell *cl = cell(c, w))
            return cl->rows;
        return qint64(0);
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(c < 0 ? Qt::AlignLeft | Qt::AlignVCenter : Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ToolTipRole: {
        if (c < 0)
            return {};
        const Aggregate::Cell *cl = cell(c, w);
        return tr("%1, %2: %n row(s)", nullptr, cl ? int(cl->rows) : 0)
            .arg(m_result.customers[c], windowLabel(m_result.windowStarts[w]));
    }
    default:
        return {};
    }
}

QVariant AggregateModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount())
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole)
        return section == 0 ? tr("Window (%1)").arg(QString::fromUtf8(m_query.zone.id())) : m_result.customers[section - 1];
    if (role == Qt::ToolTipRole && section > 0)
        return tr("customer_id %1").arg(m_result.customers[section - 1]);
    return {};
}

} // namespace meterdesk
