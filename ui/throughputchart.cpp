#include "throughputchart.h"

#include <QPainter>
#include <QPainterPath>

#include <algorithm>

namespace meterdesk {

ThroughputChart::ThroughputChart(QWidget *parent) : QWidget(parent)
{
    setMinimumHeight(120);
    setObjectName(QStringLiteral("runnerChart"));
}

void ThroughputChart::setSeconds(const QList<RunSecond> &seconds)
{
    m_seconds = seconds;
    update();
}

void ThroughputChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF area = QRectF(rect()).adjusted(48, 8, -48, -20);
    p.fillRect(rect(), palette().base());
    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(area);
    if (m_seconds.isEmpty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(area, Qt::AlignCenter, tr("Throughput and latency appear here, one point a second"));
        return;
    }
    qint64 maxRate = 1;
    double maxMs = 1;
    for (const RunSecond &s : m_seconds) {
        maxRate = std::max(maxRate, s.completed);
        maxMs = std::max(maxMs, s.p99Ms);
    }
    const int n = int(m_seconds.size());
    const double step = area.width() / std::max(n, 10);
    const QColor bars(0x42, 0x85, 0xf4, 160);
    for (int i = 0; i < n; ++i) {
        const double h = area.height() * double(m_seconds[i].completed) / double(maxRate);
        p.fillRect(QRectF(area.left() + i * step + 1, area.bottom() - h, std::max(1.0, step - 2), h), bars);
    }
    auto line = [&](auto value, const QColor &colour) {
        QPainterPath path;
        for (int i = 0; i < n; ++i) {
            const QPointF point(area.left() + (i + 0.5) * step, area.bottom() - area.height() * value(m_seconds[i]) / maxMs);
            i == 0 ? path.moveTo(point) : path.lineTo(point);
        }
        p.setPen(QPen(colour, 2));
        p.drawPath(path);
    };
    line([](const RunSecond &s) { return s.p50Ms; }, QColor(0x2e, 0x7d, 0x32));
    line([](const RunSecond &s) { return s.p99Ms; }, QColor(0xef, 0x6c, 0x00));

    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRectF(0, area.top() - 4, 44, 16), Qt::AlignRight, QString::number(maxRate));
    p.drawText(QRectF(0, area.bottom() - 12, 44, 16), Qt::AlignRight, QStringLiteral("0"));
    p.drawText(QRectF(area.right() + 4, area.top() - 4, 44, 16), Qt::AlignLeft, tr("%1 ms").arg(maxMs, 0, 'f', 1));
    p.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), 16), Qt::AlignLeft,
               tr("bars: events/s · green: p50 · orange: p99"));
}

} // namespace meterdesk
