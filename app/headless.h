#pragma once

#include <QString>

namespace meterdesk {

// The endpoint without a window: prints "listening on URL", drains on SIGINT/SIGTERM.
int runHeadless(const QString &database, const QString &listen);

} // namespace meterdesk
