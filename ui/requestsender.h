#pragma once

#include "httprequest.h"
#include "httpresponse.h"

#include <QObject>

namespace meterdesk {

// What the REST console sends requests through. The page knows only this
// interface; the implementation (app/consoleclient.h, QNetworkAccessManager) is
// injected from app/, so ui/ holds no networking. One request at a time; send()
// returns at once and finished() reports later, also for failures and cancels.
// GUI thread.
class RequestSender : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    virtual void send(const HttpRequest &request) = 0;
    // Aborts the request in flight: finished() follows with cancelled = true.
    virtual void cancel() = 0;
    virtual bool isBusy() const = 0;

signals:
    void finished(const meterdesk::HttpResponse &response);
};

} // namespace meterdesk
