#pragma once

#include "usageevent.h"

#include <QByteArray>

namespace meterdesk::SampleEvent {

// A plausible event for a usage event: one value per schema field by type, the
// given time, a sample customer. Pretty-printed JSON that the validator accepts.
QByteArray forDefinition(const UsageEventDefinition &definition, qint64 timestampUs);

// The curl command that sends `body` to `url` with the workspace's headers.
QString curlCommand(const QString &url, const QString &organisation, const QString &apiKey, const QByteArray &body);

} // namespace meterdesk::SampleEvent
