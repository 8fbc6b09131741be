// The HTTP ceiling for bench/ingest: Qt HTTP Server answering 201 to every POST
// without parsing or storing anything. Prints "listening on http://127.0.0.1:PORT".
#include <QCoreApplication>
#include <QHttpServer>
#include <QHttpServerResponse>
#include <QTextStream>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QHttpServer server;
    server.route(QStringLiteral("/usage/<arg>"), [](const QString &) {
        return QHttpServerResponse(QByteArrayLiteral("application/json"), QByteArrayLiteral("{\"stored\":false}"),
                                   QHttpServerResponse::StatusCode::Created);
    });
    server.route(QStringLiteral("/usage/<arg>/batch"), [](const QString &) {
        return QHttpServerResponse(QByteArrayLiteral("application/json"), QByteArrayLiteral("{\"stored\":0}"),
                                   QHttpServerResponse::StatusCode::Created);
    });
    const quint16 port = server.listen(QHostAddress::LocalHost, 0);
    QTextStream(stdout) << "listening on http://127.0.0.1:" << port << Qt::endl;
    return app.exec();
}
