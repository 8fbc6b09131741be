#include "usageeventsmodel.h"

#include "timestamp.h"

#include <QLocale>

namespace meterdesk {

UsageEventsModel::UsageEventsModel(QObject *parent) : QAbstractTableModel(parent) {}

void UsageEventsModel::setDefinitions(const QList<UsageEventDefinition> &definitions)
{
    beginResetModel();
    m_definitions = definitions;
    endResetModel();
}

void UsageEventsModel::setStats(const QHash<QString, EventStats> &stats)
{
    m_stats = stats;
    if (!m_definitions.isEmpty())
        emit dataChanged(index(0, Rows), index(int(m_definitions.size()) - 1, LastEvent));
}

void UsageEventsModel::setBaseUrl(const QString &baseUrl)
{
    m_baseUrl = baseUrl;
    while (m_baseUrl.endsWith(u'/')) // "http://host:port/" must not give "//usage/..."
        m_baseUrl.chop(1);
    if (!m_definitions.isEmpty())
        emit dataChanged(index(0, Endpoint), index(int(m_definitions.size()) - 1, Endpoint));
}

QString UsageEventsModel::endpointUrl(const QString &slug) const
{
    return (m_baseUrl.isEmpty() ? QStringLiteral("http://127.0.0.1:8080") : m_baseUrl) + QStringLiteral("/usage/") + slug;
}

const UsageEventDefinition *UsageEventsModel::definitionAt(int row) const
{
    return row >= 0 && row < m_definitions.size() ? &m_definitions[row] : nullptr;
}

int UsageEventsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_definitions.size());
}

int UsageEventsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant UsageEventsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const UsageEventDefinition &d = m_definitions[index.row()];
    const auto stats = m_stats.constFind(d.slug);
    const bool known = stats != m_stats.cend();
    if (role == SlugRole)
        return d.slug;
    if (role == Qt::TextAlignmentRole && index.column() == Rows)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && index.column() == Endpoint)
        return tr("POST %1").arg(endpointUrl(d.slug));
    if (role != Qt::DisplayRole && role != RawValueRole)
        return {};
    const bool raw = role == RawValueRole;
    switch (index.column()) {
    case Name: return d.name;
    case Slug: return d.slug;
    case Endpoint: return endpointUrl(d.slug);
    case Rows:
        if (!known)
            return raw ? QVariant() : QVariant(QStringLiteral("…"));
        return raw ? QVariant(stats->rows) : QVariant(QLocale().toString(stats->rows));
    case LastEvent:
        if (!known || !stats->lastReceivedAtUs)
            return raw ? QVariant() : QVariant(known ? tr("never") : QStringLiteral("…"));
        return raw ? QVariant(*stats->lastReceivedAtUs) : QVariant(Timestamp::toIso(*stats->lastReceivedAtUs));
    default: return {};
    }
}

QVariant UsageEventsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name: return tr("Name");
    case Slug: return tr("API slug");
    case Endpoint: return tr("Endpoint URL");
    case Rows: return tr("Rows");
    case LastEvent: return tr("Last event received");
    default: return {};
    }
}

} // namespace meterdesk
