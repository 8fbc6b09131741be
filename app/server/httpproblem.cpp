#include "httpproblem.h"

#include "jsonvalue.h"

namespace meterdesk {

HttpErrorInfo httpErrorInfo(HttpError error)
{
    switch (error) {
    case HttpError::BadRequest: return {400, "bad-request", "The request body is not a usage event"};
    case HttpError::Unauthorized: return {401, "unauthorized", "A live API key is required"};
    case HttpError::Forbidden: return {403, "forbidden", "Wrong organisation"};
    case HttpError::NotFound: return {404, "not-found", "No such usage event or route"};
    case HttpError::MethodNotAllowed: return {405, "method-not-allowed", "Method not allowed on this route"};
    case HttpError::RequestTimeout: return {408, "request-timeout", "The request took too long to arrive"};
    case HttpError::Conflict: return {409, "conflict", "An event with this customer_id and timestamp holds other data"};
    case HttpError::LengthRequired: return {411, "length-required", "Content-Length or chunked encoding required"};
    case HttpError::PayloadTooLarge: return {413, "payload-too-large", "The request body is over the limit"};
    case HttpError::UnsupportedMedia: return {415, "unsupported-media-type", "The body must be JSON"};
    case HttpError::Unprocessable: return {422, "validation", "The event does not match its usage event's schema"};
    case HttpError::TooManyRequests: return {429, "too-many-requests", "The write queue is full"};
    case HttpError::HeadersTooLarge: return {431, "headers-too-large", "The request head is over 16 KiB"};
    case HttpError::Internal: return {500, "internal", "Internal error"};
    case HttpError::Unavailable: return {503, "unavailable", "The endpoint cannot take events right now"};
    case HttpError::InsufficientStorage: return {507, "insufficient-storage", "The database cannot grow"};
    }
    return {500, "internal", "Internal error"};
}

HttpError storageFailure(const QString &databaseCode)
{
    // SQLite's extended codes keep the primary code in the low byte (SQLITE_FULL = 13).
    bool numeric = false;
    const int sqlite = databaseCode.toInt(&numeric);
    if ((numeric && (sqlite & 0xff) == 13) || databaseCode == QLatin1String("53100"))
        return HttpError::InsufficientStorage;
    return HttpError::Unavailable;
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    }
    return "Unknown";
}

QByteArray problemBody(HttpError error, const QString &detail, const QString &instance, const Problems &errors,
                       const QByteArray &extraMembers)
{
    const HttpErrorInfo info = httpErrorInfo(error);
    QByteArray out = "{\"type\":\"urn:meterdesk:problem:" + QByteArray(info.name) + "\",\"title\":";
    appendJsonString(out, info.title);
    out += ",\"status\":" + QByteArray::number(info.status) + ",\"detail\":";
    appendJsonString(out, detail.toUtf8());
    if (!instance.isEmpty()) {
        out += ",\"instance\":";
        appendJsonString(out, instance.toUtf8());
    }
    if (!errors.isEmpty()) {
        out += ",\"errors\":[";
        for (qsizetype i = 0; i < errors.size(); ++i) {
            if (i)
                out += ',';
            out += "{\"pointer\":";
            appendJsonString(out, errors[i].pointer.toUtf8());
            out += ",\"detail\":";
            appendJsonString(out, errors[i].message.toUtf8());
            out += '}';
        }
        out += ']';
    }
    if (!extraMembers.isEmpty())
        out += ',' + extraMembers;
    out += '}';
    return out;
}

QByteArray rawProblemResponse(HttpError error, const QString &detail, bool closeConnection)
{
    const HttpErrorInfo info = httpErrorInfo(error);
    const QByteArray body = problemBody(error, detail, {});
    QByteArray out = "HTTP/1.1 " + QByteArray::number(info.status) + ' ' + reasonPhrase(info.status) + "\r\n";
    out += "Content-Type: application/problem+json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    if (error == HttpError::Unavailable || error == HttpError::TooManyRequests)
        out += "Retry-After: 1\r\n";
    if (closeConnection)
        out += "Connection: close\r\n";
    out += "\r\n" + body;
    return out;
}

} // namespace meterdesk
