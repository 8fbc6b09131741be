#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace meterdesk {

// Formats RFC 4180 records: a cell is quoted when it holds a comma, a quote, a
// line break or surrounding spaces, or when it is an empty string (an empty cell
// without quotes means "no value", which the importer reads back as absent).
// Lines end with CRLF, as RFC 4180 says. Pure functions: any thread.
class CsvWriter
{
public:
    struct Cell
    {
        QByteArray text;
        bool null = false; // written as nothing at all
    };

    static void appendCell(QByteArray &out, QByteArrayView utf8, bool null = false);
    static QByteArray record(const QList<Cell> &cells);
    static QByteArray record(const QList<QByteArray> &texts);
};

} // namespace meterdesk
