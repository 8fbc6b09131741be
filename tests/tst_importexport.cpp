// Import and export of Zenskar-format files (issue 5): golden fixtures (input beside the expected summary and rejected rows), NDJSON,
// column mapping, progress and cancellation, and export -> import round trips into
// a fresh workspace. Real SQLite files in a temporary folder.
#include "eventexporter.h"
#include "eventimporter.h"
#include "jsonvalue.h"
#include "timestamp.h"
#include "workspace.h"

#include <QBuffer>
#include <QFile>
#include <QFileInfo>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QTest>

using namespace meterdesk;
using namespace Qt::StringLiterals;

namespace {

QString fixture(const QString &name)
{
    return QStringLiteral(MDK_TEST_DATA "/import/") + name;
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return f.readAll();
}

// Golden files: MDK_UPDATE_GOLDEN=1 rewrites them from the actual output (review the diff).
bool matchesGolden(const QByteArray &actual, const QString &name)
{
    if (qEnvironmentVariableIsSet("MDK_UPDATE_GOLDEN")) {
        QFile f(fixture(name));
        return f.open(QIODevice::WriteOnly) && f.write(actual) == actual.size();
    }
    const QByteArray expected = readAll(fixture(name));
    if (actual != expected)
        qWarning().noquote() << name << "differs; actual:\n" << actual;
    return actual == expected;
}

DataSchema basicSchema()
{
    DataSchema s;
    s.fields = {{u"cpu"_s, FieldType::Float, false, {}},
                {u"amount"_s, FieldType::Decimal, false, {}},
                {u"region"_s, FieldType::String, false, {}},
                {u"usage.gpu"_s, FieldType::Integer, false, {}},
                {u"active"_s, FieldType::Boolean, false, {}}};
    return s;
}

DataSchema fullSchema()
{
    DataSchema s = basicSchema();
    s.fields += {{u"at"_s, FieldType::DateTime, false, {}},
                 {u"day"_s, FieldType::Date, false, {}},
                 {u"ref"_s, FieldType::Uuid, false, {}},
                 {u"tags"_s, FieldType::Array, false, {}},
                 {u"note"_s, FieldType::String, false, {}}};
    return s;
}

// Every row of a usage event's table but received_at and id, in timestamp order.
QList<QVariantList> tableRows(const Workspace &ws, const UsageEventDefinition &d, bool withData = true)
{
    QSqlQuery q(ws.database());
    if (!q.exec(u"SELECT * FROM \"%1\" ORDER BY \"timestamp\", customer_id"_s.arg(d.tableName())))
        qFatal("select failed");
    QList<QVariantList> rows;
    while (q.next()) {
        QVariantList row;
        const QSqlRecord rec = q.record();
        for (int i = 0; i < rec.count(); ++i) {
            const QString name = rec.fieldName(i);
            if (name == u"id"_s || name == u"received_at"_s || name == u"source"_s || (!withData && name == u"data"_s))
                continue;
            row.append(QString(name + u'=' + (q.value(i).isNull() ? u"NULL"_s : q.value(i).toString())));
        }
        rows.append(row);
    }
    return rows;
}

} // namespace

class TestImportExport : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void csvFixtureGivesExactSummary();
    void csvWithBomAndCrlf();
    void ndjsonFixtureGivesExactSummary();
    void columnMapping();
    void headerProblems_data();
    void headerProblems();
    void previewShowsProblems();
    void progressAndCancellation();
    void roundTrip_data();
    void roundTrip();
    void exportFiltersAndPages();
    void exportCsvShape();

private:
    UsageEventDefinition define(Workspace &ws, const QString &slug, const DataSchema &schema,
                                DuplicatePolicy policy = DuplicatePolicy::Reject);
    ImportSummary importBytes(Workspace &ws, const UsageEventDefinition &d, const QByteArray &bytes,
                              const ImportOptions &options = {});
    std::unique_ptr<Workspace> openWorkspace(const QString &name);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Workspace> m_ws;
};

void TestImportExport::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_ws = openWorkspace(u"a.db"_s);
    QVERIFY(m_ws);
}

