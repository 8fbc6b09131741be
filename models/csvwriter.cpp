#include "csvwriter.h"

namespace meterdesk {

void CsvWriter::appendCell(QByteArray &out, QByteArrayView utf8, bool null)
{
    if (null)
        return;
    bool quote = utf8.isEmpty() || utf8.front() == ' ' || utf8.back() == ' ';
    for (const char c : utf8) {
        if (c == ',' || c == '"' || c == '\n' || c == '\r') {
            quote = true;
            break;
        }
    }
    if (!quote) {
        out.append(utf8);
        return;
    }
    out.append('"');
    for (const char c : utf8) {
        if (c == '"')
            out.append('"');
        out.append(c);
    }
    out.append('"');
}

QByteArray CsvWriter::record(const QList<Cell> &cells)
{
    QByteArray out;
    for (qsizetype i = 0; i < cells.size(); ++i) {
        if (i > 0)
            out.append(',');
        appendCell(out, cells[i].text, cells[i].null);
    }
    out.append("\r\n");
    return out;
}

QByteArray CsvWriter::record(const QList<QByteArray> &texts)
{
    QByteArray out;
    for (qsizetype i = 0; i < texts.size(); ++i) {
        if (i > 0)
            out.append(',');
        appendCell(out, texts[i]);
    }
    out.append("\r\n");
    return out;
}

} // namespace meterdesk
