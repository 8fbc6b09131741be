// The CSV reader (models/csvreader.h) and the CSV import preview that maps a
// header onto a schema and validates each row (EventImporter::preview, the same
// RowSource, ImportMapping and Validator as an import). Properties: never more
// cells than bytes (+1 for the empty record), lines only grow, bytesRead never
// passes the input, and every well-formed record written back by CsvWriter reads
// back to the same cells (text, and quoted-or-not for empty cells).
#include "csvreader.h"
#include "csvwriter.h"
#include "eventimporter.h"
#include "fuzz_common.h"

#include <QBuffer>

using namespace meterdesk;

namespace {

QList<CsvRecord> readAll(const QByteArray &bytes, QString *fatal)
{
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    CsvReader reader(buffer);
    QList<CsvRecord> records;
    CsvRecord record;
    qint64 lastLine = 0;
    while (reader.next(record)) {
        FUZZ_CHECK(record.line > lastLine);
        FUZZ_CHECK(!record.cells.isEmpty());
        lastLine = record.line;
        records.append(record);
        FUZZ_CHECK(reader.bytesRead() <= bytes.size());
    }
    *fatal = reader.fatalError();
    return records;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    QString fatal;
    const QList<CsvRecord> records = readAll(bytes, &fatal);
    qsizetype cells = 0, textBytes = 0;
    for (const CsvRecord &r : records) {
        cells += r.cells.size();
        for (const CsvRecord::Cell &c : r.cells)
            textBytes += c.text.size();
    }
    FUZZ_CHECK(cells <= bytes.size() + 1);
    FUZZ_CHECK(textBytes <= bytes.size());
    FUZZ_CHECK(fatal.isEmpty()); // inputs are far below MaxRecordBytes

    for (const CsvRecord &r : records) {
        if (!r.error.isEmpty())
            continue;
        QList<CsvWriter::Cell> out;
        for (const CsvRecord::Cell &c : r.cells)
            out.append({c.text, !c.quoted && c.text.isEmpty()});
        // A leading byte order mark is the reader's to strip: one in front keeps the cell's own.
        const QByteArray written = "\xEF\xBB\xBF" + CsvWriter::record(out);
        QString again;
        const QList<CsvRecord> back = readAll(written, &again);
        FUZZ_CHECK(again.isEmpty());
        FUZZ_CHECK(back.size() == 1);
        FUZZ_CHECK(back.first().error.isEmpty());
        FUZZ_CHECK(back.first().cells.size() == r.cells.size());
        for (qsizetype i = 0; i < r.cells.size(); ++i) {
            FUZZ_CHECK(back.first().cells[i].text == r.cells[i].text);
            if (r.cells[i].text.isEmpty())
                FUZZ_CHECK(back.first().cells[i].quoted == r.cells[i].quoted);
        }
    }

    // The import preview over the same bytes: the header mapped by name onto the schema.
    static const DataSchema schema = fuzz::everyTypeSchema();
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    const ImportPreview preview = EventImporter::preview(schema, buffer, ImportFormat::Csv, {}, 1000);
    FUZZ_CHECK(preview.rows.size() <= qMax<qsizetype>(0, records.size() - 1));
    qint64 lastLine = 0;
    for (const PreviewRow &row : preview.rows) {
        FUZZ_CHECK(row.line > lastLine);
        lastLine = row.line;
        if (preview.error.isEmpty() && row.reason.isEmpty())
            FUZZ_CHECK(row.cells.size() == preview.columns.size());
    }
    return 0;
}
