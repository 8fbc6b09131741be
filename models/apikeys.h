#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>

#include <optional>

namespace meterdesk {

class Workspace;

struct ApiKeyInfo
{
    qint64 id = 0;
    QString name;
    QString prefix; // the first characters, to recognise a key without storing it
    qint64 createdAtUs = 0;
    std::optional<qint64> lastUsedAtUs;
    std::optional<qint64> revokedAtUs;
    bool live() const { return !revokedAtUs.has_value(); }
};

struct CreatedApiKey
{
    ApiKeyInfo info;
    QString key; // shown once; only its SHA-256 is stored
};

// API keys of a workspace: only SHA-256 digests are stored, never keys.
namespace ApiKeys {

std::optional<CreatedApiKey> create(Workspace &workspace, const QString &name, QString *error);
QList<ApiKeyInfo> list(const Workspace &workspace);
bool revoke(Workspace &workspace, qint64 id, QString *error);
void touch(Workspace &workspace, const QByteArray &digest, qint64 atUs);
// Key id -> when it was last used (call inside a write transaction).
bool recordUse(Workspace &workspace, const QHash<qint64, qint64> &lastUse, QString *error);

QByteArray digest(QByteArrayView key);                    // SHA-256, raw 32 bytes
// (id, digest); *ok false when the query failed (not: no live keys).
QList<QPair<qint64, QByteArray>> liveDigests(const Workspace &workspace, bool *ok = nullptr);

// Compares `candidate`'s digest with every live digest without an early exit, so
// the time taken does not depend on how much of a key matched. The id, or nothing.
std::optional<qint64> verify(const QList<QPair<qint64, QByteArray>> &liveDigests, QByteArrayView candidate);

} // namespace ApiKeys
} // namespace meterdesk
