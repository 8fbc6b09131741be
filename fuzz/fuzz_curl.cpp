// The curl importer (models/curlcommand.h): what a person pastes into the REST
// console. Properties: shell words quoted back with quote() split to the same words,
// and a parsed command re-emitted with render() parses to the same request (less
// disabled headers) -- the round trip the console's "Copy as curl" relies on.
#include "curlcommand.h"
#include "fuzz_common.h"

using namespace meterdesk;

namespace {

void printRequest(const char *label, const HttpRequest &r)
{
    std::fprintf(stderr, "%s: %s %s body=%s\n", label, qPrintable(r.method), qPrintable(r.url), qPrintable(r.body));
    for (const HttpHeader &h : r.headers)
        std::fprintf(stderr, "  [%d] %s: %s\n", int(h.enabled), qPrintable(h.name), qPrintable(h.value));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString command = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));

    QString error;
    if (const auto words = CurlCommand::splitWords(command, &error)) {
        QStringList quoted;
        for (const QString &w : *words)
            quoted.append(CurlCommand::quote(w));
        QString again;
        const auto back = CurlCommand::splitWords(quoted.join(u' '), &again);
        if (!back || *back != *words) {
            std::fprintf(stderr, "re-quoted: %s\nerror: %s\n", qPrintable(quoted.join(u' ')), qPrintable(again));
            for (qsizetype i = 0; i < words->size(); ++i)
                std::fprintf(stderr, "  word %lld: [%s] -> [%s]\n", qint64(i), qPrintable((*words)[i]),
                             back && i < back->size() ? qPrintable((*back)[i]) : "-");
        }
        FUZZ_CHECK(back.has_value());
        FUZZ_CHECK(*back == *words);
    } else {
        FUZZ_CHECK(!error.isEmpty());
    }

    const CurlCommand::Result parsed = CurlCommand::parse(command);
    FUZZ_CHECK(parsed.request.has_value() == parsed.error.isEmpty());
    if (!parsed.request)
        return 0;
    HttpRequest expected = *parsed.request;
    expected.headers.removeIf([](const HttpHeader &h) { return !h.enabled; });
    const QString rendered = CurlCommand::render(*parsed.request);
    const CurlCommand::Result back = CurlCommand::parse(rendered);
    if (!back.request || *back.request != expected) {
        std::fprintf(stderr, "rendered:\n%s\nerror: %s\n", qPrintable(rendered), qPrintable(back.error));
        printRequest("first", expected);
        if (back.request)
            printRequest("again", *back.request);
    }
    FUZZ_CHECK(back.request.has_value());
    FUZZ_CHECK(*back.request == expected);
    return 0;
}
