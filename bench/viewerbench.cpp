// bench/viewer's measuring program: the real Rows tab (RowsView) on a big table,
// offscreen. Prints JSON lines. Baseline in the same run: the same first-page query
// straight through QSqlQuery (the storage floor).
// Usage: mdk_viewerbench DB SLUG [--live PORT ORG KEY LOADGEN]
#include "ingestservice.h"
#include "rowsmodel.h"
#include "rowsview.h"
#include "workspace.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QLineEdit>
#include <QProcess>
#include <QSqlQuery>
#include <QTableView>
#include <QTimer>

#include <cstdio>

using namespace meterdesk;

namespace {
qint64 statusKb(const char *key)
{
    QFile f(QStringLiteral("/proc/self/status"));
    f.open(QIODevice::ReadOnly);
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith(key))
            return line.mid(int(qstrlen(key))).trimmed().split(' ').first().toLongLong();
    return -1;
}

// Waits until the model has rows and is idle, then paints the view once.
double untilPainted(RowsView &view, QElapsedTimer &t)
{
    while (view.model()->isLoading() || view.model()->rowCount() == 0) {
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 5);
        if (t.elapsed() > 60000)
            return -1;
    }
    view.grab(); // a real paint of the visible rows
    return double(t.nsecsElapsed()) / 1e6;
}
} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QString db = QString::fromLocal8Bit(argv[1]);
    const QString slug = QString::fromLocal8Bit(argv[2]);
    QString error;
    auto ws = Workspace::open(db, &error);
    const auto def = ws->definition(slug);
    if (!def) {
        std::fprintf(stderr, "no usage event %s\n", argv[2]);
        return 1;
    }

    // Baseline: the first page of the newest rows through QSqlQuery, fetched whole.
    QElapsedTimer t;
    t.start();
    {
        QSqlQuery q(ws->database());
        q.setForwardOnly(true);
        q.exec(QStringLiteral("SELECT * FROM %1 ORDER BY \"timestamp\" DESC, id DESC LIMIT 500").arg(SqlDialect::quote(def->tableName())));
        int n = 0;
        while (q.next())
            ++n;
    }
    const double baseline = double(t.nsecsElapsed()) / 1e6;

    RowsView view(db);
    view.resize(1200, 800);
    view.show();
    t.restart();
    view.showDefinition(*def);
    const double first = untilPainted(view, t);

    t.restart();
    view.view()->horizontalHeader()->setSortIndicator(RowStore::TimestampColumn, Qt::AscendingOrder);
    view.model()->sort(RowStore::TimestampColumn, Qt::AscendingOrder);
    const double oldest = untilPainted(view, t);
    const QString oldestTime = view.model()->data(view.model()->index(0, RowStore::TimestampColumn)).toString();

    t.restart();
    view.findChild<QLineEdit *>(QStringLiteral("customerFilter"))->setText(QStringLiteral("customer-42"));
    view.applyFilters();
    const double filtered = untilPainted(view, t);
    const QString filteredCustomer = view.model()->data(view.model()->index(0, RowStore::CustomerColumn)).toString();

    std::printf("{\"baseline_first_page_ms\":%.1f,\"first_rows_painted_ms\":%.1f,\"jump_to_oldest_ms\":%.1f,"
                "\"oldest\":\"%s\",\"customer_filter_ms\":%.1f,\"filtered_customer\":\"%s\",\"peak_rss_mb\":%.1f}\n",
                baseline, first, oldest, qPrintable(oldestTime), filtered, qPrintable(filteredCustomer),
                double(statusKb("VmHWM:")) / 1024);
    std::fflush(stdout);

    if (argc >= 8 && qstrcmp(argv[3], "--live") == 0) {
        // Live: the endpoint in-process (as in the app), the view on the same event,
        // a load generator outside; measure how late a 10 ms timer fires on this thread.
        view.findChild<QLineEdit *>(QStringLiteral("customerFilter"))->clear();
        view.model()->sort(RowStore::TimestampColumn, Qt::DescendingOrder);
        IngestService endpoint(db);
        QObject::connect(&endpoint, &IngestService::committed, &view, [&view, slug](const QString &s) {
            if (s == slug)
                view.rowsCommitted();
        });
        bool up = false;
        QObject::connect(&endpoint, &IngestService::started, &app, [&up] { up = true; });
        endpoint.start(QStringLiteral("127.0.0.1"), quint16(QByteArray(argv[4]).toUInt()));
        while (!up)
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 10);
        QProcess load;
        load.start(QString::fromLocal8Bit(argv[7]),
                   {QStringLiteral("--port"), QString::fromLocal8Bit(argv[4]), QStringLiteral("--org"),
                    QString::fromLocal8Bit(argv[5]), QStringLiteral("--key"), QString::fromLocal8Bit(argv[6]),
                    QStringLiteral("--seconds"), QStringLiteral("10"), QStringLiteral("--connections"), QStringLiteral("2"),
                    QStringLiteral("--batch"), QStringLiteral("1000"), QStringLiteral("--customer"),
                    QStringLiteral("live-%1").arg(QCoreApplication::applicationPid()),
                    QStringLiteral("--first-timestamp"), QStringLiteral("1900000000")});
        QElapsedTimer clock;
        clock.start();
        qint64 last = clock.elapsed(), worst = 0, ticks = 0;
        QTimer tick;
        tick.setTimerType(Qt::PreciseTimer);
        QObject::connect(&tick, &QTimer::timeout, &app, [&] {
            const qint64 now = clock.elapsed();
            worst = std::max(worst, now - last - 10);
            last = now;
            ++ticks;
        });
        const qint64 rssBefore = statusKb("VmRSS:");
        tick.start(10);
        qint64 rssMid = 0;
        while (load.state() != QProcess::NotRunning || clock.elapsed() < 1000) {
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 5);
            if (clock.elapsed() > 5000 && rssMid == 0)
                rssMid = statusKb("VmRSS:");
            if (clock.elapsed() > 30000)
                break;
        }
        tick.stop();
        const QByteArray result = load.readAllStandardOutput().trimmed();
        std::printf("{\"live_load\":%s,\"gui_worst_lateness_ms\":%lld,\"ticks\":%lld,\"rss_before_mb\":%.1f,"
                    "\"rss_at_5s_mb\":%.1f,\"rss_after_mb\":%.1f,\"rows_in_view\":%d}\n",
                    result.isEmpty() ? "null" : result.constData(), worst, ticks, double(rssBefore) / 1024,
                    double(rssMid) / 1024, double(statusKb("VmRSS:")) / 1024, view.model()->rowCount());
        endpoint.stop();
    }
    return 0;
}
