#include "codesnippet.h"

namespace meterdesk::CodeSnippet {

namespace {

QList<HttpHeader> enabledHeaders(const HttpRequest &request)
{
    QList<HttpHeader> out;
    for (const HttpHeader &h : request.headers)
        if (h.enabled)
            out.append(h);
    return out;
}

// C++ narrow literal: UTF-8 bytes; octal escapes never swallow a following digit past three.
QString cppQuoted(const QString &text)
{
    QString out = QStringLiteral("\"");
    for (const char byte : text.toUtf8()) {
        const auto c = static_cast<unsigned char>(byte);
        switch (c) {
        case '"': out += QStringLiteral("\\\""); break;
        case '\\': out += QStringLiteral("\\\\"); break;
        case '\n': out += QStringLiteral("\\n"); break;
        case '\r': out += QStringLiteral("\\r"); break;
        case '\t': out += QStringLiteral("\\t"); break;
        case '?': out += QStringLiteral("\\?"); break; // no trigraphs
        default:
            if (c < 0x20 || c >= 0x7f)
                out += QStringLiteral("\\%1").arg(uint(c), 3, 8, QLatin1Char('0'));
            else
                out += QLatin1Char(char(c));
        }
    }
    return out + u'"';
}

} // namespace

QString quoted(const QString &text)
{
    QString out = QStringLiteral("\"");
    for (const QChar c : text) {
        switch (c.unicode()) {
        case '"': out += QStringLiteral("\\\""); break;
        case '\\': out += QStringLiteral("\\\\"); break;
        case '\n': out += QStringLiteral("\\n"); break;
        case '\r': out += QStringLiteral("\\r"); break;
        case '\t': out += QStringLiteral("\\t"); break;
        default:
            if (c.unicode() < 0x20 || c.unicode() == 0x2028 || c.unicode() == 0x2029)
                out += QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0'));
            else
                out += c;
        }
    }
    return out + u'"';
}

QString python(const HttpRequest &request)
{
    QString s = QStringLiteral("import requests\n\nurl = %1\n").arg(quoted(request.url));
    const QList<HttpHeader> headers = enabledHeaders(request);
    s += QStringLiteral("headers = {\n");
    for (const HttpHeader &h : headers)
        s += QStringLiteral("    %1: %2,\n").arg(quoted(h.name), quoted(h.value));
    s += QStringLiteral("}\n");
    if (!request.body.isEmpty())
        s += QStringLiteral("data = %1.encode(\"utf-8\")\n").arg(quoted(request.body));
    s += QStringLiteral("\nresponse = requests.request(%1, url, headers=headers%2)\n")
             .arg(quoted(request.method), request.body.isEmpty() ? QString() : QStringLiteral(", data=data"));
    s += QStringLiteral("print(response.status_code)\nprint(response.text)\n");
    return s;
}

QString javaScript(const HttpRequest &request)
{
    QString s = QStringLiteral("const response = await fetch(%1, {\n  method: %2,\n  headers: {\n")
                    .arg(quoted(request.url), quoted(request.method));
    for (const HttpHeader &h : enabledHeaders(request))
        s += QStringLiteral("    %1: %2,\n").arg(quoted(h.name), quoted(h.value));
    s += QStringLiteral("  },\n");
    if (!request.body.isEmpty())
        s += QStringLiteral("  body: %1,\n").arg(quoted(request.body));
    s += QStringLiteral("});\nconsole.log(response.status, await response.text());\n");
    return s;
}

QString cppQt(const HttpRequest &request)
{
    QString s = QStringLiteral("// #include <QNetworkAccessManager> <QNetworkReply> <QNetworkRequest>\n"
                               "auto *manager = new QNetworkAccessManager;\n"
                               "QNetworkRequest request(QUrl(QString::fromUtf8(%1)));\n")
                    .arg(cppQuoted(request.url));
    for (const HttpHeader &h : enabledHeaders(request))
        s += QStringLiteral("request.setRawHeader(%1, %2);\n").arg(cppQuoted(h.name), cppQuoted(h.value));
    s += QStringLiteral("const QByteArray body = %1;\n").arg(cppQuoted(request.body));
    s += QStringLiteral("QNetworkReply *reply = manager->sendCustomRequest(request, %1, body);\n"
                        "QObject::connect(reply, &QNetworkReply::finished, reply, [reply] {\n"
                        "    qDebug() << reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt()\n"
                        "             << reply->readAll();\n"
                        "    reply->deleteLater();\n"
                        "});\n")
             .arg(cppQuoted(request.method));
    return s;
}

} // namespace meterdesk::CodeSnippet