void TestImportExport::cleanup()
{
    m_ws.reset();
    m_dir.reset();
}

std::unique_ptr<Workspace> TestImportExport::openWorkspace(const QString &name)
{
    QString error;
    auto ws = Workspace::open(m_dir->filePath(name), &error);
    if (!ws)
        qWarning() << error;
    return ws;
}

UsageEventDefinition TestImportExport::define(Workspace &ws, const QString &slug, const DataSchema &schema,
                                              DuplicatePolicy policy)
{
    UsageEventDefinition d;
    d.name = slug;
    d.slug = slug;
    d.schema = schema;
    d.policy = policy;
    const Problems problems = ws.createDefinition(d);
    if (!problems.isEmpty())
        qFatal("definition refused: %s", qPrintable(problems.first().message));
    return *ws.definition(slug);
}

ImportSummary TestImportExport::importBytes(Workspace &ws, const UsageEventDefinition &d, const QByteArray &bytes,
                                            const ImportOptions &options)
{
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    return EventImporter::run(ws, d, buffer, options);
}

void TestImportExport::csvFixtureGivesExactSummary()
{
    const UsageEventDefinition d = define(*m_ws, u"metric"_s, basicSchema());
    QFile input(fixture(u"mixed.csv"_s));
    QVERIFY(input.open(QIODevice::ReadOnly));
    QBuffer rejects;
    QVERIFY(rejects.open(QIODevice::WriteOnly));
    ImportOptions options;
    options.rejects = &rejects;
    const ImportSummary s = EventImporter::run(*m_ws, d, input, options);
    QVERIFY2(s.error.isEmpty(), qPrintable(s.error));
    QCOMPARE(s.rows, 11);
    QCOMPARE(s.stored, 4);
    QCOMPARE(s.duplicates, 1);
    QCOMPARE(s.conflicts, 1);
    QCOMPARE(s.rejected, 5);
    QCOMPARE(s.overwritten, 0);
    QVERIFY(!s.cancelled);
    QVERIFY(!s.clean());
    QList<qint64> lines;
    for (const RejectedRow &r : s.problemRows)
        lines.append(r.line);
    QCOMPARE(lines, (QList<qint64>{5, 6, 7, 8, 9, 12}));
    QVERIFY(matchesGolden(s.text().toUtf8() + '\n', u"mixed.summary.txt"_s));
    QVERIFY(matchesGolden(rejects.data(), u"mixed.rejects.csv"_s));

    QCOMPARE(m_ws->rowCount(d), 4);
    QSqlQuery q(m_ws->database());
    QVERIFY(q.exec(u"SELECT customer_id, \"timestamp\", \"data.cpu\", \"data.amount\", \"data.region\", \"data.usage.gpu\", "
                   "\"data.active\", data, source FROM usage_metric ORDER BY \"timestamp\""_s));
    QVERIFY(q.next());
    QCOMPARE(q.value(0).toString(), u"acme"_s);
    QCOMPARE(q.value(1).toLongLong(), *Timestamp::fromText(u"2023-05-21T09:30:38.731Z"_s).micros);
    QCOMPARE(q.value(2).toDouble(), 5.0);
    QCOMPARE(q.value(3).toString(), u"12.5"_s); // the typed column is canonical...
    QCOMPARE(q.value(7).toString(), uR"({"active":true,"amount":12.50,"cpu":5,"region":"eu","usage":{"gpu":2}})"_s); // ...data as sent
    QCOMPARE(q.value(8).toString(), u"csv"_s);
    QVERIFY(q.next());
    QCOMPARE(q.value(0).toString(), u"gamma"_s); // 1684661438.731 = 2023-05-21 09:30:38.731 too, another customer
    QCOMPARE(q.value(1).toLongLong(), *Timestamp::fromText(u"2023-05-21T09:30:38.731Z"_s).micros);
    QCOMPARE(q.value(3).toString(), u"-1000"_s);
    QCOMPARE(q.value(6).toInt(), 0);
    QVERIFY(q.next());
    QCOMPARE(q.value(0).toString(), u"acme"_s);
    QCOMPARE(q.value(4).toString(), u"us, east"_s);
    QVERIFY(q.value(5).isNull()); // an empty cell is no value
    QCOMPARE(q.value(7).toString(), uR"({"active":false,"amount":0.10,"cpu":7.5,"region":"us, east"})"_s); // quotes are CSV syntax, not a type
    QVERIFY(q.next());
    QCOMPARE(q.value(0).toString(), u"beta \"quoted\""_s);
    QCOMPARE(q.value(1).toLongLong(), *Timestamp::fromText(u"2023-05-22T08:00:03Z"_s).micros);
    QCOMPARE(q.value(4).toString(), u"multi\nline region"_s);
    QCOMPARE(q.value(5).toLongLong(), 4);
    QVERIFY(!q.next());

    // The same file again stores nothing new: the good rows are now duplicates.
    QVERIFY(input.seek(0));
    const ImportSummary again = EventImporter::run(*m_ws, d, input, {});
    QCOMPARE(again.stored, 0);
    QCOMPARE(again.duplicates, 5);
    QCOMPARE(again.conflicts, 1);
    QCOMPARE(again.rejected, 5);
    QCOMPARE(m_ws->rowCount(d), 4);
}

