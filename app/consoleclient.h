#pragma once

#include "requestsender.h"

#include <QElapsedTimer>
#include <QPointer>

class QNetworkAccessManager;
class QNetworkReply;

namespace meterdesk {

// Sends the REST console's requests with QNetworkAccessManager: asynchronous,
// one at a time, cancellable, with a transfer timeout so a dead server cannot
// hold the console forever. Owns its manager. GUI thread (never blocks it).
class ConsoleClient : public RequestSender
{
    Q_OBJECT
public:
    explicit ConsoleClient(QObject *parent = nullptr);
    ~ConsoleClient() override;

    void send(const HttpRequest &request) override;
    void cancel() override;
    bool isBusy() const override { return !m_reply.isNull(); }

    void setTimeoutMs(int ms) { m_timeoutMs = ms; }

private:
    void onFinished();
    void failLater(const QString &error);

    QNetworkAccessManager *m_manager = nullptr;
    QPointer<QNetworkReply> m_reply;
    QElapsedTimer m_clock;
    bool m_cancelled = false;
    int m_timeoutMs = 30000;
};

} // namespace meterdesk
