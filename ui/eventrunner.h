#pragma once

#include "httprequest.h"
#include "runplan.h"

#include <QObject>

namespace meterdesk {

// What the REST console's runner drives: sends many events built from a request
// (its URL, headers and body as the template) off the GUI thread and reports
// progress a few times a second. The implementation (app/loadrunner.h) is
// injected from app/. GUI thread.
class EventRunner : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    virtual void start(const HttpRequest &request, const RunConfig &config) = 0;
    virtual void stop() = 0; // finished() follows with stopped = true
    virtual bool isRunning() const = 0;

signals:
    void progress(const meterdesk::RunStats &stats);
    void finished(const meterdesk::RunStats &stats);
};

} // namespace meterdesk