void TestImportExport::csvWithBomAndCrlf()
{
    const UsageEventDefinition d = define(*m_ws, u"metric"_s, basicSchema());
    const QByteArray bytes = "\xEF\xBB\xBF" "customer_id,timestamp,region,cpu\r\n"
                             "c\xC3\xA9line,2024-01-01 00:00:00,\"a\r\nb\",1\r\n"
                             "\r\n"
                             "x,2024-01-01 00:00:01,eu,not-a-number\r\n"
                             "y,2024-01-01 00:00:02,\"\",\"\"\r\n"
                             "z,2024-01-01 00:00:03,\xFF\xFE,1\r\n";
    const ImportSummary s = importBytes(*m_ws, d, bytes);
    QVERIFY2(s.error.isEmpty(), qPrintable(s.error));
    QCOMPARE(s.rows, 4);
    QCOMPARE(s.stored, 1);
    QCOMPARE(s.rejected, 3);
    QCOMPARE(s.problemRows.size(), 3);
    QCOMPARE(s.problemRows[0].line, 5); // the quoted CRLF and the blank line count as lines
    QCOMPARE(s.problemRows[0].reason, u"cpu: expected a number (or a numeric string), got \"not-a-number\""_s);
    QCOMPARE(s.problemRows[1].line, 6);
    // `""` is an empty string, not "no value": a float refuses it.
    QCOMPARE(s.problemRows[1].reason, u"cpu: expected a number (or a numeric string), got \"\""_s);
    QCOMPARE(s.problemRows[2].line, 7);
    QCOMPARE(s.problemRows[2].reason, u"the row is not valid UTF-8"_s);
    QSqlQuery q(m_ws->database());
    QVERIFY(q.exec(u"SELECT customer_id, \"data.region\" FROM usage_metric"_s));
    QVERIFY(q.next());
    QCOMPARE(q.value(0).toString(), u"c\u00e9line"_s); // the BOM is not part of the first column's name
    QCOMPARE(q.value(1).toString(), u"a\r\nb"_s);
}

