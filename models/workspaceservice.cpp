#include "workspaceservice.h"

#include "workspace.h"

#include <QCoreApplication>
#include <QPointer>
#include <QSqlQuery>
#include <QThreadPool>

namespace meterdesk {

WorkspaceService::WorkspaceService(std::unique_ptr<Workspace> workspace, QObject *parent)
    : QObject(parent), m_workspace(std::move(workspace))
{
}

WorkspaceService::~WorkspaceService() = default;

QString WorkspaceService::location() const { return m_workspace->location(); }
QString WorkspaceService::organisation() const { return m_workspace->organisation(); }
QList<UsageEventDefinition> WorkspaceService::definitions() const { return m_workspace->definitions(); }

std::optional<UsageEventDefinition> WorkspaceService::definition(const QString &slug) const
{
    return m_workspace->definition(slug);
}

bool WorkspaceService::slugTaken(const QString &slug) const
{
    return m_workspace->definition(slug).has_value();
}

Problems WorkspaceService::createDefinition(UsageEventDefinition &d)
{
    Problems problems = m_workspace->createDefinition(d);
    if (problems.isEmpty())
        emit definitionsChanged();
    return problems;
}

Problems WorkspaceService::updateDefinition(const QString &slug, const UsageEventDefinition &changed)
{
    Problems problems = m_workspace->updateDefinition(slug, changed);
    if (problems.isEmpty())
        emit definitionsChanged();
    return problems;
}

bool WorkspaceService::removeDefinition(const QString &slug, QString *error)
{
    const bool ok = m_workspace->removeDefinition(slug, error);
    if (ok)
        emit definitionsChanged();
    return ok;
}

std::optional<CreatedApiKey> WorkspaceService::createKey(const QString &name, QString *error)
{
    auto created = ApiKeys::create(*m_workspace, name, error);
    if (created)
        emit keysChanged();
    return created;
}

QList<ApiKeyInfo> WorkspaceService::keys() const { return ApiKeys::list(*m_workspace); }

bool WorkspaceService::revokeKey(qint64 id, QString *error)
{
    const bool ok = ApiKeys::revoke(*m_workspace, id, error);
    if (ok)
        emit keysChanged();
    return ok;
}

QList<DeadLetterRecord> WorkspaceService::deadLetters(const QString &slug) const
{
    return DeadLetters::list(*m_workspace, slug);
}

bool WorkspaceService::removeDeadLetters(const QList<qint64> &ids, QString *error)
{
    return DeadLetters::remove(*m_workspace, ids, error);
}

bool WorkspaceService::clearDeadLetters(const QString &slug, QString *error)
{
    return DeadLetters::clear(*m_workspace, slug, error);
}

void WorkspaceService::refreshStats()
{
    if (m_statsRunning) {
        m_statsAgain = true; // coalesce: one more pass when this one ends
        return;
    }
    m_statsRunning = true;
    const QString location = m_workspace->location();
    const QList<UsageEventDefinition> defs = definitions();
    QPointer<WorkspaceService> self(this);
    QThreadPool::globalInstance()->start([self, location, defs] {
        QHash<QString, EventStats> stats;
        {
            QString error;
            auto ws = Workspace::open(location, &error);
            for (const UsageEventDefinition &d : defs) {
                if (!ws)
                    break;
                EventStats s;
                QSqlQuery q(ws->database());
                // max(id) is the newest arrival; the time index answers max(timestamp).
                if (q.exec(QStringLiteral("SELECT count(*), max(\"timestamp\"), max(received_at) FROM %1")
                               .arg(SqlDialect::quote(d.tableName())))
                    && q.next()) {
                    s.rows = q.value(0).toLongLong();
                    if (!q.value(1).isNull())
                        s.lastTimestampUs = q.value(1).toLongLong();
                    if (!q.value(2).isNull())
                        s.lastReceivedAtUs = q.value(2).toLongLong();
                }
                stats.insert(d.slug, s);
            }
        }
        QMetaObject::invokeMethod(qApp, [self, stats] {
            if (!self)
                return;
            self->m_statsRunning = false;
            emit self->statsReady(stats);
            if (self->m_statsAgain) {
                self->m_statsAgain = false;
                self->refreshStats();
            }
        }, Qt::QueuedConnection);
    });
}

void WorkspaceService::countValues(const UsageEventDefinition &definition, const QStringList &fieldPaths,
                                   std::function<void(QHash<QString, qint64>)> done)
{
    const QString location = m_workspace->location();
    QPointer<WorkspaceService> self(this);
    QThreadPool::globalInstance()->start([self, location, definition, fieldPaths, done = std::move(done)] {
        QHash<QString, qint64> counts;
        {
            QString error;
            auto ws = Workspace::open(location, &error);
            for (const QString &path : fieldPaths)
                counts.insert(path, ws ? ws->valuesInColumn(definition, QStringLiteral("data.") + path) : -1);
        }
        QMetaObject::invokeMethod(qApp, [self, counts, done] {
            if (self)
                done(counts);
        }, Qt::QueuedConnection);
    });
}

} // namespace meterdesk
