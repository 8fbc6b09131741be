#pragma once

#include "usageevent.h"

#include <QString>

#include <atomic>
#include <functional>
#include <optional>

class QIODevice;

namespace meterdesk {

class Workspace;

enum class ExportFormat { Csv, Ndjson };

struct ExportOptions
{
    ExportFormat format = ExportFormat::Csv;
    QString customerId;           // exact match when set
    std::optional<qint64> fromUs; // inclusive
    std::optional<qint64> toUs;   // exclusive
    int pageSize = 2000;          // rows per keyset page
    std::function<void(qint64 rows)> progress; // after each page
    const std::atomic_bool *cancel = nullptr;  // checked before each page
};

struct ExportResult
{
    qint64 rows = 0;
    bool cancelled = false;
    QString error;
};

// Streams the rows of one usage event, oldest first, to a device in a form that
// EventImporter reads back: CSV (customer_id, timestamp in canonical RFC 3339,
// then one column per schema field with the value as stored in the row's original
// data: decimals exactly as sent; an absent value is an empty cell, an empty
// string is `""`) or NDJSON ({"data":..,"timestamp":..,"customer_id":..} with the
// stored data as it is). Reads in keyset pages, never OFFSET. Runs on the thread
// that owns the workspace it is given.
class EventExporter
{
public:
    static std::optional<ExportFormat> formatFromName(QStringView name); // "csv" or "ndjson"

    static ExportResult run(const Workspace &workspace, const UsageEventDefinition &definition, QIODevice &output,
                            const ExportOptions &options);
};

} // namespace meterdesk
