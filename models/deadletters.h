#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace meterdesk {

class Workspace;

// A rejected request as the Rejected tab shows it (written by the endpoint's writer).
struct DeadLetterRecord
{
    qint64 id = 0;
    qint64 receivedAtUs = 0;
    QString slug;
    int status = 0;
    QByteArray problem; // the RFC 9457 body that was answered
    QByteArray body;    // the request body (cut at 64 KiB)
    QByteArray headers; // JSON object, credentials removed

    // The first problem's detail ("/data/x: expected a number…") or the problem's detail.
    QString summary() const;
};

// Reads and prunes the dead-letter table. Synchronous; the table is bounded
// (10,000 rows), so it is fine on the GUI thread's connection.
namespace DeadLetters {
QList<DeadLetterRecord> list(const Workspace &workspace, const QString &slug, int limit = 10000);
bool remove(Workspace &workspace, const QList<qint64> &ids, QString *error);
bool clear(Workspace &workspace, const QString &slug, QString *error);
} // namespace DeadLetters

} // namespace meterdesk
