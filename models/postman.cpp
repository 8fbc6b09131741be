#include "postman.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>
#include <QUuid>

namespace meterdesk::Postman {

namespace {

const QString schemaV21 = QStringLiteral("https://schema.getpostman.com/json/collection/v2.1.0/collection.json");

QString str(const QJsonObject &o, const char *key) { return o.value(QLatin1String(key)).toString(); }

// Postman auth parameters are an array of {key, value}; v2.0 used an object.
QString authParam(const QJsonObject &auth, const QString &type, const char *key)
{
    const QJsonValue params = auth.value(type);
    if (params.isObject())
        return params.toObject().value(QLatin1String(key)).toVariant().toString();
    for (const QJsonValue &p : params.toArray())
        if (str(p.toObject(), "key") == QLatin1String(key))
            return p.toObject().value(QLatin1String("value")).toVariant().toString();
    return {};
}

// The header an auth block stands for; nullopt for noauth / inherit / unsupported.
std::optional<HttpHeader> authHeader(const QJsonObject &auth)
{
    const QString type = str(auth, "type");
    if (type == QLatin1String("bearer"))
        return HttpHeader{QStringLiteral("Authorization"), QStringLiteral("Bearer ") + authParam(auth, type, "token")};
    if (type == QLatin1String("apikey") && authParam(auth, type, "in") != QLatin1String("query")) {
        const QString key = authParam(auth, type, "key");
        return HttpHeader{key.isEmpty() ? QStringLiteral("x-api-key") : key, authParam(auth, type, "value")};
    }
    if (type == QLatin1String("basic")) {
        const QString credentials = authParam(auth, type, "username") + u':' + authParam(auth, type, "password");
        return HttpHeader{QStringLiteral("Authorization"),
                          QStringLiteral("Basic ") + QString::fromLatin1(credentials.toUtf8().toBase64())};
    }
    return std::nullopt;
}

QString urlText(const QJsonValue &url)
{
    if (url.isString())
        return url.toString();
    const QJsonObject o = url.toObject();
    if (o.contains(QLatin1String("raw")))
        return str(o, "raw");
    // Rebuild from parts when raw is missing.
    QStringList host, path;
    for (const QJsonValue &h : o.value(QLatin1String("host")).toArray())
        host.append(h.toString());
    for (const QJsonValue &p : o.value(QLatin1String("path")).toArray())
        path.append(p.isObject() ? str(p.toObject(), "value") : p.toString());
    QString text = str(o, "protocol").isEmpty() ? QString() : str(o, "protocol") + QStringLiteral("://");
    text += host.join(u'.');
    if (!str(o, "port").isEmpty())
        text += u':' + str(o, "port");
    if (!path.isEmpty())
        text += u'/' + path.join(u'/');
    return text;
}

QString bodyText(const QJsonObject &body)
{
    const QString mode = str(body, "mode");
    if (mode == QLatin1String("raw"))
        return str(body, "raw");
    if (mode == QLatin1String("urlencoded")) {
        QStringList pairs;
        for (const QJsonValue &v : body.value(QLatin1String("urlencoded")).toArray()) {
            const QJsonObject p = v.toObject();
            if (!p.value(QLatin1String("disabled")).toBool())
                pairs.append(QString::fromLatin1(QUrl::toPercentEncoding(str(p, "key"))) + u'='
                             + QString::fromLatin1(QUrl::toPercentEncoding(str(p, "value"))));
        }
        return pairs.join(u'&');
    }
    return {};
}

void readItems(const QJsonArray &items, const QString &prefix, const QJsonObject &inheritedAuth,
               QList<SavedRequest> *out)
{
    for (const QJsonValue &v : items) {
        const QJsonObject item = v.toObject();
        const QString name = prefix.isEmpty() ? str(item, "name") : prefix + QStringLiteral(" / ") + str(item, "name");
        QJsonObject auth = item.value(QLatin1String("auth")).toObject();
        if (auth.isEmpty() || str(auth, "type") == QLatin1String("inherit"))
            auth = inheritedAuth;
        if (item.contains(QLatin1String("item"))) { // a folder
            readItems(item.value(QLatin1String("item")).toArray(), name, auth, out);
            continue;
        }
        const QJsonValue requestValue = item.value(QLatin1String("request"));
        SavedRequest saved;
        saved.name = name;
        HttpRequest &r = saved.request;
        if (requestValue.isString()) {
            r.url = requestValue.toString();
        } else {
            const QJsonObject request = requestValue.toObject();
            r.method = str(request, "method").isEmpty() ? QStringLiteral("GET") : str(request, "method").toUpper();
            r.url = urlText(request.value(QLatin1String("url")));
            const QJsonValue headers = request.value(QLatin1String("header"));
            for (const QJsonValue &h : headers.toArray()) {
                const QJsonObject o = h.toObject();
                r.headers.append({str(o, "key"), str(o, "value"), !o.value(QLatin1String("disabled")).toBool()});
            }
            QJsonObject requestAuth = request.value(QLatin1String("auth")).toObject();
            if (requestAuth.isEmpty() || str(requestAuth, "type") == QLatin1String("inherit"))
                requestAuth = auth;
            if (const auto header = authHeader(requestAuth); header && !r.hasHeader(header->name))
                r.headers.append(*header);
            r.body = bodyText(request.value(QLatin1String("body")).toObject());
        }
        out->append(saved);
    }
}

QJsonValue urlObject(const QString &raw)
{
    QJsonObject url{{QStringLiteral("raw"), raw}};
    // host and path the way Postman splits them, so its UI shows the parts.
    QString rest = raw;
    QString protocol;
    if (const qsizetype scheme = rest.indexOf(QLatin1String("://")); scheme > 0) {
        protocol = rest.left(scheme);
        rest = rest.mid(scheme + 3);
    }
    rest = rest.section(u'?', 0, 0);
    const qsizetype slash = rest.indexOf(u'/');
    const QString host = slash < 0 ? rest : rest.left(slash);
    if (!protocol.isEmpty())
        url.insert(QStringLiteral("protocol"), protocol);
    url.insert(QStringLiteral("host"), QJsonArray::fromStringList(host.split(u'.')));
    if (slash >= 0)
        url.insert(QStringLiteral("path"), QJsonArray::fromStringList(rest.mid(slash + 1).split(u'/')));
    return url;
}

} // namespace

std::optional<RequestCollection> readCollection(const QByteArray &json, QString *error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        *error = QStringLiteral("not a JSON object: %1").arg(parseError.errorString());
        return std::nullopt;
    }
    const QJsonObject root = doc.object();
    const QJsonObject info = root.value(QLatin1String("info")).toObject();
    if (info.isEmpty() || !root.value(QLatin1String("item")).isArray()) {
        *error = QStringLiteral("not a Postman collection (no \"info\" or \"item\")");
        return std::nullopt;
    }
    const QString schema = str(info, "schema");
    if (!schema.isEmpty() && !schema.contains(QLatin1String("/v2."))) {
        *error = QStringLiteral("unsupported collection schema '%1' (v2.0 and v2.1 are read)").arg(schema);
        return std::nullopt;
    }
    RequestCollection c;
    c.name = str(info, "name");
    readItems(root.value(QLatin1String("item")).toArray(), {}, root.value(QLatin1String("auth")).toObject(), &c.requests);
    for (const QJsonValue &v : root.value(QLatin1String("variable")).toArray())
        c.variables.append({str(v.toObject(), "key"), v.toObject().value(QLatin1String("value")).toVariant().toString()});
    return c;
}

