#pragma once

#include "httprequest.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace meterdesk {

// Reads a curl command line (as pasted from docs, Postman or a terminal) into an
// HttpRequest and writes one back as curl. Shell words follow POSIX sh: `\`
// line continuations, '…', "…" and $'…' quoting; no variable expansion ("$KEY"
// stays literal). Only what changes the request matters: the method, the URL, the
// headers (also from -u, -A, -b, -e, --json, --oauth2-bearer) and the body;
// transport flags (-L, -k, -s, -v, -o FILE, --compressed, ...) are accepted and
// ignored. Pure QtCore, any thread.
class CurlCommand
{
public:
    struct Result
    {
        std::optional<HttpRequest> request;
        QString error; // names the offending token, e.g. "unknown option '--frobnicate'"
    };

    static Result parse(const QString &command);

    // `curl --request M 'url' --header '…' --data-raw '…'`, one option per line
    // (joined with ` \` newlines). Disabled headers are left out. parse(render(r))
    // gives r back (less disabled headers).
    static QString render(const HttpRequest &request);

    // The shell words of a command line, or nullopt and *error naming where it broke.
    static std::optional<QStringList> splitWords(const QString &command, QString *error);
    // `text` as one single-quoted sh word (only when it needs quoting).
    static QString quote(const QString &text);
};

} // namespace meterdesk
