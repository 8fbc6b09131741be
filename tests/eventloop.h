#pragma once

// Whether this thread's event loop is free: the check of the tests that put a widget
// in front of a database server that never answers.

#include <QElapsedTimer>
#include <QTest>
#include <QTimer>

namespace meterdesk::test {

// How long ten ticks of a 50 ms timer take here: ~500 ms when nothing blocks the event
// loop; -1 when they did not all come within 2 s.
inline qint64 tenTimerTicksMs()
{
    QElapsedTimer clock;
    clock.start();
    int ticks = 0;
    QTimer timer;
    QObject::connect(&timer, &QTimer::timeout, &timer, [&ticks] { ++ticks; });
    timer.start(50);
    while (ticks < 10 && clock.elapsed() < 2000)
        QTest::qWait(10);
    return ticks >= 10 ? clock.elapsed() : -1;
}

} // namespace meterdesk::test
