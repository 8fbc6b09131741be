#include "curlcommand.h"

#include <QHash>
#include <QRegularExpression>
#include <QUrl>

namespace meterdesk {

namespace {

QString shortened(const QString &word)
{
    return word.size() > 48 ? word.left(45) + QStringLiteral("…") : word;
}

bool isOctal(QChar c) { return c >= u'0' && c <= u'7'; }

// Appends the $'…' word starting after the opening quote at `i`; returns the index
// after the closing quote, or -1 when it is not closed.
qsizetype readAnsiC(const QString &s, qsizetype i, QString *out)
{
    QByteArray bytes; // \x and octal escapes are bytes: collect UTF-8, decode once
    const qsizetype n = s.size();
    while (i < n) {
        const QChar c = s[i];
        if (c == u'\'') {
            *out += QString::fromUtf8(bytes);
            return i + 1;
        }
        if (c != u'\\' || i + 1 >= n) {
            bytes += QString(c).toUtf8();
            ++i;
            continue;
        }
        const QChar e = s[i + 1];
        i += 2;
        switch (e.unicode()) {
        case 'a': bytes += '\a'; break;
        case 'b': bytes += '\b'; break;
        case 'e': case 'E': bytes += '\x1b'; break;
        case 'f': bytes += '\f'; break;
        case 'n': bytes += '\n'; break;
        case 'r': bytes += '\r'; break;
        case 't': bytes += '\t'; break;
        case 'v': bytes += '\v'; break;
        case '\\': bytes += '\\'; break;
        case '\'': bytes += '\''; break;
        case '"': bytes += '"'; break;
        case '?': bytes += '?'; break;
        case 'x': case 'u': case 'U': {
            const int max = e == u'x' ? 2 : (e == u'u' ? 4 : 8);
            int digits = 0;
            uint value = 0;
            while (digits < max && i < n && isxdigit(s[i].toLatin1())) {
                value = value * 16 + uint(QString(s[i]).toUInt(nullptr, 16));
                ++i;
                ++digits;
            }
            if (digits == 0) {
                bytes += '\\';
                bytes += char(e.unicode());
            } else if (e == u'x') {
                bytes += char(value);
            } else {
                const char32_t cp = value;
                bytes += QString::fromUcs4(&cp, 1).toUtf8();
            }
            break;
        }
        default:
            if (isOctal(e)) {
                uint value = uint(e.unicode() - u'0');
                for (int k = 0; k < 2 && i < n && isOctal(s[i]); ++k, ++i)
                    value = value * 8 + uint(s[i].unicode() - u'0');
                bytes += char(value);
            } else {
                bytes += '\\';
                bytes += QString(e).toUtf8();
            }
        }
    }
    return -1;
}

enum class Opt {
    Request, Header, Data, DataRaw, DataUrlencode, Json, User, UserAgent, Cookie, Referer, Url, Get, Head,
    OAuth2Bearer, Unsupported, IgnoreValue, IgnoreFlag
};

bool takesValue(Opt o) { return o != Opt::Get && o != Opt::Head && o != Opt::IgnoreFlag; }

const QHash<QString, Opt> &longOptions()
{
    static const QHash<QString, Opt> options = [] {
        QHash<QString, Opt> o{
            {QStringLiteral("request"), Opt::Request},       {QStringLiteral("header"), Opt::Header},
            {QStringLiteral("data"), Opt::Data},             {QStringLiteral("data-ascii"), Opt::Data},
            {QStringLiteral("data-binary"), Opt::Data},      {QStringLiteral("data-raw"), Opt::DataRaw},
            {QStringLiteral("data-urlencode"), Opt::DataUrlencode},
            {QStringLiteral("json"), Opt::Json},             {QStringLiteral("user"), Opt::User},
            {QStringLiteral("user-agent"), Opt::UserAgent},  {QStringLiteral("cookie"), Opt::Cookie},
            {QStringLiteral("referer"), Opt::Referer},       {QStringLiteral("url"), Opt::Url},
            {QStringLiteral("get"), Opt::Get},               {QStringLiteral("head"), Opt::Head},
            {QStringLiteral("oauth2-bearer"), Opt::OAuth2Bearer},
            {QStringLiteral("form"), Opt::Unsupported},      {QStringLiteral("form-string"), Opt::Unsupported},
            {QStringLiteral("upload-file"), Opt::Unsupported}, {QStringLiteral("config"), Opt::Unsupported},
        };
        for (const char *name : {"output", "max-time", "connect-timeout", "retry", "retry-delay", "retry-max-time",
                                 "cacert", "capath", "cert", "key", "cert-type", "key-type", "pass", "proxy",
                                 "proxy-user", "write-out", "cookie-jar", "dump-header", "resolve", "connect-to",
                                 "limit-rate", "interface", "max-redirs", "max-filesize", "trace", "trace-ascii",
                                 "stderr", "output-dir", "keepalive-time", "expect100-timeout", "dns-servers",
                                 "local-port", "speed-limit", "speed-time", "ciphers", "unix-socket", "noproxy",
                                 "proto", "proto-redir", "tls-max", "user-agent-file", "time-cond", "range"})
            o.insert(QLatin1String(name), Opt::IgnoreValue);
        for (const char *name : {"location", "location-trusted", "compressed", "insecure", "silent", "verbose",
                                 "include", "show-error", "fail", "fail-with-body", "fail-early", "http1.0",
                                 "http1.1", "http2", "http2-prior-knowledge", "http3", "no-buffer", "globoff",
                                 "progress-bar", "no-progress-meter", "no-keepalive", "raw", "tcp-nodelay", "ipv4",
                                 "ipv6", "tlsv1", "tlsv1.2", "tlsv1.3", "ssl-reqd", "remote-name",
                                 "remote-name-all", "remote-header-name", "create-dirs", "path-as-is", "disable",
                                 "no-sessionid", "no-alpn", "basic", "digest", "ntlm", "negotiate", "anyauth",
                                 "retry-connrefused", "retry-all-errors", "post301", "post302", "post303",
                                 "styled-output", "no-styled-output", "suppress-connect-headers", "crlf",
                                 "ignore-content-length", "junk-session-cookies", "xattr", "no-clobber"})
            o.insert(QLatin1String(name), Opt::IgnoreFlag);
        return o;
    }();
    return options;
}

const QHash<QChar, Opt> &shortOptions()
{
    static const QHash<QChar, Opt> options = [] {
        QHash<QChar, Opt> o{{u'X', Opt::Request},   {u'H', Opt::Header},      {u'd', Opt::Data},
                            {u'u', Opt::User},      {u'A', Opt::UserAgent},   {u'b', Opt::Cookie},
                            {u'e', Opt::Referer},   {u'G', Opt::Get},         {u'I', Opt::Head},
                            {u'F', Opt::Unsupported}, {u'T', Opt::Unsupported}, {u'K', Opt::Unsupported}};
        for (QChar c : QStringLiteral("omwxECUrcDYyztPQ"))
            o.insert(c, Opt::IgnoreValue);
        for (QChar c : QStringLiteral("svikLSfNgqjlnOpRVZ#0123456"))
            o.insert(c, Opt::IgnoreFlag);
        return o;
    }();
    return options;
}

bool isCurl(const QString &word)
{
    return word == QLatin1String("curl") || word == QLatin1String("curl.exe") || word.endsWith(QLatin1String("/curl"));
}

} // namespace

std::optional<QStringList> CurlCommand::splitWords(const QString &s, QString *error)
{
    QStringList words;
    QString word;
    bool inWord = false;
    qsizetype wordStart = 0;
    const qsizetype n = s.size();
    auto unterminated = [&](qsizetype from) {
        *error = QStringLiteral("unterminated quote in '%1'").arg(shortened(s.mid(from).simplified()));
        return std::nullopt;
    };
    qsizetype i = 0;
    while (i < n) {
        const QChar c = s[i];
        if (!inWord)
            wordStart = i;
        if (c == u'\\') {
            if (i + 1 < n && s[i + 1] == u'\n') {
                i += 2;
            } else if (i + 2 < n && s[i + 1] == u'\r' && s[i + 2] == u'\n') {
                i += 3;
            } else if (i + 1 < n) {
                word += s[i + 1];
                inWord = true;
                i += 2;
            } else {
                ++i;
            }
            continue;
        }
        if (c.isSpace()) {
            if (inWord)
                words.append(std::exchange(word, {}));
            inWord = false;
            ++i;
            continue;
        }
        if (!inWord && c == u'#') { // a comment runs to the end of the line
            while (i < n && s[i] != u'\n')
                ++i;
            continue;
        }
        if (c == u'|' || c == u';' || c == u'&' || c == u'>') // the rest is another command or a redirect
            break;
        if (c == u'\'') {
            const qsizetype end = s.indexOf(u'\'', i + 1);
            if (end < 0)
                return unterminated(wordStart);
            word += QStringView(s).mid(i + 1, end - i - 1);
            inWord = true;
            i = end + 1;
            continue;
        }
        if (c == u'$' && i + 1 < n && s[i + 1] == u'\'') {
            const qsizetype next = readAnsiC(s, i + 2, &word);
            if (next < 0)
                return unterminated(wordStart);
            inWord = true;
            i = next;
            continue;
        }
        if (c == u'"') {
            qsizetype j = i + 1;
            for (;;) {
                if (j >= n)
                    return unterminated(wordStart);
                const QChar d = s[j];
                if (d == u'"')
                    break;
                if (d == u'\\' && j + 1 < n && QStringView(u"\"\\$`\n").contains(s[j + 1])) {
                    if (s[j + 1] != u'\n')
                        word += s[j + 1];
                    j += 2;
                    continue;
                }
                word += d;
                ++j;
            }
            inWord = true;
            i = j + 1;
            continue;
        }
        word += c;
        inWord = true;
        ++i;
    }
    if (inWord)
        words.append(word);
    return words;
}

CurlCommand::Result CurlCommand::parse(const QString &command)
{
    Result result;
    const std::optional<QStringList> words = splitWords(command, &result.error);
    if (!words)
        return result;
    if (words->isEmpty()) {
        result.error = QStringLiteral("the command is empty");
        return result;
    }
    if (!isCurl(words->first())) {
        result.error = QStringLiteral("'%1' is not curl: the command must start with curl").arg(shortened(words->first()));
        return result;
    }

    HttpRequest request;
    QList<HttpHeader> derived; // from -u, -A, -b, -e, --json: after the explicit headers
    QStringList data;
    QStringList cookies;
    bool explicitMethod = false, get = false, head = false, json = false;
    auto fail = [&result](const QString &message) {
        result.error = message;
        return result;
    };

    auto apply = [&](Opt opt, const QString &token, const QString &value) -> bool {
        switch (opt) {
        case Opt::Request:
            request.method = value;
            explicitMethod = true;
            return true;
        case Opt::Header: {
            if (value.trimmed().startsWith(u'@')) { // " @x: v" too: the name is trimmed below
                result.error = QStringLiteral("headers from a file are not supported: '%1'").arg(shortened(value));
                return false;
            }
            const qsizetype colon = value.indexOf(u':');
            if (colon < 0) {
                if (value.endsWith(u';')) { // "Name;" sends the header with no value
                    const QString name = value.chopped(1).trimmed();
                    if (name.isEmpty()) {
                        result.error = QStringLiteral("the header '%1' has no name").arg(shortened(value));
                        return false;
                    }
                    request.headers.append({name, QString()});
                    return true;
                }
                result.error = QStringLiteral("the header '%1' has no ':'").arg(shortened(value));
                return false;
            }
            const QString name = value.left(colon).trimmed();
            const QString headerValue = value.mid(colon + 1).trimmed();
            if (name.isEmpty()) {
                result.error = QStringLiteral("the header '%1' has no name").arg(shortened(value));
                return false;
            }
            if (!headerValue.isEmpty()) // "Name:" only removes a header curl would add itself
                request.headers.append({name, headerValue});
            return true;
        }
        case Opt::Data:
        case Opt::Json:
            if (value.startsWith(u'@')) {
                result.error = QStringLiteral("reading the body from a file is not supported: '%1 %2' (paste the body "
                                              "or use --data-raw)").arg(token, shortened(value));
                return false;
            }
            data.append(value);
            json = json || opt == Opt::Json;
            return true;
        case Opt::DataRaw:
            data.append(value);
            return true;
        case Opt::DataUrlencode: {
            const qsizetype eq = value.indexOf(u'=');
            if (eq < 0 && value.contains(u'@')) {
                result.error = QStringLiteral("reading the body from a file is not supported: '%1 %2'").arg(token, shortened(value));
                return false;
            }
            if (eq < 0)
                data.append(QString::fromLatin1(QUrl::toPercentEncoding(value)));
            else
                data.append(value.left(eq) + (eq > 0 ? QStringLiteral("=") : QString())
                            + QString::fromLatin1(QUrl::toPercentEncoding(value.mid(eq + 1))));
            return true;
        }
        case Opt::User: {
            const QString credentials = value.contains(u':') ? value : value + u':';
            derived.append({QStringLiteral("Authorization"),
                            QStringLiteral("Basic ") + QString::fromLatin1(credentials.toUtf8().toBase64())});
            return true;
        }
        case Opt::OAuth2Bearer:
            derived.append({QStringLiteral("Authorization"), QStringLiteral("Bearer ") + value});
            return true;
        case Opt::UserAgent:
            derived.append({QStringLiteral("User-Agent"), value});
            return true;
        case Opt::Referer: {
            QString referer = value;
            if (referer.endsWith(QLatin1String(";auto")))
                referer.chop(5);
            if (!referer.isEmpty())
                derived.append({QStringLiteral("Referer"), referer});
            return true;
        }
        case Opt::Cookie:
            if (value.contains(u'=')) // otherwise it names a cookie file, which only curl can read
                cookies.append(value);
            return true;
        case Opt::Url:
            if (!request.url.isEmpty()) {
                result.error = QStringLiteral("a second URL '%1': the console sends one request at a time").arg(shortened(value));
                return false;
            }
            request.url = value;
            return true;
        case Opt::Get: get = true; return true;
        case Opt::Head: head = true; return true;
        case Opt::Unsupported:
            result.error = QStringLiteral("'%1' is not supported by the console (files and multipart forms)").arg(token);
            return false;
        case Opt::IgnoreValue:
        case Opt::IgnoreFlag:
            return true;
        }
        return true;
    };

    bool optionsEnded = false;
    for (qsizetype i = 1; i < words->size(); ++i) {
        const QString &w = words->at(i);
        if (!optionsEnded && w == QLatin1String("--")) {
            optionsEnded = true;
        } else if (!optionsEnded && w.startsWith(QLatin1String("--"))) {
            QString name = w.mid(2);
            auto it = longOptions().constFind(name);
            if (it == longOptions().cend() && name.startsWith(QLatin1String("no-")))
                it = longOptions().constFind(name.mid(3));
            if (it == longOptions().cend())
                return fail(QStringLiteral("unknown option '%1'").arg(shortened(w)));
            QString value;
            if (takesValue(*it)) {
                if (i + 1 >= words->size())
                    return fail(QStringLiteral("the option '%1' needs a value").arg(w));
                value = words->at(++i);
            }
            if (!apply(*it, w, value))
                return result;
        } else if (!optionsEnded && w.startsWith(u'-') && w.size() > 1) {
            for (qsizetype k = 1; k < w.size(); ++k) {
                const auto it = shortOptions().constFind(w[k]);
                if (it == shortOptions().cend())
                    return fail(QStringLiteral("unknown option '-%1' in '%2'").arg(w[k]).arg(shortened(w)));
                const QString token = QStringLiteral("-") + w[k];
                if (!takesValue(*it)) {
                    if (!apply(*it, token, {}))
                        return result;
                    continue;
                }
                QString value = w.mid(k + 1); // -XPOST, -H'a: b'
                if (value.isEmpty()) {
                    if (i + 1 >= words->size())
                        return fail(QStringLiteral("the option '%1' needs a value").arg(token));
                    value = words->at(++i);
                }
                if (!apply(*it, token, value))
                    return result;
                break;
            }
        } else {
            if (!apply(Opt::Url, w, w))
                return result;
        }
    }

    if (request.url.isEmpty())
        return fail(QStringLiteral("the command has no URL"));
    if (!request.url.contains(QLatin1String("://")) && !request.url.startsWith(QLatin1String("{{")))
        request.url.prepend(QStringLiteral("http://")); // what curl assumes
    if (!cookies.isEmpty())
        derived.append({QStringLiteral("Cookie"), cookies.join(QStringLiteral("; "))});
    if (json) {
        if (!request.hasHeader(u"Content-Type"))
            derived.append({QStringLiteral("Content-Type"), QStringLiteral("application/json")});
        if (!request.hasHeader(u"Accept"))
            derived.append({QStringLiteral("Accept"), QStringLiteral("application/json")});
    }
    for (HttpHeader h : std::as_const(derived)) {
        // The -H rule: whitespace around a value is not part of it (RFC 9110 §5.5), and an
        // empty value sends no header (curl -A '' drops User-Agent). Else render() would
        // not give the same request back.
        h.value = h.value.trimmed();
        if (!h.value.isEmpty() && !request.hasHeader(h.name)) // an explicit -H wins, as with curl
            request.headers.append(h);
    }

    const QString body = data.join(json ? QString() : QStringLiteral("&"));
    if (get) {
        if (!body.isEmpty())
            request.url += (request.url.contains(u'?') ? u'&' : u'?') + body;
        if (!explicitMethod)
            request.method = head ? QStringLiteral("HEAD") : QStringLiteral("GET");
    } else {
        request.body = body;
        if (!explicitMethod)
            request.method = head ? QStringLiteral("HEAD") : (data.isEmpty() ? QStringLiteral("GET") : QStringLiteral("POST"));
    }
    result.request = request;
    return result;
}

QString CurlCommand::quote(const QString &text)
{
    // \A..\z, not ^..$: `$` also matches before a final newline, and "x\n" went out unquoted.
    static const QRegularExpression plain(QStringLiteral("\\A[A-Za-z0-9_@%+=:,./-]+\\z"));
    if (plain.match(text).hasMatch())
        return text;
    QString quoted = text;
    quoted.replace(u'\'', QStringLiteral("'\\''"));
    return u'\'' + quoted + u'\'';
}

QString CurlCommand::render(const HttpRequest &request)
{
    QStringList lines;
    const bool plainGet = request.method == QLatin1String("GET") && request.body.isEmpty();
    // A URL that starts with '-' would read back as an option: name it with --url.
    const QString url = (request.url.startsWith(u'-') ? QStringLiteral("--url ") : QString()) + quote(request.url);
    lines.append(plainGet ? QStringLiteral("curl %1").arg(url)
                          : QStringLiteral("curl --request %1 %2").arg(quote(request.method), url));
    for (const HttpHeader &h : request.headers) {
        if (!h.enabled)
            continue;
        lines.append(QStringLiteral("--header ")
                     + quote(h.value.isEmpty() ? QString(h.name + u';') : QString(h.name + QStringLiteral(": ") + h.value)));
    }
    if (!request.body.isEmpty())
        lines.append(QStringLiteral("--data-raw ") + quote(request.body));
    return lines.join(QStringLiteral(" \\\n  "));
}

} // namespace meterdesk
