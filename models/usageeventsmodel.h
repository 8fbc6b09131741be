#pragma once

#include "usageevent.h"
#include "workspaceservice.h"

#include <QAbstractTableModel>

namespace meterdesk {

// The Usage Events list: one row per definition. Figures that need a table scan
// arrive later through setStats(). GUI thread.
class UsageEventsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Name, Slug, Endpoint, Rows, LastEvent, ColumnCount };
    enum Role { RawValueRole = Qt::UserRole + 1, SlugRole };

    explicit UsageEventsModel(QObject *parent = nullptr);

    void setDefinitions(const QList<UsageEventDefinition> &definitions);
    void setStats(const QHash<QString, EventStats> &stats);
    void setBaseUrl(const QString &baseUrl);
    QString endpointUrl(const QString &slug) const;
    const UsageEventDefinition *definitionAt(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<UsageEventDefinition> m_definitions;
    QHash<QString, EventStats> m_stats;
    QString m_baseUrl;
};

} // namespace meterdesk
