// The CSV reader and writer under the importer and exporter (RFC 4180): quoting,
// embedded line breaks, CRLF, byte order mark, line numbers, limits, and a record
// split across every read.
#include "csvreader.h"
#include "csvwriter.h"

#include <QBuffer>
#include <QTest>

using namespace meterdesk;
using namespace Qt::StringLiterals;

namespace {

using CellList = QList<QPair<QByteArray, bool>>; // text, quoted

CellList cellsOf(const CsvRecord &r)
{
    CellList out;
    for (const CsvRecord::Cell &c : r.cells)
        out.append({c.text, c.quoted});
    return out;
}

// Hands out one byte per read, as a slow pipe might: records cross every refill.
class TrickleDevice : public QIODevice
{
public:
    explicit TrickleDevice(QByteArray data) : m_data(std::move(data)) {}
    bool isSequential() const override { return true; }

protected:
    qint64 readData(char *out, qint64 max) override
    {
        if (m_pos >= m_data.size() || max <= 0)
            return m_pos >= m_data.size() ? -1 : 0;
        out[0] = m_data[m_pos++];
        return 1;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
    qsizetype m_pos = 0;
};

} // namespace

class TestCsv : public QObject
{
    Q_OBJECT

private slots:
    void csvReaderQuoting_data();
    void csvReaderQuoting();
    void csvReaderLineNumbersAndLimits();
    void csvWriterQuotesWhatItMust();
};

void TestCsv::csvReaderQuoting_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QList<CellList>>("records");
    QTest::addColumn<QString>("error"); // of the first record with one

    const QPair<QByteArray, bool> empty{QByteArray(), false};
    const QPair<QByteArray, bool> emptyQuoted{QByteArray(), true};
    auto plain = [](const char *s) { return QPair<QByteArray, bool>{QByteArray(s), false}; };
    auto quoted = [](const char *s) { return QPair<QByteArray, bool>{QByteArray(s), true}; };

    QTest::newRow("plain") << QByteArray("a,b,c\n1,2,3\n")
                           << QList<CellList>{{plain("a"), plain("b"), plain("c")}, {plain("1"), plain("2"), plain("3")}}
                           << QString();
    QTest::newRow("no final line break") << QByteArray("a,b\n1,2")
                                         << QList<CellList>{{plain("a"), plain("b")}, {plain("1"), plain("2")}} << QString();
    QTest::newRow("CRLF") << QByteArray("a,b\r\n1,2\r\n")
                          << QList<CellList>{{plain("a"), plain("b")}, {plain("1"), plain("2")}} << QString();
    QTest::newRow("BOM") << QByteArray("\xEF\xBB\xBF" "a,b\n") << QList<CellList>{{plain("a"), plain("b")}} << QString();
    QTest::newRow("quoted comma") << QByteArray("\"x, y\",z\n") << QList<CellList>{{quoted("x, y"), plain("z")}}
                                  << QString();
    QTest::newRow("escaped quotes") << QByteArray("\"say \"\"hi\"\"\",\"\"\"\"\n")
                                    << QList<CellList>{{quoted("say \"hi\""), quoted("\"")}} << QString();
    QTest::newRow("embedded LF") << QByteArray("\"two\nlines\",b\nc,d\n")
                                 << QList<CellList>{{quoted("two\nlines"), plain("b")}, {plain("c"), plain("d")}} << QString();
    QTest::newRow("embedded CRLF") << QByteArray("\"two\r\nlines\",b\r\n")
                                   << QList<CellList>{{quoted("two\r\nlines"), plain("b")}} << QString();
    QTest::newRow("empty versus empty string") << QByteArray(",\"\",\n")
                                               << QList<CellList>{{empty, emptyQuoted, empty}} << QString();
    QTest::newRow("UTF-8 kept as bytes") << QByteArray("caf\xC3\xA9,\"\xE2\x82\xAC 5\"\n")
                                         << QList<CellList>{{plain("caf\xC3\xA9"), quoted("\xE2\x82\xAC 5")}} << QString();
    QTest::newRow("quote inside an unquoted cell is text") << QByteArray("5\" disk,b\n")
                                                           << QList<CellList>{{plain("5\" disk"), plain("b")}} << QString();
    QTest::newRow("text after a closing quote") << QByteArray("\"a\"b,c\n")
                                                << QList<CellList>{{quoted("ab"), plain("c")}}
                                                << u"a quoted cell must end at a comma or the end of the line"_s;
    QTest::newRow("quote never closed") << QByteArray("a,\"open\nb,c\n")
                                        << QList<CellList>{{plain("a"), quoted("open\nb,c\n")}}
                                        << u"a quoted cell is not closed before the end of the file"_s;
    QTest::newRow("blank line is one empty cell") << QByteArray("a\n\nb\n")
                                                  << QList<CellList>{{plain("a")}, {empty}, {plain("b")}} << QString();
}

