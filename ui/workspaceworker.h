#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

#include <memory>
#include <utility>

class QThread;

namespace meterdesk {

class Workspace;

// A connection to the workspace on a thread of its own, for a widget whose queries are
// small but must not run on the GUI thread (DESIGN.md §3: a PostgreSQL server that is
// slow or gone would freeze the window). The connection is opened there on first use
// and again after a job dropped it. Jobs run one at a time, in the order they were
// given; each one's result is handed to `receiver` on the receiver's thread, unless the
// receiver is gone by then. The destructor waits for the jobs given before it: destroy
// the worker before the receiver (first thing in the receiver's destructor), so that no
// answer is on its way while the receiver goes.
class WorkspaceWorker : public QObject
{
    Q_OBJECT
public:
    // What a job sees: the workspace (nullptr when it cannot be opened, with the reason).
    class Session
    {
    public:
        Session();
        ~Session();
        Session(const Session &) = delete;
        Session &operator=(const Session &) = delete;
        Workspace *workspace() const { return m_workspace.get(); }
        QString openError() const { return m_openError; }
        void drop(); // a server database may have restarted: reopen next time

    private:
        friend class WorkspaceWorker;
        std::unique_ptr<Workspace> m_workspace;
        QString m_openError;
    };

    WorkspaceWorker(QString location, const QString &threadName, QObject *parent = nullptr);
    ~WorkspaceWorker() override;

    // `work(Session &)` on the worker's thread, then `done(result)` on receiver's.
    template <typename Work, typename Done>
    void run(QObject *receiver, Work work, Done done)
    {
        QMetaObject::invokeMethod(m_context, [this, receiver = QPointer<QObject>(receiver), work = std::move(work),
                                              done = std::move(done)]() mutable {
            auto result = work(session());
            if (receiver)
                QMetaObject::invokeMethod(receiver.data(), [receiver, done = std::move(done), result = std::move(result)]() mutable {
                    if (receiver)
                        done(std::move(result));
                }, Qt::QueuedConnection);
        }, Qt::QueuedConnection);
    }

private:
    Session &session(); // on the worker's thread: opens the workspace when needed

    const QString m_location;
    QThread *m_thread = nullptr;
    QObject *m_context = nullptr; // lives on m_thread
    Session m_session;            // used on m_thread only
};

} // namespace meterdesk
