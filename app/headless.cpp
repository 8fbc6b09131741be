#include "headless.h"

#include "alertmonitor.h"
#include "cli.h"
#include "ingestservice.h"
#include "sqldialect.h"
#include "workspace.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTextStream>

#include <csignal>
#include <unistd.h>

namespace meterdesk {

namespace {

int g_signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(g_signalPipe[1], &byte, 1);
}

// SIGINT/SIGTERM -> the event loop ends (self-pipe: the handler only writes a byte).
void quitOnSignals()
{
    if (::pipe(g_signalPipe) != 0)
        return;
    auto *notifier = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, QCoreApplication::instance());
    QObject::connect(notifier, &QSocketNotifier::activated, QCoreApplication::instance(), [] {
        char byte;
        [[maybe_unused]] const auto n = ::read(g_signalPipe[0], &byte, 1);
        QCoreApplication::quit();
    });
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool listenAddress(const QString &listen, QString *host, quint16 *port)
{
    QString error;
    if (parseListenAddress(listen.isEmpty() ? QStringLiteral("127.0.0.1:8080") : listen, host, port, &error))
        return true;
    QTextStream(stderr) << "meterdesk: " << error << Qt::endl;
    return false;
}

// Another process holding the SQLite file's write lock would leave an endpoint that
// answers every event 503 after a 10 s wait. Say so, wait as long as a write would
// (the busy timeout, 10 s), and do not start if the lock stays taken.
bool writeLockAvailable(const QString &database)
{
    QTextStream err(stderr);
    if (SqlDialect::isPostgresUrl(database))
        return true;
    QString error;
    auto ws = Workspace::open(database, &error);
    if (!ws) {
        err << "meterdesk: " << error << Qt::endl;
        return false;
    }
    QString why;
    if (!ws->canTakeWriteLock(0, &why)) {
        err << "meterdesk: " << database << " is locked by another process; waiting up to 10 s for it." << Qt::endl;
        if (!ws->canTakeWriteLock(10000, &why)) {
            err << "meterdesk: " << database << " is still locked by another process (" << why.simplified()
                << "); not starting. Close the program that holds it, or choose another --database." << Qt::endl;
            return false;
        }
    }
    return true;
}

} // namespace

int runHeadless(const QString &database, const QString &listen, const EndpointLimits &endpoint)
{
    QString host;
    quint16 port = 0;
    if (!listenAddress(listen, &host, &port))
        return ExitUsage;
    quitOnSignals();
    if (!writeLockAvailable(database))
        return ExitFailure;
    const QString warning = plainTextWarning(host, endpoint);
    if (!warning.isEmpty())
        QTextStream(stderr) << "meterdesk: warning: " << warning << Qt::endl;
    IngestService service(database, endpoint);
    int exitCode = ExitOk;
    QObject::connect(&service, &IngestService::started, &service, [](const QString &url) {
        QTextStream out(stdout);
        out << "listening on " << url << Qt::endl;
    });
    QObject::connect(&service, &IngestService::failed, &service, [&exitCode](const QString &error) {
        QTextStream(stderr) << "meterdesk: " << error << Qt::endl;
        exitCode = ExitFailure;
        QCoreApplication::exit(ExitFailure);
    });
    // Usage alerts run here too: a crossing is logged and POSTed to its webhook.
    AlertMonitor alerts(database);
    QObject::connect(&service, &IngestService::committed, &alerts, &AlertMonitor::rowsCommitted);
    QObject::connect(&alerts, &AlertMonitor::fired, &alerts, [](const AlertDefinition &alert, const AlertFiring &firing) {
        QTextStream(stdout) << "alert " << alert.name << ": " << Alerts::notificationText(alert, firing) << Qt::endl;
    });
    alerts.start();
    service.start(host, port);
    QCoreApplication::exec();
    service.stop(); // drain, answer, commit
    alerts.stop();
    return exitCode;
}

} // namespace meterdesk