void TestCsv::csvReaderQuoting()
{
    QFETCH(QByteArray, input);
    QFETCH(QList<CellList>, records);
    QFETCH(QString, error);
    // Feed the bytes one at a time too: a record split across reads parses the same.
    for (const bool trickle : {false, true}) {
        QBuffer buffer;
        buffer.setData(input);
        TrickleDevice slow(input);
        QIODevice &device = trickle ? static_cast<QIODevice &>(slow) : buffer;
        QVERIFY(device.open(QIODevice::ReadOnly | QIODevice::Unbuffered));
        CsvReader reader(device);
        QList<CellList> got;
        QString firstError;
        CsvRecord r;
        while (reader.next(r)) {
            got.append(cellsOf(r));
            if (firstError.isEmpty())
                firstError = r.error;
        }
        QVERIFY(reader.fatalError().isEmpty());
        QCOMPARE(got, records);
        QCOMPARE(firstError, error);
        QCOMPARE(reader.bytesRead(), qint64(input.size()));
    }
}

void TestCsv::csvReaderLineNumbersAndLimits()
{
    QBuffer buffer;
    buffer.setData("h1,h2\n\"a\nb\nc\",1\r\nx,2\n\ny,\"3\r\n\"\nz,4");
    QVERIFY(buffer.open(QIODevice::ReadOnly));
    CsvReader reader(buffer);
    QList<qint64> lines;
    CsvRecord r;
    while (reader.next(r))
        lines.append(r.line);
    QCOMPARE(lines, (QList<qint64>{1, 2, 5, 6, 7, 9}));

    // An unclosed quote in a big file stops the import instead of swallowing it.
    QByteArray big = "a,\"";
    big += QByteArray(CsvReader::MaxRecordBytes + 10, 'x');
    QBuffer bigBuffer(&big);
    QVERIFY(bigBuffer.open(QIODevice::ReadOnly));
    CsvReader bigReader(bigBuffer);
    QVERIFY(!bigReader.next(r));
    QVERIFY2(bigReader.fatalError().startsWith(u"line 1: a record is longer than"_s), qPrintable(bigReader.fatalError()));
}

void TestCsv::csvWriterQuotesWhatItMust()
{
    const QByteArray record = CsvWriter::record(QList<CsvWriter::Cell>{
        {"plain"}, {"a,b"}, {"say \"hi\""}, {"two\nlines"}, {" padded"}, {""}, {QByteArray(), true}, {"5"}});
    QCOMPARE(record, QByteArray("plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",\"\",,5\r\n"));
    // And the reader gets back exactly what was written.
    QBuffer buffer;
    buffer.setData(record);
    QVERIFY(buffer.open(QIODevice::ReadOnly));
    CsvReader reader(buffer);
    CsvRecord r;
    QVERIFY(reader.next(r));
    QCOMPARE(cellsOf(r), (CellList{{"plain", false}, {"a,b", true}, {"say \"hi\"", true}, {"two\nlines", true},
                                   {" padded", true}, {"", true}, {"", false}, {"5", false}}));
    QVERIFY(!reader.next(r));
}

QTEST_GUILESS_MAIN(TestCsv)
#include "tst_csv.moc"
