#pragma once

#include "aggregate.h"

#include <QAbstractTableModel>
#include <QHash>

#include <atomic>
#include <memory>

class QThread;

namespace meterdesk {

// The Chart tab's numbers: one Aggregate::Result as a table, a row per window
// (column 0: the window, in the query's zone) and a column per customer (in the
// result's order: largest total first). Values are the exact text of Aggregate;
// a window without rows reads "0" for SUM, COUNT and UNIQUE COUNT and stays empty
// for the others. run() computes on the model's own worker thread with its own
// Workspace; the answer replaces the table when it arrives. GUI thread.
class AggregateModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Role { NumberRole = Qt::UserRole + 1, WindowStartRole, RowsRole };

    explicit AggregateModel(QString location, QObject *parent = nullptr);
    ~AggregateModel() override;

    // A new run; the answer of an older one still in flight is dropped (and that run
    // cancelled). allTime: the query's range becomes the windows from the table's
    // first event to its last (no rows: an empty result).
    void run(const Aggregate::Query &query, bool allTime);
    bool isRunning() const { return m_running; }

    // The last answer and the query it answers (its range resolved).
    const Aggregate::Query &query() const { return m_query; }
    const Aggregate::Result &result() const { return m_result; }
    bool isEmpty() const { return m_result.customers.isEmpty(); }
    const Aggregate::Cell *cell(int customer, int window) const;
    // What a (customer, window) shows: the exact value, "0" or empty (see above).
    QString valueText(int customer, int window) const;
    // A window's start as people read it in the query's zone ("2024-03-05", "2024-03-05 14:00", "2024-03").
    QString windowLabel(qint64 windowStartUs) const;
    static bool zeroWhenEmpty(Aggregate::Function fn);

    // The table as CSV (RFC 4180, UTF-8): window start as ISO 8601 with the zone's
    // offset, then one column per customer, exact values.
    QByteArray toCsv() const;
    // Tab-separated, with headers: the given cells' rectangle, or all of it.
    QString toTsv(const QModelIndexList &cells = {}) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

signals:
    void runningChanged(bool running);
    void finished();                    // result() holds the new answer
    void failed(const QString &error);  // the table is emptied

private:
    void setResult(const Aggregate::Query &query, Aggregate::Result result);

    QString m_location;
    QThread *m_thread = nullptr;
    QObject *m_worker = nullptr;
    quint64 m_generation = 0;
    bool m_running = false;
    std::shared_ptr<std::atomic_bool> m_cancel;
    Aggregate::Query m_query;
    Aggregate::Result m_result;
    QHash<qint64, int> m_cellAt; // customer index * windows + window index -> cells index
};

} // namespace meterdesk
