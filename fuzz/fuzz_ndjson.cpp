// The NDJSON import path (models/eventimporter.cpp RowSource, ImportMapping::forEvents
// and cellsOf, the Validator), through EventImporter::preview: one event per line.
// Properties: the preview's rows are exactly the non-blank lines of the input (same
// line numbers, byte order mark and CR/LF handled), each row is accepted exactly when
// its line parses and validates on its own, and a parsed row shows one cell per column.
#include "eventimporter.h"
#include "fuzz_common.h"
#include "jsonvalue.h"
#include "validator.h"

#include <QBuffer>

using namespace meterdesk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    static const DataSchema schema = fuzz::everyTypeSchema();
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    const int maxRows = 100000;
    const ImportPreview preview = EventImporter::preview(schema, buffer, ImportFormat::Ndjson, {}, maxRows);
    FUZZ_CHECK(preview.error.isEmpty());
    FUZZ_CHECK(preview.columns.size() == schema.fields.size() + 2);

    // The same lines, split here independently.
    struct Line
    {
        qint64 number;
        QByteArray text;
    };
    QList<Line> expected;
    qint64 number = 0;
    qsizetype pos = 0;
    while (pos < bytes.size()) {
        qsizetype end = bytes.indexOf('\n', pos);
        end = end < 0 ? bytes.size() : end + 1;
        QByteArray line = bytes.mid(pos, end - pos);
        pos = end;
        ++number;
        if (number == 1 && line.startsWith("\xEF\xBB\xBF"))
            line.remove(0, 3);
        while (line.endsWith('\n') || line.endsWith('\r'))
            line.chop(1);
        if (!line.trimmed().isEmpty())
            expected.append({number, line});
    }
    FUZZ_CHECK(preview.rows.size() == expected.size());
    for (qsizetype i = 0; i < expected.size(); ++i) {
        const PreviewRow &row = preview.rows[i];
        FUZZ_CHECK(row.line == expected[i].number);
        const JsonValue::ParseResult parsed = JsonValue::parse(expected[i].text);
        const bool accepted = parsed.ok && Validator::validateEvent(schema, parsed.value).event.has_value();
        FUZZ_CHECK(row.reason.isEmpty() == accepted);
        if (parsed.ok)
            FUZZ_CHECK(row.cells.size() == preview.columns.size());
        else
            FUZZ_CHECK(row.cells.isEmpty() && !row.reason.isEmpty());
    }
    return 0;
}
