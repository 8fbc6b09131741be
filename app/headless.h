#pragma once

#include "endpointlimits.h"

#include <QString>

namespace meterdesk {

// The endpoint without a window: prints "listening on URL", drains on SIGINT/SIGTERM.
// `endpoint` carries --io-threads and --tls-cert/--tls-key.
int runHeadless(const QString &database, const QString &listen, const EndpointLimits &endpoint = {});

} // namespace meterdesk