QByteArray writeCollection(const RequestCollection &collection)
{
    QJsonArray items;
    for (const SavedRequest &saved : collection.requests) {
        const HttpRequest &r = saved.request;
        QJsonArray headers;
        for (const HttpHeader &h : r.headers) {
            QJsonObject header{{QStringLiteral("key"), h.name}, {QStringLiteral("value"), h.value},
                               {QStringLiteral("type"), QStringLiteral("text")}};
            if (!h.enabled)
                header.insert(QStringLiteral("disabled"), true);
            headers.append(header);
        }
        QJsonObject request{{QStringLiteral("method"), r.method},
                            {QStringLiteral("header"), headers},
                            {QStringLiteral("url"), urlObject(r.url)}};
        if (!r.body.isEmpty()) {
            QJsonObject body{{QStringLiteral("mode"), QStringLiteral("raw")}, {QStringLiteral("raw"), r.body}};
            if (r.header(u"Content-Type").contains(QLatin1String("json")))
                body.insert(QStringLiteral("options"),
                            QJsonObject{{QStringLiteral("raw"), QJsonObject{{QStringLiteral("language"), QStringLiteral("json")}}}});
            request.insert(QStringLiteral("body"), body);
        }
        items.append(QJsonObject{{QStringLiteral("name"), saved.name}, {QStringLiteral("request"), request}});
    }
    QJsonArray variables;
    for (const auto &[key, value] : collection.variables)
        variables.append(QJsonObject{{QStringLiteral("key"), key}, {QStringLiteral("value"), value}});
    QJsonObject root{{QStringLiteral("info"),
                      QJsonObject{{QStringLiteral("_postman_id"), QUuid::createUuid().toString(QUuid::WithoutBraces)},
                                  {QStringLiteral("name"), collection.name},
                                  {QStringLiteral("schema"), schemaV21}}},
                     {QStringLiteral("item"), items}};
    if (!variables.isEmpty())
        root.insert(QStringLiteral("variable"), variables);
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

std::optional<QList<QPair<QString, QString>>> readEnvironment(const QByteArray &json, QString *name, QString *error)
{
    const QJsonObject root = QJsonDocument::fromJson(json).object();
    if (!root.value(QLatin1String("values")).isArray()) {
        *error = QStringLiteral("not a Postman environment (no \"values\" array)");
        return std::nullopt;
    }
    if (name)
        *name = str(root, "name");
    QList<QPair<QString, QString>> values;
    for (const QJsonValue &v : root.value(QLatin1String("values")).toArray()) {
        const QJsonObject o = v.toObject();
        if (o.value(QLatin1String("enabled")).toBool(true))
            values.append({str(o, "key"), o.value(QLatin1String("value")).toVariant().toString()});
    }
    return values;
}

QByteArray writeEnvironment(const QString &name, const QList<QPair<QString, QString>> &values)
{
    QJsonArray array;
    for (const auto &[key, value] : values)
        array.append(QJsonObject{{QStringLiteral("key"), key}, {QStringLiteral("value"), value},
                                 {QStringLiteral("type"), QStringLiteral("default")}, {QStringLiteral("enabled"), true}});
    const QJsonObject root{{QStringLiteral("id"), QUuid::createUuid().toString(QUuid::WithoutBraces)},
                           {QStringLiteral("name"), name},
                           {QStringLiteral("values"), array},
                           {QStringLiteral("_postman_variable_scope"), QStringLiteral("environment")}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

} // namespace meterdesk::Postman
