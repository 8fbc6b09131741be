#include "consoleclient.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>
#include <QUrl>

namespace meterdesk {

ConsoleClient::ConsoleClient(QObject *parent) : RequestSender(parent), m_manager(new QNetworkAccessManager(this)) {}

ConsoleClient::~ConsoleClient()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
}

void ConsoleClient::failLater(const QString &error)
{
    // Same contract as a network failure: finished() comes from the event loop, never from send().
    QTimer::singleShot(0, this, [this, error] {
        HttpResponse response;
        response.error = error;
        emit finished(response);
    });
}

void ConsoleClient::send(const HttpRequest &request)
{
    if (isBusy())
        cancel();
    const QUrl url(request.url, QUrl::StrictMode);
    if (!url.isValid() || url.scheme().isEmpty() || url.host().isEmpty()) {
        failLater(tr("Not a valid URL: %1").arg(request.url));
        return;
    }
    if (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")) {
        failLater(tr("Only http and https URLs can be sent: %1").arg(request.url));
        return;
    }
    QNetworkRequest r(url);
    r.setTransferTimeout(m_timeoutMs);
    bool hasContentType = false;
    for (const HttpHeader &h : request.headers) {
        if (!h.enabled || h.name.isEmpty())
            continue;
        hasContentType = hasContentType || h.name.compare(QLatin1String("content-type"), Qt::CaseInsensitive) == 0;
        r.setRawHeader(h.name.toUtf8(), h.value.toUtf8());
    }
    const QByteArray body = request.body.toUtf8();
    if (!body.isEmpty() && !hasContentType) // what curl sends for -d; Qt would warn and do the same
        r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/x-www-form-urlencoded"));
    m_cancelled = false;
    m_clock.start();
    m_reply = m_manager->sendCustomRequest(r, request.method.toUtf8(), body);
    connect(m_reply, &QNetworkReply::finished, this, &ConsoleClient::onFinished);
}

void ConsoleClient::cancel()
{
    if (!m_reply)
        return;
    m_cancelled = true;
    m_reply->abort(); // emits finished()
}

void ConsoleClient::onFinished()
{
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    if (!reply)
        return;
    reply->deleteLater();
    HttpResponse response;
    response.elapsedMs = m_clock.elapsed();
    response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    response.reason = QString::fromUtf8(reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray());
    for (const auto &pair : reply->rawHeaderPairs())
        response.headers.append(pair);
    if (reply->isOpen())
        response.body = reply->readAll();
    response.cancelled = m_cancelled;
    // Braces: after an unbraced if, `emit` (an empty macro) makes the next statement
    // look indented under it (readability-misleading-indentation).
    if (m_cancelled) {
        response.error = tr("Cancelled");
    } else if (response.status == 0) {
        response.error = reply->error() == QNetworkReply::OperationCanceledError
                             ? tr("No answer within %1 s").arg(m_timeoutMs / 1000)
                             : reply->errorString();
    }
    emit finished(response);
}

} // namespace meterdesk
