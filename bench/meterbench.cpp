// bench/meter's measuring program: one Aggregate::run (models/aggregate.*) on a big
// table, timed, with what the check needs: (customer, window) cells and their total.
// Usage: mdk_meterbench DB SLUG FIELD FN WINDOW FROM TO [ZONE]
// Prints one JSON line.
#include "aggregate.h"
#include "timestamp.h"
#include "workspace.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <cstdio>

using namespace meterdesk;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 8) {
        std::fprintf(stderr, "usage: mdk_meterbench DB SLUG FIELD FN WINDOW FROM TO [ZONE]\n");
        return 2;
    }
    const QStringList args = app.arguments();
    QString error;
    auto ws = Workspace::open(args[1], &error);
    if (!ws) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    const auto definition = ws->definition(args[2]);
    const auto fn = Aggregate::functionFromName(args[4]);
    const auto window = Aggregate::windowFromName(args[5]);
    const auto from = Timestamp::fromUserInput(args[6]).micros;
    const auto to = Timestamp::fromUserInput(args[7]).micros;
    if (!definition || !fn || !window || !from || !to) {
        std::fprintf(stderr, "bad arguments\n");
        return 2;
    }
    Aggregate::Query q;
    q.definition = *definition;
    q.field = args[3];
    q.function = *fn;
    q.window = *window;
    q.fromUs = *from;
    q.toUs = *to;
    if (argc > 8)
        q.zone = QTimeZone(args[8].toUtf8());
    QElapsedTimer timer;
    timer.start();
    const std::optional<Aggregate::Result> r = Aggregate::run(*ws, q, &error);
    const double seconds = double(timer.nsecsElapsed()) / 1e9;
    if (!r) {
        std::fprintf(stderr, "aggregate failed: %s\n", qPrintable(error));
        return 1;
    }
    double total = 0;
    for (const Aggregate::Cell &c : r->cells)
        total += c.number;
    std::printf("{\"seconds\":%.3f,\"cells\":%lld,\"customers\":%lld,\"windows\":%lld,\"rows\":%lld,\"total\":%.3f}\n", seconds,
                qlonglong(r->cells.size()), qlonglong(r->customers.size()), qlonglong(r->windowStarts.size()),
                qlonglong(r->rowsScanned), total);
    return 0;
}
