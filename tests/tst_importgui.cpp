// Import and export from the Rows tab (issue 5): the ImportDialog's preview,
// mapping, worker import with progress, summary and saved rejects; cancelling a
// big import; the ExportDialog writing the current filter, read back into a fresh
// workspace. Real SQLite files in a QTemporaryDir, real widgets, offscreen.
#include "eventimporter.h"
#include "exportdialog.h"
#include "importdialog.h"
#include "rowsmodel.h"
#include "rowsview.h"
#include "workspace.h"

#include <QApplication>
#include <QBuffer>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

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
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

DataSchema schema()
{
    DataSchema s;
    s.fields = {{u"cpu"_s, FieldType::Float, false, {}},
                {u"amount"_s, FieldType::Decimal, false, {}},
                {u"region"_s, FieldType::String, false, {}},
                {u"usage.gpu"_s, FieldType::Integer, false, {}},
                {u"active"_s, FieldType::Boolean, false, {}}};
    return s;
}

// Every stored row as "customer|timestamp|typed columns|data", in a stable order.
QStringList storedRows(const QString &db, const QString &slug)
{
    QString error;
    auto ws = Workspace::open(db, &error);
    if (!ws)
        return {error};
    QSqlQuery q(ws->database());
    q.exec(u"SELECT customer_id, \"timestamp\", \"data.cpu\", \"data.amount\", \"data.region\", \"data.usage.gpu\", "
           "\"data.active\", data FROM usage_"_s
           + slug + u" ORDER BY \"timestamp\", customer_id"_s);
    QStringList out;
    while (q.next()) {
        QStringList cells;
        for (int i = 0; i < 8; ++i)
            cells.append(q.value(i).isNull() ? u"∅"_s : q.value(i).toString());
        out.append(cells.join(u'|'));
    }
    return out;
}

} // namespace

