#pragma once

#include "usageevent.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QTimeZone>

#include <optional>

namespace meterdesk {

class Workspace;

// Meter preview (docs/METERS.md): one aggregate of one usage event's rows, per
// customer and per calendar window in a time zone. The one place that computes
// aggregates: the Chart tab, the alerts and GET /usage/{slug}/aggregate call it.
namespace Aggregate {

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

} // namespace Aggregate
} // namespace meterdesk
