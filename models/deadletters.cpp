#include "deadletters.h"

#include "workspace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlError>
#include <QSqlQuery>

namespace meterdesk {

QString DeadLetterRecord::summary() const
{
    const QJsonObject p = QJsonDocument::fromJson(problem).object();
    const QJsonArray errors = p.value(u"errors").toArray();
    if (!errors.isEmpty()) {
        const QJsonObject first = errors.first().toObject();
        const QString pointer = first.value(u"pointer").toString();
        const QString more = errors.size() > 1 ? QStringLiteral(" (+%1 more)").arg(errors.size() - 1) : QString();
        return (pointer.isEmpty() ? QString() : pointer + QStringLiteral(": ")) + first.value(u"detail").toString() + more;
    }
    return p.value(u"detail").toString();
}

namespace DeadLetters {

bool append(Workspace &ws, const QList<DeadLetterRecord> &letters, QString *error)
{
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("INSERT INTO dead_letters (received_at, slug, status, problem, body, headers) "
                             "VALUES (?, ?, ?, ?, ?, ?)"));
    // An empty body is text, not NULL (the column is NOT NULL); so is a missing slug (a 404
    // under /usage/: its NULL failed the insert and lost the group's other letters; fuzz_http).
    const auto text = [](const QByteArray &bytes) { return bytes.isEmpty() ? QStringLiteral("") : QString::fromUtf8(bytes); };
    for (const DeadLetterRecord &l : letters) {
        q.addBindValue(l.receivedAtUs);
        q.addBindValue(l.slug.isNull() ? QStringLiteral("") : l.slug);
        q.addBindValue(l.status);
        q.addBindValue(text(l.problem));
        q.addBindValue(text(l.body));
        q.addBindValue(text(l.headers));
        if (!q.exec()) {
            *error = q.lastError().text();
            return false;
        }
    }
    QSqlQuery prune(ws.database());
    if (!prune.exec(QStringLiteral("DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - %1").arg(Kept))) {
        *error = prune.lastError().text();
        return false;
    }
    return true;
}

QList<DeadLetterRecord> list(const Workspace &ws, const QString &slug, int limit)
{
    QList<DeadLetterRecord> out;
    QSqlQuery q(ws.database());
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT id, received_at, slug, status, problem, body, headers FROM dead_letters "
                             "WHERE slug = ? ORDER BY id DESC LIMIT %1").arg(limit));
    q.addBindValue(slug);
    if (!q.exec())
        return out;
    while (q.next())
        out.append({q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString(), q.value(3).toInt(),
                    q.value(4).toString().toUtf8(), q.value(5).toString().toUtf8(), q.value(6).toString().toUtf8()});
    return out;
}

bool remove(Workspace &ws, const QList<qint64> &ids, QString *error)
{
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("DELETE FROM dead_letters WHERE id = ?"));
    for (const qint64 id : ids) {
        q.bindValue(0, id);
        if (!q.exec()) {
            *error = q.lastError().text();
            return false;
        }
    }
    return true;
}

bool clear(Workspace &ws, const QString &slug, QString *error)
{
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("DELETE FROM dead_letters WHERE slug = ?"));
    q.addBindValue(slug);
    if (!q.exec()) {
        *error = q.lastError().text();
        return false;
    }
    return true;
}

} // namespace DeadLetters
} // namespace meterdesk