void TestImportExport::ndjsonFixtureGivesExactSummary()
{
    const UsageEventDefinition d = define(*m_ws, u"metric"_s, basicSchema());
    QFile input(fixture(u"mixed.ndjson"_s));
    QVERIFY(input.open(QIODevice::ReadOnly));
    QBuffer rejects;
    QVERIFY(rejects.open(QIODevice::WriteOnly));
    ImportOptions options;
    options.format = ImportFormat::Ndjson;
    options.rejects = &rejects;
    const ImportSummary s = EventImporter::run(*m_ws, d, input, options);
    QVERIFY2(s.error.isEmpty(), qPrintable(s.error));
    QCOMPARE(s.rows, 9); // the blank line is not a row
    QCOMPARE(s.stored, 3);
    QCOMPARE(s.duplicates, 1);
    QCOMPARE(s.conflicts, 1);
    QCOMPARE(s.rejected, 4);
    QVERIFY(matchesGolden(s.text().toUtf8() + '\n', u"mixed.ndjson.summary.txt"_s));
    QVERIFY(matchesGolden(rejects.data(), u"mixed.ndjson.rejects.csv"_s));
    QSqlQuery q(m_ws->database());
    QVERIFY(q.exec(u"SELECT data, source FROM usage_metric WHERE customer_id = 'acme' ORDER BY \"timestamp\""_s));
    QVERIFY(q.next());
    QCOMPARE(q.value(0).toString(), uR"({"active":true,"amount":"12.50","cpu":5,"region":"eu","usage":{"gpu":2}})"_s);
    QCOMPARE(q.value(1).toString(), u"ndjson"_s);

    // A line over the endpoint's 1 MiB limit is rejected without stopping the file;
    // CRLF line ends and a byte order mark are fine.
    const QByteArray huge = "\xEF\xBB\xBF{\"customer_id\":\"big\",\"timestamp\":1,\"data\":{\"region\":\""
        + QByteArray(qsizetype(1200) * 1024, 'x') + "\"}}\r\n"
        + R"({"customer_id":"after","timestamp":2,"data":{"region":"ok"}})" + "\r\n";
    const ImportSummary big = importBytes(*m_ws, d, huge, options);
    QCOMPARE(big.rows, 2);
    QCOMPARE(big.stored, 1);
    QCOMPARE(big.rejected, 1);
    QCOMPARE(big.problemRows.first().line, 1);
    QCOMPARE(big.problemRows.first().reason, u"the line is longer than 1048576 bytes, the limit for one event"_s);
}

void TestImportExport::columnMapping()
{
    const UsageEventDefinition d = define(*m_ws, u"metric"_s, basicSchema());
    const QByteArray bytes = "cust,when,cpu_hours,skip_me,data.region\n"
                             "acme,2023-05-21 09:30:38,5,x,eu\n"
                             "acme,2023-05-21 09:30:39,lots,x,eu\n"
                             ",2023-05-21 09:30:40,1,x,eu\n";
    ImportOptions options;
    options.mapping = {{u"cust"_s, u"customer_id"_s}, {u"when"_s, u"timestamp"_s}, {u"cpu_hours"_s, u"cpu"_s},
                       {u"skip_me"_s, QString()}};
    const ImportSummary s = importBytes(*m_ws, d, bytes, options); // data.region: the table's column name works too
    QVERIFY2(s.error.isEmpty(), qPrintable(s.error));
    QCOMPARE(s.stored, 1);
    QCOMPARE(s.rejected, 2);
    // Reasons name the file's columns, not the schema's fields.
    QCOMPARE(s.problemRows[0].reason, u"cpu_hours: expected a number (or a numeric string), got \"lots\""_s);
    QCOMPARE(s.problemRows[1].reason, u"cust: customer_id is missing; every event names its customer"_s);
    QSqlQuery q(m_ws->database());
    QVERIFY(q.exec(u"SELECT customer_id, \"data.cpu\", \"data.region\", data FROM usage_metric"_s));
    QVERIFY(q.next());
    QCOMPARE(q.value(0).toString(), u"acme"_s);
    QCOMPARE(q.value(1).toDouble(), 5.0);
    QCOMPARE(q.value(2).toString(), u"eu"_s);
    QCOMPARE(q.value(3).toString(), uR"({"cpu":5,"region":"eu"})"_s); // a skipped column leaves no trace
}

