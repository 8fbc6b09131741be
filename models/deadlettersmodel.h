#pragma once

#include "deadletters.h"

#include <QAbstractTableModel>

namespace meterdesk {

// Rejected requests of one usage event, newest first: time, status, first problem.
// GUI thread.
class DeadLettersModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Time, Status, Problem, ColumnCount };
    enum Role { RawValueRole = Qt::UserRole + 1, IdRole };

    explicit DeadLettersModel(QObject *parent = nullptr);
    void setLetters(const QList<DeadLetterRecord> &letters);
    const DeadLetterRecord *letterAt(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<DeadLetterRecord> m_letters;
};

} // namespace meterdesk
