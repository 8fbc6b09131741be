#pragma once

#include <QString>

namespace meterdesk {

// What the endpoint accepts and how it runs: limits enforced inside the HTTP parser
// (before memory grows), timeouts per connection, the writer's queue bound, the I/O
// threads and TLS. Plain values: the server never reads settings itself.
struct EndpointLimits
{
    int maxConnections = 1024;
    qint64 maxHeadBytes = qint64(16) * 1024;
    qint64 maxEventBody = qint64(1024) * 1024;
    qint64 maxBatchBody = qint64(16) * 1024 * 1024;
    int headTimeoutMs = 10000;    // from the first byte of a request to the end of its head
    int requestTimeoutMs = 60000; // from the first byte to the last byte of the body
    int idleTimeoutMs = 60000;    // keep-alive connection with nothing to do
    int lingerMs = 3000;          // after refusing: drain input so the client reads our answer
    int maxQueuedEvents = 100000; // the writer's bounded queue; beyond it requests get 429
    int ioThreads = 0;            // HTTP I/O threads; 0: one per core
    QString tlsCertFile;          // both set: HTTPS (PEM certificate chain and private key)
    QString tlsKeyFile;
};

} // namespace meterdesk
