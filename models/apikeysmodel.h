#pragma once

#include "apikeys.h"

#include <QAbstractTableModel>

namespace meterdesk {

// API keys of the workspace (never the keys themselves: name, prefix, dates). GUI thread.
class ApiKeysModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Name, Prefix, Created, LastUsed, State, ColumnCount };
    enum Role { RawValueRole = Qt::UserRole + 1, IdRole, LiveRole };

    explicit ApiKeysModel(QObject *parent = nullptr);
    void setKeys(const QList<ApiKeyInfo> &keys);
    const ApiKeyInfo *keyAt(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<ApiKeyInfo> m_keys;
};

} // namespace meterdesk
