#pragma once

#include "rowstore.h"

#include <QAbstractTableModel>
#include <QPointer>

#include <functional>

class QThread;
class QTimer;

namespace meterdesk {

// The Rows tab's model: one usage event's rows in pages fetched with keyset paging
// (fetchMore), never the whole table. Every query runs on the model's own worker
// thread with its own connection; results come back queued. GUI thread.
class RowsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Role { RawValueRole = Qt::UserRole + 1, RowIdRole };
    static constexpr int PageSize = 500;
    static constexpr int LiveBatch = 2000; // most rows merged per live update

    RowsModel(QString location, QObject *parent = nullptr);
    ~RowsModel() override;

    // A new query: the model resets and loads the first page and the count.
    void setQuery(const RowsQuery &query);
    RowsQuery query() const { return m_query; }
    bool isLoading() const { return m_loading; }
    std::optional<qint64> exactCount() const { return m_count; }
    void setLocalTime(bool local);
    const StoredRow *rowAt(int row) const;

    // Looks for rows committed since the last look; coalesced to ~10 updates per second.
    void refreshLive();
    // The view shows the top rows: live updates may drop the far tail to stay small.
    void setFollowTop(bool follow);
    // Edits one data field (validated, audited). `done` gets the error, empty on success.
    void editField(int row, int column, const QString &text, std::function<void(QString)> done = {});
    void deleteRows(const QList<int> &rows, std::function<void(QList<StoredRow>, QString)> done);
    void restoreRows(const QList<StoredRow> &rows, std::function<void(QString)> done);
    void history(qint64 rowId, std::function<void(QList<AuditEntry>)> done);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;
    void sort(int column, Qt::SortOrder order) override;

signals:
    void loadingChanged(bool loading);
    void countChanged(qint64 rows, bool exact);
    void queryFailed(const QString &error);
    void editFailed(const QString &error);
    // Live rows went in at the top (the view may keep its place and offer a chip).
    void rowsArrivedAtTop(int count);

private:
    void post(std::function<void(RowStore &)> job, QObject *worker = nullptr);
    void requestPage();
    void fetchLive();
    void mergeLive(QList<StoredRow> rows, qint64 skipToId);
    bool before(const StoredRow &a, const StoredRow &b) const; // a sorts before b
    QString display(const StoredRow &row, int column) const;

    QThread *m_thread = nullptr;
    QObject *m_worker = nullptr; // lives on m_thread; owns the RowStore for pages and edits
    QThread *m_countThread = nullptr;
    QObject *m_countWorker = nullptr; // counts, on their own thread and connection
    QString m_location;
    RowsQuery m_query;
    QList<RowStore::Column> m_columns;
    QList<StoredRow> m_rows;
    quint64 m_generation = 0; // answers to an older query are dropped
    bool m_more = false;
    bool m_loading = false;
    bool m_liveBusy = false;
    bool m_liveAgain = false;
    qint64 m_maxSeenId = 0;
    std::optional<qint64> m_count;
    bool m_localTime = false;
    bool m_followTop = true;
    QTimer *m_liveTimer = nullptr;
};

} // namespace meterdesk
