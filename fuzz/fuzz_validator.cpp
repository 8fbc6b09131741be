// The event validator (models/validator.h) behind the endpoint, the importers, the
// form and the console: JsonValue::parse, then Validator::validateEvent against a
// schema with every field type. Properties: parsing is canonical (toJson parses
// back to the same bytes), validateBytes agrees with parse + validateEvent, an
// accepted event has one value per field, and the event rebuilt from what was
// accepted (canonical timestamp, canonical data) is accepted with the same values.
#include "fuzz_common.h"
#include "jsonvalue.h"
#include "timestamp.h"
#include "validator.h"

using namespace meterdesk;

namespace {

const DataSchema &schema()
{
    static const DataSchema s = fuzz::everyTypeSchema();
    return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const JsonValue::ParseResult parsed = JsonValue::parse(bytes);
    const Validation direct = Validator::validateBytes(schema(), bytes);
    FUZZ_CHECK(direct.event.has_value() == direct.problems.isEmpty());
    if (!parsed.ok) {
        FUZZ_CHECK(!parsed.error.isEmpty());
        FUZZ_CHECK(parsed.offset >= 0 && parsed.offset <= bytes.size());
        FUZZ_CHECK(!direct.event);
        return 0;
    }
    // Canonical text: a second round gives the same bytes.
    const QByteArray canonical = parsed.value.toJson(true);
    const JsonValue::ParseResult reparsed = JsonValue::parse(canonical);
    FUZZ_CHECK(reparsed.ok);
    FUZZ_CHECK(reparsed.value.toJson(true) == canonical);
    FUZZ_CHECK(JsonValue::parse(parsed.value.toJson(false)).ok);

    const Validation v = Validator::validateEvent(schema(), parsed.value);
    FUZZ_CHECK(v.event.has_value() == v.problems.isEmpty());
    FUZZ_CHECK(v.event.has_value() == direct.event.has_value());
    for (const Problem &p : v.problems)
        FUZZ_CHECK(!p.message.isEmpty() && (p.pointer.isEmpty() || p.pointer.startsWith(u'/')));
    // The prepared schema (batches, imports) gives the same answer.
    static const Validator::PreparedSchema prepared = Validator::prepare(schema());
    const Validation viaPrepared = Validator::validateEvent(prepared, parsed.value, QStringLiteral("/7"));
    FUZZ_CHECK(viaPrepared.event.has_value() == v.event.has_value());
    FUZZ_CHECK(viaPrepared.problems.size() == v.problems.size());
    for (const Problem &p : viaPrepared.problems)
        FUZZ_CHECK(p.pointer.startsWith(QLatin1String("/7")));
    if (!v.event)
        return 0;

    const ValidatedEvent &event = *v.event;
    FUZZ_CHECK(event.values.size() == schema().fields.size());
    FUZZ_CHECK(!event.customerId.isEmpty());
    FUZZ_CHECK(event.timestampUs >= Timestamp::MinMicros && event.timestampUs <= Timestamp::MaxMicros);
    const JsonValue::ParseResult stored = JsonValue::parse(event.dataJson);
    FUZZ_CHECK(stored.ok && stored.value.isObject());
    FUZZ_CHECK(stored.value.toJson(true) == event.dataJson);

    JsonValue rebuilt = JsonValue::makeObject();
    rebuilt.insert("customer_id", JsonValue::makeString(event.customerId.toUtf8()));
    rebuilt.insert("timestamp", JsonValue::makeString(Timestamp::toIso(event.timestampUs).toUtf8()));
    rebuilt.insert("data", stored.value);
    const Validation again = Validator::validateEvent(schema(), rebuilt);
    FUZZ_CHECK(again.event.has_value());
    FUZZ_CHECK(again.event->customerId == event.customerId);
    FUZZ_CHECK(again.event->timestampUs == event.timestampUs);
    FUZZ_CHECK(again.event->dataJson == event.dataJson);
    // Array columns hold the array's JSON as sent (object members in arrival order)
    // while data is canonical, so they are compared as canonical JSON.
    for (qsizetype i = 0; i < event.values.size(); ++i) {
        if (schema().fields[i].type != FieldType::Array || event.values[i].isNull()) {
            FUZZ_CHECK(again.event->values[i] == event.values[i]);
            continue;
        }
        const auto a = JsonValue::parse(event.values[i].toString().toUtf8());
        const auto b = JsonValue::parse(again.event->values[i].toString().toUtf8());
        FUZZ_CHECK(a.ok && b.ok && a.value.toJson(true) == b.value.toJson(true));
    }
    return 0;
}
