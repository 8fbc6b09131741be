#pragma once

#include "dataschema.h"

#include <QString>

namespace meterdesk {

// What happens when an event arrives with the customer_id + timestamp of a stored
// one but other data: refuse it (409) or replace the row (with an audit record).
enum class DuplicatePolicy { Reject, Overwrite };

// A usage event as the user defines it on the Usage Events page. A plain value.
struct UsageEventDefinition
{
    qint64 id = 0;
    QString name;
    QString slug;
    DataSchema schema;
    DuplicatePolicy policy = DuplicatePolicy::Reject;
    qint64 createdAtUs = 0;

    // The per-event table: derived from the slug, which is validated to [A-Za-z0-9_-].
    QString tableName() const { return QStringLiteral("usage_") + slug.toLower(); }

    static QString policyName(DuplicatePolicy p)
    {
        return p == DuplicatePolicy::Overwrite ? QStringLiteral("overwrite") : QStringLiteral("reject");
    }
    static DuplicatePolicy policyFromName(QStringView n)
    {
        return n == QLatin1String("overwrite") ? DuplicatePolicy::Overwrite : DuplicatePolicy::Reject;
    }
};

} // namespace meterdesk
