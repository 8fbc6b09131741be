// models/coalescer.h: what producer threads add reaches the consumer's thread
// complete and in order, in fewer deliveries than adds; with an interval,
// deliveries are at least that far apart; nothing is delivered after the context
// is gone.
#include "coalescer.h"

#include <QElapsedTimer>
#include <QList>
#include <QPointer>
#include <QTest>
#include <QThread>

#include <memory>

using namespace meterdesk;

namespace {

// A context that owns its coalescer, as IngestServer and IngestService do.
class Consumer : public QObject
{
public:
    explicit Consumer(int intervalMs = 0)
        : coalescer(this, [this](QList<int> &&items) {
              received += items;
              deliveries.append(clock.elapsed());
              inThread = inThread && QThread::currentThread() == thread();
          }, intervalMs)
    {
        clock.start();
    }
    QList<int> received;
    QList<qint64> deliveries; // ms since construction
    bool inThread = true;
    QElapsedTimer clock;
    Coalescer<QList<int>> coalescer;
};

} // namespace

class TestCoalescer : public QObject
{
    Q_OBJECT
private slots:
    void everyItemInOrderInFewDeliveries()
    {
        Consumer consumer;
        constexpr int Count = 20000;
        std::unique_ptr<QThread> producer(QThread::create([&consumer] {
            for (int i = 0; i < Count; ++i)
                consumer.coalescer.add([i](QList<int> &items) { items.append(i); });
        }));
        producer->start();
        QTRY_COMPARE_WITH_TIMEOUT(consumer.received.size(), Count, 10000);
        QVERIFY(producer->wait(5000));
        for (int i = 0; i < Count; ++i)
            QCOMPARE(consumer.received[i], i);
        QVERIFY(consumer.inThread);
        QVERIFY2(consumer.deliveries.size() < Count / 4, // one queued call per add would be Count
                 qPrintable(QStringLiteral("%1 deliveries for %2 adds").arg(consumer.deliveries.size()).arg(Count)));
    }

    void intervalSpacesDeliveries()
    {
        Consumer consumer(100);
        consumer.coalescer.add([](QList<int> &items) { items.append(1); });
        QTRY_COMPARE(consumer.received.size(), 1);
        // Added right after a delivery: held until the interval is over, then all at once.
        consumer.coalescer.add([](QList<int> &items) { items.append(2); });
        consumer.coalescer.add([](QList<int> &items) { items.append(3); });
        QTRY_COMPARE(consumer.received, (QList<int>{1, 2, 3}));
        QCOMPARE(consumer.deliveries.size(), 2);
        QVERIFY2(consumer.deliveries[1] - consumer.deliveries[0] >= 95,
                 qPrintable(QStringLiteral("%1 ms apart").arg(consumer.deliveries[1] - consumer.deliveries[0])));
    }

    void nothingAfterTheContextIsGone()
    {
        bool delivered = false;
        {
            QObject context;
            Coalescer<QList<int>> coalescer(&context, [&delivered](QList<int> &&) { delivered = true; });
            coalescer.add([](QList<int> &items) { items.append(1); });
        } // the queued delivery is still posted
        QTest::qWait(50);
        QVERIFY(!delivered);
    }
};

QTEST_GUILESS_MAIN(TestCoalescer)
#include "tst_coalescer.moc"
