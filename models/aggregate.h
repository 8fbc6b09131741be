#pragma once

#include "usageevent.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QTimeZone>

#include <atomic>
#include <optional>

namespace meterdesk {

class Workspace;

// Meter preview (docs/METERS.md): one aggregate of one usage event's rows, per
// customer and per calendar window in a time zone. The one place that computes
// aggregates: the Chart tab, the alerts and GET /usage/{slug}/aggregate call it.
//
// Values (Cell::value, exact text):
// - integer fields: SUM exact beyond int64 (128-bit, then text: no overflow, no double);
//   MIN/MAX/LATEST the stored integer.
// - decimal fields: SUM exact on the canonical text (Decimal::add), any number of digits.
// - float fields: in double; the text is the shortest that reads back as the same double.
// - AVG of integers and decimals: exact sum / rows, rounded half-even to AvgFractionDigits
//   (12) fraction digits, canonical ("0.5", not "0.500000000000"); of floats: a double.
// - COUNT: rows with a value in the field (every row for an empty field); UNIQUE COUNT:
//   distinct non-null values (decimals compared by value: "1.50" is "1.5").
// - LATEST: the value of the row with the greatest timestamp in the window (ties: the
//   highest row id); booleans as "true"/"false", datetimes as ISO-8601 UTC.
// Customers are ranked (Result::customers, topN) by the sum of their window values
// (Cell::number), largest first; ties by customer_id. Cells are in that customer order,
// then by window.
namespace Aggregate {

inline constexpr int AvgFractionDigits = 12;
inline constexpr int MaxWindows = 100000;
inline constexpr qint64 MaxCells = 4000000; // (customer, window) pairs held while scanning

enum class Function { Sum, Count, Min, Max, Avg, UniqueCount, Latest };
enum class Window { Hour, Day, Month };

// "sum", "count", "min", "max", "avg", "unique_count", "latest" (case-insensitive;
// "unique count" and "distinct_count" too) — the HTTP query's and the CLI's spelling.
std::optional<Function> functionFromName(QStringView name);
QString functionName(Function fn);   // "sum", ...
QString functionTitle(Function fn);  // "SUM", "UNIQUE COUNT", ... for people
std::optional<Window> windowFromName(QStringView name); // "hour", "day", "month"
QString windowName(Window window);
// Which functions a field can take: numbers (integer, float, decimal) take all;
// other types COUNT, UNIQUE COUNT and LATEST. An empty field means "rows": COUNT only.
bool accepts(const UsageEventDefinition &definition, const QString &field, Function fn, QString *why = nullptr);

struct Query
{
    UsageEventDefinition definition;
    QString field;                 // a schema field path; empty: COUNT of rows
    Function function = Function::Sum;
    Window window = Window::Day;
    QTimeZone zone = QTimeZone::utc();
    qint64 fromUs = 0;             // inclusive, event timestamp
    qint64 toUs = 0;               // exclusive
    QStringList customers;         // exact customer_ids; empty: every customer
    int topN = 0;                  // > 0: only the N customers with the largest total
};

struct Cell
{
    QString customerId;
    qint64 windowStartUs = 0;      // the window's start in `zone`, as UTC µs
    QString value;                 // exact: decimals and integers as text, never via a double
    double number = 0;             // the same value for charts
    qint64 rows = 0;               // rows that went into it (non-null values of the field)
};

struct Result
{
    QList<qint64> windowStarts;    // every window of [fromUs, toUs), ascending, empty ones too
    QStringList customers;         // those with at least one row, by total descending (the top-N order)
    QList<Cell> cells;             // only non-empty (customer, window) pairs, by customer then window
    qint64 rowsScanned = 0;
};

// The window containing `us`, and the one after it, in `zone` (DST-aware: a day is
// local midnight to local midnight, a month the first of the month at local midnight).
qint64 windowStart(qint64 us, Window window, const QTimeZone &zone);
qint64 nextWindowStart(qint64 windowStartUs, Window window, const QTimeZone &zone);

// Synchronous; call off the GUI thread on that thread's own Workspace. Empty with
// *error set when the query is invalid (unknown field, function the field cannot
// take, from >= to, more than 100,000 windows) or the database fails.
std::optional<Result> run(Workspace &workspace, const Query &query, QString *error);
// The same; gives up (empty, *error "cancelled") soon after *cancel turns true. When
// empty, *refused (if given) tells the query's fault (invalid, too many windows or cells:
// a 400 over HTTP) from the database's or a cancel.
std::optional<Result> run(Workspace &workspace, const Query &query, QString *error, const std::atomic_bool *cancel,
                          bool *refused = nullptr);

// The query's problems (empty: none), without touching the database.
QString validate(const Query &query);
// Whether the values of this aggregate are numbers (JSON number tokens) rather than
// text: COUNT, UNIQUE COUNT, and every function of an integer, float or decimal field.
bool isNumeric(const UsageEventDefinition &definition, const QString &field, Function fn);

} // namespace Aggregate
} // namespace meterdesk
