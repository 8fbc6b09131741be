#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace meterdesk {

// What came back for a request sent from the REST console: a plain value filled
// by the network client (app/) and shown by the console page (ui/).
struct HttpResponse
{
    int status = 0;                 // 0 when no HTTP answer arrived (see error)
    QString reason;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    qint64 elapsedMs = 0;
    QString error;                  // network failure (refused, timeout, ...); empty on any HTTP answer
    bool cancelled = false;

    // One entry of an RFC 9457 problem's `errors` array.
    struct Problem
    {
        QString pointer;
        QString detail;
    };

    QByteArray header(const QByteArray &name) const;
    bool isProblem() const;          // application/problem+json
    // The `errors` of a problem body (empty when not a problem or none listed).
    QList<Problem> problems() const;
    // The problem's `detail` (or `title`), empty when not a problem.
    QString problemDetail() const;
};

} // namespace meterdesk
