// The second HTTP ceiling for bench/ingest: Meterdesk's own HTTP engine (Boost.Beast +
// Asio, app/server/httpengine) with the endpoint's routes answering 201 without parsing
// or storing anything — what the real endpoint costs beyond its HTTP layer is the gap
// to it. Same options as the endpoint: --io-threads N. Prints "listening on http://127.0.0.1:PORT".
#include "httpengine.h"

#include <QCoreApplication>
#include <QTextStream>

using namespace meterdesk;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    EndpointLimits limits;
    const QStringList args = app.arguments();
    const qsizetype at = args.indexOf(QStringLiteral("--io-threads"));
    if (at > 0 && at + 1 < args.size())
        limits.ioThreads = args[at + 1].toInt();
    HttpEngine engine(
        limits,
        [](IncomingRequest &&request, const Reply &reply) {
            if (request.path.startsWith(QLatin1String("/usage/")) && request.path.endsWith(QLatin1String("/batch")))
                reply.send(201, QByteArrayLiteral("{\"stored\":0}"));
            else if (request.path.startsWith(QLatin1String("/usage/")))
                reply.send(201, QByteArrayLiteral("{\"stored\":false}"));
            else
                reply.send(404, QByteArrayLiteral("{}"));
        },
        [&limits](const QString &path) { return path.endsWith(QLatin1String("/batch")) ? limits.maxBatchBody : limits.maxEventBody; });
    QString error;
    if (!engine.listen(QStringLiteral("127.0.0.1"), 0, &error)) {
        QTextStream(stderr) << error << Qt::endl;
        return 1;
    }
    QTextStream(stdout) << "listening on http://127.0.0.1:" << engine.port() << Qt::endl;
    return app.exec();
}