void TestImportExport::headerProblems_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QStringList>("mapping"); // "col=field"
    QTest::addColumn<QString>("error");
    QTest::newRow("unknown column") << QByteArray("customer_id,timestamp,bogus\na,1,2\n") << QStringList()
                                    << uR"(column "bogus" is not a field of the schema (map it to a field with bogus=FIELD, or skip it with bogus=))"_s;
    QTest::newRow("no timestamp column") << QByteArray("customer_id,cpu\na,1\n") << QStringList()
                                         << u"no column holds timestamp"_s;
    QTest::newRow("mapping names a missing column") << QByteArray("customer_id,timestamp\n") << QStringList{u"nope=cpu"_s}
                                                    << uR"(the mapping names column "nope", which the file does not have)"_s;
    QTest::newRow("mapping to an unknown field") << QByteArray("customer_id,timestamp,x\n") << QStringList{u"x=nothing"_s}
                                                 << uR"(column "x" is mapped to "nothing", which is neither customer_id, timestamp nor a field of the schema)"_s;
    QTest::newRow("two columns, one field") << QByteArray("customer_id,timestamp,cpu,cpu2\n") << QStringList{u"cpu2=cpu"_s}
                                            << uR"(columns "cpu" and "cpu2" both go to cpu)"_s;
    QTest::newRow("a column twice") << QByteArray("customer_id,timestamp,cpu,cpu\n") << QStringList()
                                    << u"the header names a column twice"_s;
    QTest::newRow("empty file") << QByteArray() << QStringList()
                                << u"the file is empty; a header row with customer_id, timestamp and the data fields was expected"_s;
}

void TestImportExport::headerProblems()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QStringList, mapping);
    QFETCH(QString, error);
    const UsageEventDefinition d = define(*m_ws, u"metric"_s, basicSchema());
    ImportOptions options;
    for (const QString &m : std::as_const(mapping))
        options.mapping.insert(m.section(u'=', 0, 0), m.section(u'=', 1));
    const ImportSummary s = importBytes(*m_ws, d, bytes.isEmpty() ? bytes : bytes + "a,2024-01-01 00:00:00,1,1\n", options);
    QVERIFY(s.error.contains(error) || s.error == error);
    QCOMPARE(s.error.split(u"; "_s).contains(error) || s.error == error, true);
    QCOMPARE(s.rows, 0);
    QCOMPARE(s.stored, 0);
    QVERIFY(!s.clean());
    QCOMPARE(m_ws->rowCount(d), 0);
}

void TestImportExport::previewShowsProblems()
{
    const DataSchema schema = basicSchema();
    QFile csv(fixture(u"mixed.csv"_s));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const ImportPreview p = EventImporter::preview(schema, csv, ImportFormat::Csv, {}, 6);
    QVERIFY(p.error.isEmpty());
    QCOMPARE(p.columns, (QStringList{u"customer_id"_s, u"timestamp"_s, u"cpu"_s, u"amount"_s, u"region"_s, u"usage.gpu"_s, u"active"_s}));
    QCOMPARE(p.rows.size(), 6);
    QCOMPARE(p.rows[1].line, 3);
    QCOMPARE(p.rows[1].cells, (QStringList{u"acme"_s, u"2023-05-21 09:30:39"_s, u"7.5"_s, u"0.10"_s, u"us, east"_s, QString(), u"false"_s}));
    for (int i = 0; i < 4; ++i)
        QVERIFY2(p.rows[i].reason.isEmpty(), qPrintable(p.rows[i].reason)); // duplicates need the database: not flagged
    QCOMPARE(p.rows[4].line, 6);
    QVERIFY2(p.rows[4].reason.startsWith(u"timestamp: "_s), qPrintable(p.rows[4].reason));
    QCOMPARE(p.rows[5].reason, u"cpu: expected a number (or a numeric string), got \"lots\""_s);

    // A header that needs a mapping still previews its rows, with the problem said once.
    QBuffer renamed;
    renamed.setData("cust,timestamp\nacme,2024-01-01 00:00:00\n");
    QVERIFY(renamed.open(QIODevice::ReadOnly));
    const ImportPreview unmapped = EventImporter::preview(schema, renamed, ImportFormat::Csv, {}, 10);
    QVERIFY(unmapped.error.contains(u"column \"cust\" is not a field"_s));
    QCOMPARE(unmapped.rows.size(), 1);
    QCOMPARE(unmapped.rows[0].cells, (QStringList{u"acme"_s, u"2024-01-01 00:00:00"_s}));
    QVERIFY(renamed.seek(0));
    const ImportPreview mapped = EventImporter::preview(schema, renamed, ImportFormat::Csv, {{u"cust"_s, u"customer_id"_s}}, 10);
    QVERIFY(mapped.error.isEmpty());
    QVERIFY(mapped.rows[0].reason.isEmpty());

    QFile ndjson(fixture(u"mixed.ndjson"_s));
    QVERIFY(ndjson.open(QIODevice::ReadOnly));
    const ImportPreview n = EventImporter::preview(schema, ndjson, ImportFormat::Ndjson, {}, 3);
    QCOMPARE(n.columns, p.columns);
    QCOMPARE(n.rows.size(), 3);
    QCOMPARE(n.rows[0].cells, (QStringList{u"acme"_s, u"2023-05-21 09:30:38.731"_s, u"5"_s, u"12.50"_s, u"eu"_s, u"2"_s, u"true"_s}));
    QCOMPARE(n.rows[2].line, 4); // after the blank line
}

