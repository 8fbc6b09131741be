#include "apikeys.h"

#include "workspace.h"

#include <QCryptographicHash>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSqlQuery>

namespace meterdesk::ApiKeys {

QByteArray digest(QByteArrayView key)
{
    return QCryptographicHash::hash(key, QCryptographicHash::Sha256);
}

std::optional<CreatedApiKey> create(Workspace &ws, const QString &name, QString *error)
{
    quint32 random[8];
    QRandomGenerator::system()->fillRange(random);
    const QByteArray secret = QByteArray(reinterpret_cast<const char *>(random), sizeof random)
                                  .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    CreatedApiKey created;
    created.key = QStringLiteral("mdk_") + QString::fromLatin1(secret);
    created.info.name = name.trimmed().isEmpty() ? QStringLiteral("key") : name.trimmed().left(200);
    created.info.prefix = created.key.left(12);
    created.info.createdAtUs = Workspace::nowUs();
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("INSERT INTO api_keys (name, prefix, key_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id"));
    q.addBindValue(created.info.name);
    q.addBindValue(created.info.prefix);
    q.addBindValue(QString::fromLatin1(digest(created.key.toLatin1()).toHex()));
    q.addBindValue(created.info.createdAtUs);
    if (!q.exec() || !q.next()) {
        *error = q.lastError().text();
        return std::nullopt;
    }
    created.info.id = q.value(0).toLongLong();
    return created;
}

QList<ApiKeyInfo> list(const Workspace &ws)
{
    QList<ApiKeyInfo> keys;
    QSqlQuery q(ws.database());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id")))
        return keys;
    while (q.next()) {
        ApiKeyInfo k;
        k.id = q.value(0).toLongLong();
        k.name = q.value(1).toString();
        k.prefix = q.value(2).toString();
        k.createdAtUs = q.value(3).toLongLong();
        if (!q.value(4).isNull())
            k.lastUsedAtUs = q.value(4).toLongLong();
        if (!q.value(5).isNull())
            k.revokedAtUs = q.value(5).toLongLong();
        keys.append(k);
    }
    return keys;
}

bool revoke(Workspace &ws, qint64 id, QString *error)
{
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"));
    q.addBindValue(Workspace::nowUs());
    q.addBindValue(id);
    if (!q.exec()) {
        *error = q.lastError().text();
        return false;
    }
    if (q.numRowsAffected() != 1) {
        *error = QStringLiteral("No live API key with id %1.").arg(id);
        return false;
    }
    return true;
}

void touch(Workspace &ws, const QByteArray &keyDigest, qint64 atUs)
{
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("UPDATE api_keys SET last_used_at = ? WHERE key_hash = ?"));
    q.addBindValue(atUs);
    q.addBindValue(QString::fromLatin1(keyDigest.toHex()));
    q.exec();
}

bool recordUse(Workspace &ws, const QHash<qint64, qint64> &lastUse, QString *error)
{
    QSqlQuery q(ws.database());
    q.prepare(QStringLiteral("UPDATE api_keys SET last_used_at = ? WHERE id = ?"));
    for (auto it = lastUse.cbegin(); it != lastUse.cend(); ++it) {
        q.addBindValue(it.value());
        q.addBindValue(it.key());
        if (!q.exec()) {
            *error = q.lastError().text();
            return false;
        }
    }
    return true;
}

QList<QPair<qint64, QByteArray>> liveDigests(const Workspace &ws, bool *ok)
{
    QList<QPair<qint64, QByteArray>> out;
    QSqlQuery q(ws.database());
    q.setForwardOnly(true);
    const bool done = q.exec(QStringLiteral("SELECT id, key_hash FROM api_keys WHERE revoked_at IS NULL"));
    if (ok)
        *ok = done;
    if (!done)
        return out;
    while (q.next())
        out.append({q.value(0).toLongLong(), QByteArray::fromHex(q.value(1).toString().toLatin1())});
    return out;
}

std::optional<qint64> verify(const QList<QPair<qint64, QByteArray>> &live, QByteArrayView candidate)
{
    const QByteArray d = digest(candidate);
    std::optional<qint64> found;
    for (const auto &[id, stored] : live) {
        unsigned char diff = stored.size() == d.size() ? 0 : 1;
        for (qsizetype i = 0; i < d.size() && i < stored.size(); ++i)
            diff |= static_cast<unsigned char>(stored[i] ^ d[i]);
        if (diff == 0)
            found = id;
    }
    return found;
}

} // namespace meterdesk::ApiKeys
