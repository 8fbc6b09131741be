#pragma once

#include "usageevent.h"

#include <QByteArray>
#include <QList>

namespace meterdesk::OpenApi {

// OpenAPI 3.1 for the endpoint, generated from the definitions: each usage event's
// data schema is its request body's `data`.
QByteArray document(const QList<UsageEventDefinition> &definitions);

} // namespace meterdesk::OpenApi
