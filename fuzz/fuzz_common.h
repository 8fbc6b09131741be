#pragma once

// Shared by the fuzz targets (fuzz/README in docs/TESTING.md, "Fuzzing"): a check
// that stops the run with a message (libFuzzer records the input as a crash) and
// the one schema the validator, CSV and NDJSON targets use: every field type,
// required and optional, flat and nested.
#include "dataschema.h"

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                  \
        }                                                                                  \
    } while (false)

namespace meterdesk::fuzz {

inline DataSchema everyTypeSchema()
{
    DataSchema schema;
    schema.fields = {
        {QStringLiteral("name"), FieldType::String, true, {}},
        {QStringLiteral("count"), FieldType::Integer, false, {}},
        {QStringLiteral("ratio"), FieldType::Float, false, {}},
        {QStringLiteral("amount"), FieldType::Decimal, false, {}},
        {QStringLiteral("ok"), FieldType::Boolean, false, {}},
        {QStringLiteral("day"), FieldType::Date, false, {}},
        {QStringLiteral("at"), FieldType::DateTime, false, {}},
        {QStringLiteral("id"), FieldType::Uuid, false, {}},
        {QStringLiteral("tags"), FieldType::Array, false, {}},
        {QStringLiteral("usage.cpu"), FieldType::Decimal, true, {}},
        {QStringLiteral("usage.region.code"), FieldType::String, false, {}},
    };
    return schema;
}

} // namespace meterdesk::fuzz
