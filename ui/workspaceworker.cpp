#include "workspaceworker.h"

#include "workspace.h"

#include <QThread>

namespace meterdesk {

WorkspaceWorker::Session::Session() = default;
WorkspaceWorker::Session::~Session() = default;

void WorkspaceWorker::Session::drop()
{
    m_workspace.reset();
}

WorkspaceWorker::WorkspaceWorker(QString location, const QString &threadName, QObject *parent)
    : QObject(parent), m_location(std::move(location)), m_thread(new QThread(this)), m_context(new QObject)
{
    m_thread->setObjectName(threadName);
    m_context->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_context, &QObject::deleteLater);
    m_thread->start();
}

WorkspaceWorker::~WorkspaceWorker()
{
    // The connection is closed on the thread that opened it, after the jobs given so far
    // (small ones: the owner gives only short queries).
    QMetaObject::invokeMethod(m_context, [this] { m_session.drop(); }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
}

WorkspaceWorker::Session &WorkspaceWorker::session()
{
    if (!m_session.m_workspace) {
        m_session.m_openError.clear();
        m_session.m_workspace = Workspace::open(m_location, &m_session.m_openError);
    }
    return m_session;
}

} // namespace meterdesk
