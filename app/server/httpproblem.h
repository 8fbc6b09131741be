#pragma once

#include "problem.h"

#include <QByteArray>
#include <QList>
#include <QPair>

namespace meterdesk {

// Every way a request can fail, and the one table that maps it to an HTTP status
// and title (qBittorrent's webapplication.cpp keeps one such table too).
enum class HttpError {
    BadRequest,          // 400
    Unauthorized,        // 401
    Forbidden,           // 403
    NotFound,            // 404
    MethodNotAllowed,    // 405
    RequestTimeout,      // 408
    Conflict,            // 409
    LengthRequired,      // 411
    PayloadTooLarge,     // 413
    UnsupportedMedia,    // 415
    Unprocessable,       // 422
    TooManyRequests,     // 429
    HeadersTooLarge,     // 431
    Internal,            // 500
    Unavailable,         // 503
    InsufficientStorage, // 507
};

struct HttpErrorInfo
{
    int status;
    const char *name;  // the problem type's last segment
    const char *title; // RFC 9457 "title": the same for every occurrence
};

HttpErrorInfo httpErrorInfo(HttpError error);
// A write the database refused: the disk or the database is full (SQLite's
// SQLITE_FULL, PostgreSQL's 53100 disk_full) is 507, anything
// else 503 (retry: nothing of the request was committed).
HttpError storageFailure(const QString &databaseCode);
QByteArray reasonPhrase(int status);

// An RFC 9457 application/problem+json body. `errors` become
// [{"pointer": ..., "detail": ...}]; `extra` is spliced in as raw JSON members.
QByteArray problemBody(HttpError error, const QString &detail, const QString &instance, const Problems &errors = {},
                       const QByteArray &extraMembers = {});

// A complete HTTP/1.1 response with a problem body, for places that answer on the
// connection directly (the HTTP engine's own refusals: 400, 408, 413, 431, 503).
QByteArray rawProblemResponse(HttpError error, const QString &detail, bool closeConnection = true);

} // namespace meterdesk
