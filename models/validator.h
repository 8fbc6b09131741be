#pragma once

#include "dataschema.h"
#include "jsonvalue.h"
#include "problem.h"

#include <QVariantList>

#include <optional>
#include <vector>

namespace meterdesk {

// An event that passed validation, with typed values ready to bind.
struct ValidatedEvent
{
    QString customerId;
    qint64 timestampUs = 0;
    QVariantList values;  // one per schema field, in schema order; null when absent
    QByteArray dataJson;  // the original `data`, canonical (sorted keys, numbers as sent)
};

struct Validation
{
    std::optional<ValidatedEvent> event;
    Problems problems; // every problem at once; empty when event is set
};

// The validator (DESIGN.md §1): envelope + `data` against the schema. One rule for
// the endpoint, the importers, the web form and the console. Pure: any thread.
namespace Validator {

// A schema with each field's path split into UTF-8 segments once, for validating
// many events (a batch, an import) against it. Refers to `schema`: keep it alive.
struct PreparedSchema
{
    const DataSchema *schema = nullptr;
    std::vector<std::vector<QByteArray>> segments;
};
PreparedSchema prepare(const DataSchema &schema);

inline constexpr int MaxCustomerIdLength = 512;

// `pointerPrefix` is prepended to every JSON pointer ("/17" for batch item 17).
Validation validateEvent(const DataSchema &schema, const JsonValue &body, const QString &pointerPrefix = {});
Validation validateEvent(const PreparedSchema &schema, const JsonValue &body, const QString &pointerPrefix = {});

// One value against one field type: the typed value, or why not.
std::optional<QVariant> convert(FieldType type, const JsonValue &value, QString *why);

// Parses raw bytes first (a 400-class problem when they are not JSON).
Validation validateBytes(const DataSchema &schema, QByteArrayView bytes);

} // namespace Validator
} // namespace meterdesk
