#include "deadlettersmodel.h"

#include "timestamp.h"

namespace meterdesk {

DeadLettersModel::DeadLettersModel(QObject *parent) : QAbstractTableModel(parent) {}

void DeadLettersModel::setLetters(const QList<DeadLetterRecord> &letters)
{
    beginResetModel();
    m_letters = letters;
    endResetModel();
}

const DeadLetterRecord *DeadLettersModel::letterAt(int row) const
{
    return row >= 0 && row < m_letters.size() ? &m_letters[row] : nullptr;
}

int DeadLettersModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_letters.size()); }
int DeadLettersModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant DeadLettersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const DeadLetterRecord &l = m_letters[index.row()];
    if (role == IdRole)
        return l.id;
    if (role != Qt::DisplayRole && role != RawValueRole)
        return {};
    const bool raw = role == RawValueRole;
    switch (index.column()) {
    case Time: return raw ? QVariant(l.receivedAtUs) : QVariant(Timestamp::toIso(l.receivedAtUs));
    case Status: return l.status;
    case Problem: return l.summary();
    default: return {};
    }
}

QVariant DeadLettersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Time: return tr("Received (UTC)");
    case Status: return tr("Status");
    case Problem: return tr("First problem");
    default: return {};
    }
}

} // namespace meterdesk