void TestImportExport::progressAndCancellation()
{
    const UsageEventDefinition d = define(*m_ws, u"metric"_s, basicSchema());
    const QString path = m_dir->filePath(u"big.csv"_s);
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("customer_id,timestamp,cpu,amount\n");
        for (int i = 0; i < 20000; ++i)
            f.write("c" + QByteArray::number(i % 7) + ',' + QByteArray::number(1704067200 + i) + ','
                    + QByteArray::number(i) + ",0." + QByteArray::number(i) + "\n");
    }
    const qint64 size = QFileInfo(path).size();

    QList<ImportProgress> reports;
    ImportOptions options;
    options.batchSize = 1000;
    options.progress = [&reports](const ImportProgress &p) { reports.append(p); };
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const ImportSummary all = EventImporter::run(*m_ws, d, f, options);
    QVERIFY2(all.clean(), qPrintable(all.text()));
    QCOMPARE(all.stored, 20000);
    QCOMPARE(m_ws->rowCount(d), 20000);
    QCOMPARE(reports.size(), 20);
    for (qsizetype i = 0; i < reports.size(); ++i) {
        QCOMPARE(reports[i].rows, (i + 1) * 1000);
        QCOMPARE(reports[i].totalBytes, size);
        QVERIFY(i == 0 || reports[i].bytesRead > reports[i - 1].bytesRead);
    }
    QCOMPARE(reports.last().bytesRead, size);

    // Cancelled after the third transaction: what was stored stays, the rest is not read.
    const UsageEventDefinition d2 = define(*m_ws, u"metric2"_s, basicSchema());
    QFile g(path);
    QVERIFY(g.open(QIODevice::ReadOnly));
    std::atomic_bool cancel = false;
    int calls = 0;
    options.cancel = &cancel;
    options.progress = [&](const ImportProgress &) {
        if (++calls == 3)
            cancel = true;
    };
    const ImportSummary part = EventImporter::run(*m_ws, d2, g, options);
    QVERIFY(part.cancelled);
    QVERIFY(!part.clean());
    QCOMPARE(part.rows, 3000);
    QCOMPARE(part.stored, 3000);
    QCOMPARE(m_ws->rowCount(d2), 3000);
    QVERIFY(part.text().contains(u"cancelled"_s));

    // Many bad rows: the summary keeps the first few, the counts stay exact.
    QByteArray bad = "customer_id,timestamp\n";
    for (int i = 0; i < 1500; ++i)
        bad += "c,never\n";
    ImportOptions few;
    few.keepRejected = 10;
    const ImportSummary rejected = importBytes(*m_ws, d2, bad, few);
    QCOMPARE(rejected.rejected, 1500);
    QCOMPARE(rejected.problemRows.size(), 10);
    QCOMPARE(rejected.problemRows.last().line, 11);
    QVERIFY(rejected.text().endsWith(u"\n… and 1490 more"_s));
}

void TestImportExport::roundTrip_data()
{
    QTest::addColumn<int>("format");
    QTest::newRow("csv") << int(ExportFormat::Csv);
    QTest::newRow("ndjson") << int(ExportFormat::Ndjson);
}

