#pragma once

#include <QElapsedTimer>
#include <QMetaObject>
#include <QMutex>
#include <QObject>
#include <QTimer>

#include <functional>
#include <utility>

namespace meterdesk {

// Hands what producers on any thread add over to one consumer thread in as few
// wake-ups as possible: add() gathers under a mutex and posts one queued call to
// `context` (whose thread consumes) unless one is already on its way; that call
// delivers everything gathered until it runs. Thousands of adds a second (answers
// of each group commit, commits per second) become one wake-up per pass of the
// consumer's event loop. With `minIntervalMs`, deliveries are also at least that far
// apart (what arrives meanwhile waits for the next one): for notifications a person
// or a debounced check reads, not for answers. Owned by `context` (or outlived by
// it): a queued call or timer of a deleted context is dropped.
template <typename Container>
class Coalescer
{
public:
    Coalescer(QObject *context, std::function<void(Container &&)> deliver, int minIntervalMs = 0)
        : m_context(context), m_deliver(std::move(deliver)), m_minIntervalMs(minIntervalMs)
    {
    }
    Coalescer(const Coalescer &) = delete;
    Coalescer &operator=(const Coalescer &) = delete;

    // Any thread: `addTo(Container &)` runs under the lock.
    template <typename AddTo>
    void add(AddTo &&addTo)
    {
        QMutexLocker lock(&m_mutex);
        std::forward<AddTo>(addTo)(m_items);
        if (!m_posted) {
            m_posted = true;
            QMetaObject::invokeMethod(m_context, [this] { take(); }, Qt::QueuedConnection);
        }
    }

private:
    void take() // on the context's thread
    {
        if (m_minIntervalMs > 0) {
            if (m_sinceDelivery.isValid() && m_sinceDelivery.elapsed() < m_minIntervalMs) {
                // Too soon: deliver when the interval is over; m_posted stays true, so
                // producers post nothing meanwhile.
                QTimer::singleShot(int(m_minIntervalMs - m_sinceDelivery.elapsed()), m_context, [this] { take(); });
                return;
            }
            m_sinceDelivery.start();
        }
        Container items;
        {
            QMutexLocker lock(&m_mutex);
            std::swap(items, m_items);
            m_posted = false;
        }
        m_deliver(std::move(items));
    }

    QObject *m_context;
    std::function<void(Container &&)> m_deliver;
    const int m_minIntervalMs;
    QElapsedTimer m_sinceDelivery; // context's thread only
    QMutex m_mutex;
    Container m_items; // guarded by m_mutex
    bool m_posted = false; // guarded by m_mutex
};

} // namespace meterdesk