class TestImportGui : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_db;

    UsageEventDefinition define(const QString &db, const QString &slug)
    {
        QString error;
        auto ws = Workspace::open(db, &error);
        if (!ws)
            qFatal("%s", qPrintable(error));
        UsageEventDefinition d;
        d.name = slug;
        d.slug = slug;
        d.schema = schema();
        if (!ws->createDefinition(d).isEmpty())
            qFatal("definition refused");
        return *ws->definition(slug);
    }

    // The Rows tab's Import… button opens the dialog (window-modal, not exec()).
    static ImportDialog *openImport(RowsView &view)
    {
        auto *button = view.findChild<QPushButton *>(u"importButton"_s);
        if (!button)
            return nullptr;
        QTest::mouseClick(button, Qt::LeftButton);
        return view.findChild<ImportDialog *>();
    }

    static bool runImport(ImportDialog *dialog)
    {
        auto *start = dialog->findChild<QPushButton *>(u"importStart"_s);
        if (!start || !start->isEnabled())
            return false;
        QTest::mouseClick(start, Qt::LeftButton);
        return QTest::qWaitFor([&] { return dialog->summary().has_value(); }, 30000);
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_db = m_dir.filePath(u"gui.db"_s);
    }

    void importsFixtureWithSummaryAndRejects()
    {
        const UsageEventDefinition d = define(m_db, u"metric"_s);
        RowsView view(m_db);
        view.showDefinition(d);
        view.resize(1000, 600);
        view.show();
        QTRY_VERIFY(!view.model()->isLoading());
        QCOMPARE(view.model()->rowCount(), 0);

        ImportDialog *dialog = openImport(view);
        QVERIFY(dialog);
        QVERIFY(dialog->isVisible());
        QVERIFY(dialog->isModal()); // open(): window-modal, no nested event loop
        dialog->setFile(fixture(u"mixed.csv"_s));

        // The preview: every row of the small file with what the validator says.
        auto *preview = dialog->findChild<QTableWidget *>(u"importPreview"_s);
        QCOMPARE(preview->rowCount(), 11);
        const int problem = preview->columnCount() - 1;
        QCOMPARE(preview->horizontalHeaderItem(2)->text(), u"cpu"_s);
        QCOMPARE(preview->verticalHeaderItem(5)->text(), u"7"_s); // line numbers, not row numbers
        QCOMPARE(preview->item(5, problem)->text(), u"cpu: expected a number (or a numeric string), got \"lots\""_s);
        QCOMPARE(preview->item(0, problem)->text(), u"ok"_s);
        QVERIFY(preview->item(4, problem)->text().startsWith(u"timestamp: "_s));
        QVERIFY(dialog->findChild<QTableWidget *>(u"importMapping"_s)->isHidden()); // names are the schema's
        QVERIFY(dialog->findChild<QLabel *>(u"importHeaderError"_s)->isHidden());

        // Import on the worker: the GUI thread keeps ticking meanwhile.
        QVERIFY(runImport(dialog));
        const ImportSummary s = *dialog->summary();
        QVERIFY2(s.error.isEmpty(), qPrintable(s.error));
        QCOMPARE(s.rows, 11);
        QCOMPARE(s.stored, 4);
        QCOMPARE(s.duplicates, 1);
        QCOMPARE(s.conflicts, 1);
        QCOMPARE(s.rejected, 5);
        QVERIFY(!s.cancelled);
        QCOMPARE(dialog->findChild<QLabel *>(u"importSummary"_s)->text(),
                 u"11 rows: 4 stored, 1 duplicate, 1 conflict, 5 rejected"_s);
        QVERIFY(dialog->findChild<QPlainTextEdit *>(u"importProblems"_s)->toPlainText().contains(u"line 9: the row has 5 cells"_s));

        // Save rejected rows…: the file's columns, then line and reason (the golden rejects file).
        auto *save = dialog->findChild<QPushButton *>(u"saveRejects"_s);
        QVERIFY(save->isVisible());
        const QString rejects = m_dir.filePath(u"rejects.csv"_s);
        QString error;
        QVERIFY2(dialog->saveRejectsTo(rejects, &error), qPrintable(error));
        QCOMPARE(readAll(rejects), readAll(fixture(u"mixed.rejects.csv"_s)));

        // The Rows tab reloaded by itself.
        QTRY_COMPARE(view.model()->rowCount(), 4);
        QTRY_COMPARE(view.model()->exactCount().value_or(-1), qint64(4));
        QStringList customers;
        for (int r = 0; r < 4; ++r)
            customers.append(view.model()->data(view.model()->index(r, RowStore::CustomerColumn)).toString());
        customers.sort();
        QCOMPARE(customers, (QStringList{u"acme"_s, u"acme"_s, u"beta \"quoted\""_s, u"gamma"_s}));

        // Importing the same file again: all duplicates, nothing new.
        QVERIFY(runImport(dialog));
        QCOMPARE(dialog->summary()->stored, 0);
        QCOMPARE(dialog->summary()->duplicates, 5);
        dialog->findChild<QPushButton *>(u"importClose"_s)->click();
        QTRY_VERIFY(!view.findChild<ImportDialog *>()); // deleted on close
    }

    void mapsRenamedColumns()
    {
        const UsageEventDefinition d = define(m_db, u"mapped"_s);
        const QString path = m_dir.filePath(u"renamed.csv"_s);
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("cust,when,cpu,note,line,reason\n"
                    "a,2024-01-01 00:00:00,1.5,x,3,old\n"
                    "b,2024-01-01 00:00:01,2,y,4,old\n"
                    "c,2024-01-01 00:00:02,oops,z,5,old\n");
        }
        RowsView view(m_db);
        view.showDefinition(d);
        view.show();
        ImportDialog *dialog = openImport(view);
        QVERIFY(dialog);
        dialog->setFile(path);

        auto *mapping = dialog->findChild<QTableWidget *>(u"importMapping"_s);
        auto *headerError = dialog->findChild<QLabel *>(u"importHeaderError"_s);
        auto *start = dialog->findChild<QPushButton *>(u"importStart"_s);
        QVERIFY(mapping->isVisible());
        QCOMPARE(mapping->rowCount(), 6);
        QVERIFY(headerError->isVisible());
        QVERIFY2(headerError->text().contains(u"cust"_s), qPrintable(headerError->text()));
        QVERIFY(!start->isEnabled());

        // The saved-rejects columns are skipped by default; the rest are chosen here.
        auto combo = [&](const QString &column) { return dialog->findChild<QComboBox *>(u"map_"_s + column); };
        QCOMPARE(combo(u"line"_s)->currentIndex(), 1);
        QCOMPARE(combo(u"cpu"_s)->currentText(), u"cpu"_s);
        combo(u"cust"_s)->setCurrentIndex(combo(u"cust"_s)->findText(u"customer_id"_s));
        combo(u"when"_s)->setCurrentIndex(combo(u"when"_s)->findText(u"timestamp"_s));
        QVERIFY(headerError->isVisible()); // "note" is still no field
        combo(u"note"_s)->setCurrentIndex(1);
        QVERIFY2(headerError->isHidden(), qPrintable(headerError->text()));
        QVERIFY(start->isEnabled());
        QCOMPARE(dialog->mapping(), (QHash<QString, QString>{{u"cust"_s, u"customer_id"_s},
                                                             {u"when"_s, u"timestamp"_s},
                                                             {u"note"_s, QString()},
                                                             {u"line"_s, QString()},
                                                             {u"reason"_s, QString()}}));
        auto *preview = dialog->findChild<QTableWidget *>(u"importPreview"_s);
        QCOMPARE(preview->rowCount(), 3);
        QCOMPARE(preview->item(2, preview->columnCount() - 1)->text(),
                 u"cpu: expected a number (or a numeric string), got \"oops\""_s);

        QVERIFY(runImport(dialog));
        QCOMPARE(dialog->summary()->stored, 2);
        QCOMPARE(dialog->summary()->rejected, 1);
        QTRY_COMPARE(view.model()->exactCount().value_or(-1), qint64(2));
    }

    void cancelStopsABigImportEarly()
    {
        const UsageEventDefinition d = define(m_db, u"big"_s);
        constexpr int Rows = 400000;
        const QString path = m_dir.filePath(u"big.csv"_s);
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QByteArray chunk = "customer_id,timestamp,cpu,amount,region\n";
            for (int i = 0; i < Rows; ++i) {
                chunk += 'c' + QByteArray::number(i % 7) + ',' + QByteArray::number(1704067200 + i) + ','
                    + QByteArray::number(i % 100) + ".5,0." + QByteArray::number(i) + ",eu\n";
                if (chunk.size() > (1 << 20)) {
                    f.write(chunk);
                    chunk.clear();
                }
            }
            f.write(chunk);
        }
        RowsView view(m_db);
        view.showDefinition(d);
        view.show();
        ImportDialog *dialog = openImport(view);
        QVERIFY(dialog);
        dialog->setFile(path);
        QCOMPARE(dialog->findChild<QTableWidget *>(u"importPreview"_s)->rowCount(), ImportDialog::PreviewRows);

        // A 10 ms timer measures how late the GUI thread gets while the worker imports.
        QElapsedTimer clock;
        qint64 last = 0, worstGap = 0;
        QTimer tick;
        tick.setInterval(10);
        connect(&tick, &QTimer::timeout, this, [&] {
            worstGap = qMax(worstGap, clock.elapsed() - last);
            last = clock.elapsed();
        });
        clock.start();
        tick.start();
        auto *progress = dialog->findChild<QProgressBar *>(u"importProgress"_s);
        QTest::mouseClick(dialog->findChild<QPushButton *>(u"importStart"_s), Qt::LeftButton);
        QVERIFY(dialog->isRunning());
        auto *cancel = dialog->findChild<QPushButton *>(u"importCancel"_s);
        QVERIFY(cancel->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(progress->value() > 0 || dialog->summary(), 30000); // the first transaction
        QVERIFY2(!dialog->summary(), "the import ended before it could be cancelled");
        QTest::mouseClick(cancel, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(dialog->summary().has_value(), 30000);
        tick.stop();

        const ImportSummary s = *dialog->summary();
        QVERIFY(s.cancelled);
        QVERIFY2(s.rows < Rows / 2, qPrintable(s.text()));
        QVERIFY(s.stored > 0);
        QCOMPARE(s.stored, s.rows); // the rows read before the cancel are stored
        QVERIFY(dialog->findChild<QLabel *>(u"importSummary"_s)->text().contains(u"cancelled"_s));
        QVERIFY2(worstGap < 500, qPrintable(u"GUI thread stalled %1 ms"_s.arg(worstGap)));
        qInfo("cancelled after %lld rows; worst GUI gap %lld ms", s.rows, worstGap);
        QTRY_COMPARE(view.model()->exactCount().value_or(-1), s.stored);
    }

    void exportOfTheFilterRoundTrips_data()
    {
        QTest::addColumn<QString>("fileName");
        QTest::newRow("csv") << u"export.csv"_s;
        QTest::newRow("ndjson") << u"export.ndjson"_s;
    }

    void exportOfTheFilterRoundTrips()
    {
        QFETCH(QString, fileName);
        const QString slug = u"trip_"_s + QFileInfo(fileName).suffix();
        const UsageEventDefinition d = define(m_db, slug);
        {
            // Rows of three customers over three days, through the engine.
            QByteArray csv = "customer_id,timestamp,cpu,amount,region,usage.gpu,active\n";
            for (int i = 0; i < 300; ++i)
                csv += 'k' + QByteArray::number(i % 3) + ",2024-03-0" + QByteArray::number(1 + i % 3) + " 10:"
                    + QByteArray::number(10 + i / 60) + ':' + QByteArray::number(10 + i % 40) + ','
                    + QByteArray::number(i) + ".25," + QByteArray::number(i) + ".10,\"r, " + QByteArray::number(i)
                    + "\"," + (i % 5 ? QByteArray::number(i) : QByteArray()) + ',' + (i % 2 ? "true" : "false") + '\n';
            QBuffer in(&csv);
            QVERIFY(in.open(QIODevice::ReadOnly));
            QString error;
            auto ws = Workspace::open(m_db, &error);
            const ImportSummary s = EventImporter::run(*ws, d, in, {});
            QVERIFY2(s.clean() && s.stored > 200, qPrintable(s.text()));
        }

        RowsView view(m_db);
        view.showDefinition(d);
        view.show();
        // The current filter: customer k1 from March 2 on.
        auto *customer = view.findChild<QLineEdit *>(u"customerFilter"_s);
        auto *from = view.findChild<QLineEdit *>(u"fromFilter"_s);
        customer->setText(u"k1"_s);
        from->setText(u"2024-03-02"_s);
        QTest::keyClick(from, Qt::Key_Return);
        QTRY_VERIFY(view.model()->exactCount().has_value());
        const qint64 filtered = *view.model()->exactCount();
        QVERIFY(filtered > 10);

        // Ctrl+E within the tab opens the export of that filter.
        view.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&view));
        view.view()->setFocus();
        QTest::keyClick(view.view(), Qt::Key_E, Qt::ControlModifier);
        ExportDialog *exporter = view.findChild<ExportDialog *>();
        QVERIFY(exporter);
        QVERIFY(exporter->findChild<QLabel *>(u"exportFilter"_s)->text().contains(u"customer_id = k1"_s));
        QVERIFY(exporter->findChild<QLabel *>(u"exportColumnFilterNote"_s)->isHidden());
        const QString out = m_dir.filePath(fileName);
        exporter->setFile(out);
        QCOMPARE(exporter->format(), fileName.endsWith(u".csv"_s) ? ExportFormat::Csv : ExportFormat::Ndjson);
        QTest::mouseClick(exporter->findChild<QPushButton *>(u"exportStart"_s), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(exporter->result().has_value(), 30000);
        QVERIFY2(exporter->result()->error.isEmpty(), qPrintable(exporter->result()->error));
        QCOMPARE(exporter->result()->rows, filtered);
        QVERIFY(exporter->findChild<QLabel *>(u"exportResult"_s)->text().contains(QString::number(filtered)));
        exporter->findChild<QPushButton *>(u"exportClose"_s)->click();

        // Into a fresh workspace through the import dialog: the same rows.
        const QString freshDb = m_dir.filePath(u"fresh_"_s + slug + u".db"_s);
        const UsageEventDefinition fresh = define(freshDb, slug);
        RowsView freshView(freshDb);
        freshView.showDefinition(fresh);
        freshView.show();
        ImportDialog *importer = openImport(freshView);
        QVERIFY(importer);
        importer->setFile(out);
        QVERIFY(runImport(importer));
        QVERIFY2(importer->summary()->clean(), qPrintable(importer->summary()->text()));
        QCOMPARE(importer->summary()->stored, filtered);
        QTRY_COMPARE(freshView.model()->exactCount().value_or(-1), filtered);

        QStringList expected;
        for (const QString &row : storedRows(m_db, slug))
            if (row.startsWith(u"k1|"_s) && row.split(u'|')[1].toLongLong() >= 1709337600LL * 1000000)
                expected.append(row);
        QCOMPARE(expected.size(), filtered);
        QCOMPARE(storedRows(freshDb, slug), expected);
    }

    void exportSaysColumnFiltersAreNotApplied()
    {
        const UsageEventDefinition d = define(m_db, u"notes"_s);
        RowsView view(m_db);
        view.showDefinition(d);
        view.show();
        auto *cpuFilter = view.findChild<QLineEdit *>(u"columnFilter_cpu"_s);
        QVERIFY(cpuFilter);
        cpuFilter->setText(u">5"_s);
        QTest::keyClick(cpuFilter, Qt::Key_Return);
        QTest::mouseClick(view.findChild<QPushButton *>(u"exportButton"_s), Qt::LeftButton);
        ExportDialog *exporter = view.findChild<ExportDialog *>();
        QVERIFY(exporter);
        QVERIFY(exporter->findChild<QLabel *>(u"exportColumnFilterNote"_s)->isVisible());
        QVERIFY(!exporter->findChild<QPushButton *>(u"exportStart"_s)->isEnabled()); // no file yet
    }
};

QTEST_MAIN(TestImportGui)
#include "tst_importgui.moc"
