#include "apikeysmodel.h"

#include "timestamp.h"

namespace meterdesk {

ApiKeysModel::ApiKeysModel(QObject *parent) : QAbstractTableModel(parent) {}

void ApiKeysModel::setKeys(const QList<ApiKeyInfo> &keys)
{
    beginResetModel();
    m_keys = keys;
    endResetModel();
}

const ApiKeyInfo *ApiKeysModel::keyAt(int row) const
{
    return row >= 0 && row < m_keys.size() ? &m_keys[row] : nullptr;
}

int ApiKeysModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_keys.size()); }
int ApiKeysModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ApiKeysModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ApiKeyInfo &k = m_keys[index.row()];
    if (role == IdRole)
        return k.id;
    if (role == LiveRole)
        return k.live();
    if (role != Qt::DisplayRole && role != RawValueRole)
        return {};
    const bool raw = role == RawValueRole;
    switch (index.column()) {
    case Name: return k.name;
    case Prefix: return raw ? QVariant(k.prefix) : QVariant(k.prefix + QStringLiteral("…"));
    case Created: return raw ? QVariant(k.createdAtUs) : QVariant(Timestamp::toIso(k.createdAtUs));
    case LastUsed:
        if (!k.lastUsedAtUs)
            return raw ? QVariant() : QVariant(tr("never"));
        return raw ? QVariant(*k.lastUsedAtUs) : QVariant(Timestamp::toIso(*k.lastUsedAtUs));
    case State: return raw ? QVariant(k.live()) : QVariant(k.live() ? tr("live") : tr("revoked"));
    default: return {};
    }
}

QVariant ApiKeysModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name: return tr("Name");
    case Prefix: return tr("Key");
    case Created: return tr("Created (UTC)");
    case LastUsed: return tr("Last used (UTC)");
    case State: return tr("State");
    default: return {};
    }
}

} // namespace meterdesk