void TestImportExport::roundTrip()
{
    QFETCH(int, format);
    const UsageEventDefinition d = define(*m_ws, u"metric"_s, fullSchema());
    // Events of every type and awkward text; several share a timestamp (keyset ties).
    QByteArray events;
    const QList<QByteArray> notes = {"plain", "comma, inside", "say \"hi\"", "two\nlines", "crlf\r\nin it", "",
                                     " padded ", "caf\xC3\xA9 \xE2\x82\xAC", "tab\there", "=SUM(A1)", "null", "true",
                                     "007", "5"};
    for (int i = 0; i < 40; ++i) {
        QByteArray data = "{\"cpu\":" + QByteArray::number(i) + ".25";
        if (i % 3 == 0)
            data += ",\"amount\":" + QByteArray(i % 2 ? "12.50" : "-98765432109876543210.123456789");
        if (i % 4 != 1)
            data += ",\"region\":\"r" + QByteArray::number(i % 5) + "\"";
        if (i % 2 == 0)
            data += ",\"usage\":{\"gpu\":" + QByteArray::number(i * 1000000007LL) + "}";
        if (i % 5 != 4)
            data += QByteArray(",\"active\":") + (i % 2 ? "true" : "false");
        if (i % 6 == 0)
            data += ",\"at\":\"2023-05-21 09:30:38.731\"";
        if (i % 6 == 3)
            data += ",\"at\":1684661438.5";
        if (i % 7 == 0)
            data += ",\"day\":\"2024-02-29\",\"ref\":\"0f8fad5b-d9cb-469f-a165-70867728950e\"";
        if (i % 8 == 0)
            data += ",\"tags\":[\"a\",1,{\"b\":null}]";
        QByteArray note;
        appendJsonString(note, notes[i % notes.size()]);
        data += ",\"note\":" + note + "}";
        events += "{\"customer_id\":\"cust-" + QByteArray::number(i % 3) + (i == 5 ? ", \\\"odd\\\"" : "")
            + "\",\"timestamp\":\"2024-03-01 12:" + QByteArray::number(10 + i / 3)
            + ":00.123456\",\"data\":" + data + "}\n";
    }
    ImportOptions ndjson;
    ndjson.format = ImportFormat::Ndjson;
    const ImportSummary seeded = importBytes(*m_ws, d, events, ndjson);
    QVERIFY2(seeded.clean() && seeded.stored == 40, qPrintable(seeded.text()));

    ExportOptions options;
    options.format = ExportFormat(format);
    options.pageSize = 7;
    QBuffer exported;
    QVERIFY(exported.open(QIODevice::WriteOnly));
    const ExportResult written = EventExporter::run(*m_ws, d, exported, options);
    QVERIFY2(written.error.isEmpty(), qPrintable(written.error));
    QCOMPARE(written.rows, 40);

    auto fresh = openWorkspace(u"b.db"_s);
    QVERIFY(fresh);
    const UsageEventDefinition d2 = define(*fresh, u"metric"_s, fullSchema());
    ImportOptions back;
    back.format = format == int(ExportFormat::Csv) ? ImportFormat::Csv : ImportFormat::Ndjson;
    const ImportSummary s = importBytes(*fresh, d2, exported.data(), back);
    QVERIFY2(s.clean(), qPrintable(s.text()));
    QCOMPARE(s.stored, 40);
    // The tables are the same: root fields, every typed column and the original data.
    const QList<QVariantList> before = tableRows(*m_ws, d);
    const QList<QVariantList> after = tableRows(*fresh, d2);
    QCOMPARE(after.size(), 40);
    for (qsizetype i = 0; i < before.size(); ++i)
        QCOMPARE(after[i], before[i]);

    // Exporting the copy writes the same bytes.
    QBuffer again;
    QVERIFY(again.open(QIODevice::WriteOnly));
    QCOMPARE(EventExporter::run(*fresh, d2, again, options).rows, 40);
    QCOMPARE(again.data(), exported.data());
}

