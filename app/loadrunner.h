#pragma once

#include "eventrunner.h"

#include <QThread>

namespace meterdesk {

class RunWorker;

// The runner behind the REST console's Runner tab: a worker on its own thread
// keeps `concurrency` keep-alive HTTP/1.1 connections busy with the events of a
// RunPlan (plain sockets and a minimal response reader: status line, headers,
// Content-Length body), paced by a token bucket when a rate is set, and reports
// RunStats (by status, per-second throughput and latency percentiles) four times
// a second. Lives on the GUI thread; the thread is ended in the destructor.
class LoadRunner : public EventRunner
{
    Q_OBJECT
public:
    explicit LoadRunner(QObject *parent = nullptr);
    ~LoadRunner() override;

    void start(const HttpRequest &request, const RunConfig &config) override;
    void stop() override;
    bool isRunning() const override { return m_running; }

private:
    QThread m_thread;
    RunWorker *m_worker = nullptr;
    bool m_running = false;
};

} // namespace meterdesk
