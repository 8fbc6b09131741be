#pragma once

#include "runplan.h"

#include <QWidget>

namespace meterdesk {

// A small live chart for the runner: events per second as bars and p50/p99
// latency as lines (own scale on the right), one point per second. Painted by
// hand (Qt Charts is not in Debian's Qt 6.4 set we build against). GUI thread.
class ThroughputChart : public QWidget
{
    Q_OBJECT
public:
    explicit ThroughputChart(QWidget *parent = nullptr);
    void setSeconds(const QList<RunSecond> &seconds);
    QSize sizeHint() const override { return {480, 160}; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QList<RunSecond> m_seconds;
};

} // namespace meterdesk
