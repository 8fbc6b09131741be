#pragma once

#include "httprequest.h"
#include "runplan.h"

#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace meterdesk {

class EventRunner;
class ThroughputChart;

// The console's Runner tab: sends N events built from the current request (count,
// concurrency, rate limit, random customers, shares of duplicates and invalid
// events) through an injected EventRunner, with a progress bar, a live chart and
// a summary by status code; Stop at any time. GUI thread.
class RunnerPanel : public QWidget
{
    Q_OBJECT
public:
    explicit RunnerPanel(QWidget *parent = nullptr);

    void setRunner(EventRunner *runner);
    RunConfig config() const;
    void setConfig(const RunConfig &config);
    const RunStats &lastStats() const { return m_stats; }

signals:
    // Start was pressed: the page answers with start(request).
    void startRequested();

public slots:
    void start(const meterdesk::HttpRequest &request);
    void stop();

private:
    void showStats(const RunStats &stats);

    EventRunner *m_runner = nullptr;
    RunStats m_stats;
    QSpinBox *m_count = nullptr;
    QSpinBox *m_concurrency = nullptr;
    QSpinBox *m_rate = nullptr;
    QSpinBox *m_customers = nullptr;
    QSpinBox *m_duplicates = nullptr;
    QSpinBox *m_invalid = nullptr;
    QPushButton *m_start = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_summary = nullptr;
    QTableWidget *m_byStatus = nullptr;
    ThroughputChart *m_chart = nullptr;
};

} // namespace meterdesk
