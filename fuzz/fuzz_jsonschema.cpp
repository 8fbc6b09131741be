// JSON Schema import (models/dataschema.h, DataSchema::fromJsonSchema) and schema
// inference from a sample event (DataSchema::infer): what a person pastes or
// uploads in the schema editor. Properties: an accepted schema has no problems and
// validates clean; refused ones say why; toJsonSchema() of an accepted (or inferred,
// valid) schema imports back to the same fields (JSON Schema objects carry no order,
// so fields are compared by path).
#include "fuzz_common.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

using namespace meterdesk;

namespace {

QList<SchemaField> byPath(QList<SchemaField> fields)
{
    std::sort(fields.begin(), fields.end(), [](const SchemaField &a, const SchemaField &b) { return a.path < b.path; });
    return fields;
}

void checkRoundTrip(const DataSchema &schema)
{
    Problems problems;
    const auto back = DataSchema::fromJsonSchema(schema.toJsonSchema(), &problems);
    if (!back) {
        for (const Problem &p : problems)
            std::fprintf(stderr, "%s: %s\n", qPrintable(p.pointer), qPrintable(p.message));
    }
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(byPath(back->fields) == byPath(schema.fields));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QJsonDocument doc = QJsonDocument::fromJson(bytes);
    if (!doc.isObject())
        return 0;
    const QJsonObject object = doc.object();

    Problems problems;
    const auto schema = DataSchema::fromJsonSchema(object, &problems);
    FUZZ_CHECK(schema.has_value() == problems.isEmpty());
    for (const Problem &p : problems)
        FUZZ_CHECK(!p.message.isEmpty());
    if (schema) {
        FUZZ_CHECK(schema->validate().isEmpty());
        FUZZ_CHECK(schema->fields.size() <= DataSchema::MaxFields);
        checkRoundTrip(*schema);
    }
    // Without a problems list the answer is the same.
    FUZZ_CHECK(DataSchema::fromJsonSchema(object, nullptr).has_value() == schema.has_value());

    const DataSchema inferred = DataSchema::infer(object);
    if (inferred.validate().isEmpty())
        checkRoundTrip(inferred);
    return 0;
}
