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

// The dead-letter table: written by the endpoint's writer, read and pruned by the
// Rejected tab. Synchronous; the table is bounded, so reads are fine on the GUI
// thread's connection.
namespace DeadLetters {
inline constexpr int Kept = 10000; // the newest rejected requests kept
// Adds letters (call inside a write transaction) and prunes to the newest `Kept`.
bool append(Workspace &workspace, const QList<DeadLetterRecord> &letters, QString *error);
QList<DeadLetterRecord> list(const Workspace &workspace, const QString &slug, int limit = 10000);
bool remove(Workspace &workspace, const QList<qint64> &ids, QString *error);
bool clear(Workspace &workspace, const QString &slug, QString *error);
} // namespace DeadLetters

} // namespace meterdesk
