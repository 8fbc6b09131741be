#include "jsonformat.h"

namespace meterdesk::JsonFormat {

QByteArray indented(QByteArrayView json, int indent)
{
    QByteArray out;
    out.reserve(json.size() * 2);
    int depth = 0;
    auto newline = [&] {
        out += '\n';
        out += QByteArray(qsizetype(depth) * indent, ' ');
    };
    auto nextSignificant = [&](qsizetype from) -> char {
        for (qsizetype j = from; j < json.size(); ++j)
            if (json[j] != ' ' && json[j] != '\n' && json[j] != '\r' && json[j] != '\t')
                return json[j];
        return 0;
    };
    for (qsizetype i = 0; i < json.size(); ++i) {
        const char c = json[i];
        switch (c) {
        case '"': {
            const qsizetype start = i;
            for (++i; i < json.size() && json[i] != '"'; ++i)
                if (json[i] == '\\')
                    ++i;
            out += json.sliced(start, qMin(i + 1, json.size()) - start);
            break;
        }
        case '{':
        case '[': {
            out += c;
            const char close = c == '{' ? '}' : ']';
            if (nextSignificant(i + 1) == close) {
                out += close;
                while (json[i] != close)
                    ++i;
                break;
            }
            ++depth;
            newline();
            break;
        }
        case '}':
        case ']':
            --depth;
            newline();
            out += c;
            break;
        case ',':
            out += c;
            newline();
            break;
        case ':':
            out += ": ";
            break;
        case ' ':
        case '\n':
        case '\r':
        case '\t':
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace meterdesk::JsonFormat
