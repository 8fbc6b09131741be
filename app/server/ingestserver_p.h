#pragma once

// Helpers shared by the IngestServer's route files (ingestserver.cpp, ingestroute.cpp,
// aggregateroute.cpp); not part of the server's interface.
#include "httpengine.h"

#include <QByteArray>

namespace meterdesk::ingest {

inline constexpr int MaxBatchEvents = 10000;
inline constexpr qsizetype DeadLetterBodyCap = qsizetype(64) * 1024;

// An API key ("mdk_" + 43 base64url characters) wherever a client put it: the dead
// letters keep bodies and headers for inspection, never a usable key.
QByteArray scrubKeys(QByteArray text);
// The headers as a JSON object, secrets (authorization, keys, cookies, tokens) left out.
QByteArray redactedHeaders(const HeaderList &headers);

} // namespace meterdesk::ingest
