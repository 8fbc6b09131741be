#pragma once

#include <QString>

namespace meterdesk {

// The two long-running modes of the binary, composed from the layers.
int runHeadless(const QString &database, const QString &listen);
int runGui(const QString &database, const QString &listen);

} // namespace meterdesk