void TestImportExport::exportFiltersAndPages()
{
    const UsageEventDefinition d = define(*m_ws, u"metric"_s, basicSchema());
    QByteArray events;
    for (int i = 0; i < 30; ++i) // ten instants, three customers each
        events += "{\"customer_id\":\"c" + QByteArray::number(i % 3) + "\",\"timestamp\":" + QByteArray::number(1700000000 + i / 3)
            + ",\"data\":{\"cpu\":" + QByteArray::number(i) + "}}\n";
    ImportOptions ndjson;
    ndjson.format = ImportFormat::Ndjson;
    QCOMPARE(importBytes(*m_ws, d, events, ndjson).stored, 30);

    auto exportWith = [&](ExportOptions o, ExportResult *result = nullptr) {
        o.format = ExportFormat::Ndjson;
        QBuffer out;
        out.open(QIODevice::WriteOnly);
        const ExportResult r = EventExporter::run(*m_ws, d, out, o);
        if (result)
            *result = r;
        QList<QByteArray> lines = out.data().split('\n');
        lines.removeLast();
        return lines;
    };
    ExportOptions all;
    all.pageSize = 4;
    QList<qint64> progress;
    all.progress = [&progress](qint64 rows) { progress.append(rows); };
    const QList<QByteArray> lines = exportWith(all);
    QCOMPARE(lines.size(), 30);
    QCOMPARE(progress, (QList<qint64>{4, 8, 12, 16, 20, 24, 28, 30}));
    QCOMPARE(lines.first(), QByteArray(R"({"data":{"cpu":0},"timestamp":"2023-11-14T22:13:20.000Z","customer_id":"c0"})"));
    QCOMPARE(lines.last(), QByteArray(R"({"data":{"cpu":29},"timestamp":"2023-11-14T22:13:29.000Z","customer_id":"c2"})"));
    for (qsizetype i = 0; i < lines.size(); ++i) // oldest first, ties in storage order, none lost or repeated
        QVERIFY2(lines[i].startsWith(QByteArray("{\"data\":{\"cpu\":" + QByteArray::number(i) + "}")), lines[i].constData());

    ExportOptions one;
    one.pageSize = 2;
    one.customerId = u"c1"_s;
    one.fromUs = qint64(1700000002) * 1000000; // inclusive
    one.toUs = qint64(1700000005) * 1000000;   // exclusive
    const QList<QByteArray> filtered = exportWith(one);
    QCOMPARE(filtered.size(), 3);
    QVERIFY(filtered[0].startsWith(R"({"data":{"cpu":7})"));
    QVERIFY(filtered[2].startsWith(R"({"data":{"cpu":13})"));

    std::atomic_bool cancel = true;
    ExportOptions cancelled;
    cancelled.cancel = &cancel;
    ExportResult r;
    QVERIFY(exportWith(cancelled, &r).isEmpty());
    QVERIFY(r.cancelled);
    QCOMPARE(r.rows, 0);
}

void TestImportExport::exportCsvShape()
{
    const UsageEventDefinition d = define(*m_ws, u"metric"_s, basicSchema());
    const QByteArray events =
        R"({"customer_id":"acme","timestamp":"2023-05-21 09:30:38.731","data":{"cpu":"5","amount":12.50,"usage":{"gpu":2},"active":true,"region":"eu, west"}})"
        "\n"
        R"({"customer_id":"b \"q\"","timestamp":"2023-05-21T11:30:39.000001+02:00","data":{"region":"","amount":"0.10"}})"
        "\n";
    ImportOptions ndjson;
    ndjson.format = ImportFormat::Ndjson;
    QCOMPARE(importBytes(*m_ws, d, events, ndjson).stored, 2);
    QBuffer out;
    QVERIFY(out.open(QIODevice::WriteOnly));
    QCOMPARE(EventExporter::run(*m_ws, d, out, {}).rows, 2);
    QCOMPARE(out.data(), QByteArray("customer_id,timestamp,cpu,amount,region,usage.gpu,active\r\n"
                                    "acme,2023-05-21T09:30:38.731Z,5,12.50,\"eu, west\",2,true\r\n"
                                    "\"b \"\"q\"\"\",2023-05-21T09:30:39.000001Z,,0.10,\"\",,\r\n"));
}

QTEST_GUILESS_MAIN(TestImportExport)
#include "tst_importexport.moc"
