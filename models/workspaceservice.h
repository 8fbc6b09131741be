#pragma once

#include "apikeys.h"
#include "deadletters.h"
#include "problem.h"
#include "usageevent.h"

#include <QHash>
#include <QObject>

#include <functional>
#include <memory>
#include <optional>

namespace meterdesk {

class Workspace;

// Per usage event figures that need a scan of its table (computed off the GUI thread).
struct EventStats
{
    qint64 rows = 0;
    std::optional<qint64> lastTimestampUs;  // newest event time
    std::optional<qint64> lastReceivedAtUs; // when the newest row arrived
};

// The GUI's door to a workspace. Lives on the GUI thread and owns a connection for
// the small tables (definitions, keys); anything that scans an event table runs on
// a pool thread with a connection of its own and reports back by signal.
// Widgets get this object injected from app/; they never see SQL.
class WorkspaceService : public QObject
{
    Q_OBJECT
public:
    explicit WorkspaceService(std::unique_ptr<Workspace> workspace, QObject *parent = nullptr);
    ~WorkspaceService() override;

    QString location() const;
    QString organisation() const;

    QList<UsageEventDefinition> definitions() const;
    std::optional<UsageEventDefinition> definition(const QString &slug) const;
    Problems createDefinition(UsageEventDefinition &definition);
    Problems updateDefinition(const QString &slug, const UsageEventDefinition &changed);
    bool removeDefinition(const QString &slug, QString *error);
    bool slugTaken(const QString &slug) const;

    std::optional<CreatedApiKey> createKey(const QString &name, QString *error);
    QList<ApiKeyInfo> keys() const;
    bool revokeKey(qint64 id, QString *error);

    // Rejected requests of a usage event (a bounded table: read here directly).
    QList<DeadLetterRecord> deadLetters(const QString &slug) const;
    bool removeDeadLetters(const QList<qint64> &ids, QString *error);
    bool clearDeadLetters(const QString &slug, QString *error);

    // Off the GUI thread: row count and newest event of every usage event -> statsReady.
    void refreshStats();
    // Off the GUI thread: how many stored rows hold a value in each listed field of
    // `definition` (for "what happens to stored rows" before a retype/removal).
    void countValues(const UsageEventDefinition &definition, const QStringList &fieldPaths,
                     std::function<void(QHash<QString, qint64>)> done);

signals:
    void definitionsChanged();
    void keysChanged();
    void statsReady(const QHash<QString, EventStats> &statsBySlug);

private:
    std::unique_ptr<Workspace> m_workspace;
    bool m_statsRunning = false;
    bool m_statsAgain = false;
};

} // namespace meterdesk

Q_DECLARE_METATYPE(meterdesk::EventStats)
