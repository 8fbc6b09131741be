#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

class QIODevice;

namespace meterdesk {

// One record of a CSV file: its cells as raw UTF-8 and where it starts.
struct CsvRecord
{
    struct Cell
    {
        QByteArray text;
        bool quoted = false; // `""` (an empty string) versus nothing (no value)
    };
    QList<Cell> cells;
    qint64 line = 0;   // 1-based physical line the record starts on
    QString error;     // set when the record is malformed (its cells are what could be read)
};

// Streams RFC 4180 records from a device, one at a time: quoted cells with `""`
// escapes, embedded newlines, CRLF or LF, an optional UTF-8 byte order mark. It
// reads in fixed chunks and never holds more than one record (bounded by
// MaxRecordBytes). A plain object of the thread that reads.
class CsvReader
{
public:
    static constexpr qsizetype MaxRecordBytes = qsizetype(1024) * 1024;

    explicit CsvReader(QIODevice &device) : m_device(device) {}

    // False at the end of the input, or after a fatal problem (fatalError()).
    bool next(CsvRecord &record);
    QString fatalError() const { return m_fatal; }
    qint64 bytesRead() const { return m_consumed; }

private:
    bool fill();

    QIODevice &m_device;
    QByteArray m_buffer;
    qsizetype m_pos = 0;
    qint64 m_consumed = 0; // bytes of the device handed out as records
    qint64 m_line = 1;
    bool m_started = false;
    bool m_eof = false;
    QString m_fatal;
};

} // namespace meterdesk
