// The Chart tab (meter preview): real widgets on the offscreen platform over a real
// workspace (a SQLite file; with MDK_TEST_BACKEND=postgresql a fresh database on
// the private server of scripts/pgtest), rows stored through EventStore. The numbers
// expected below are worked out by hand from the fixture rows.
#include "aggregatemodel.h"
#include "charttab.h"
#include "eventpage.h"
#include "eventstore.h"
#include "testbackend.h"
#include "workspace.h"
#include "workspaceservice.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QClipboard>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPushButton>
#include <QSet>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSqlQuery>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace meterdesk;
using Aggregate::Function;
using Aggregate::Window;

namespace {
qint64 utcUs(int day, int hour)
{
    return QDateTime(QDate(2024, 3, day), QTime(hour, 0), QTimeZone::utc()).toMSecsSinceEpoch() * 1000;
}

struct Row
{
    const char *customer;
    int day, hour;
    qint64 calls;
    const char *amount;
    const char *region;
};

// SUM(calls) per UTC day: c1 12 | 10 | 0, c2 3 | 0 | 4, c3 0 | 100 | 0 (totals 22, 7, 100).
// SUM(amount): c1 0.3 | 2 | 0, c2 1.5 | 0 | 3.75, c3 0 | 0.25 | 0 (totals 2.3, 5.25, 0.25).
const Row Fixture[] = {
    {"c1", 1, 9, 5, "0.1", "eu"},   {"c1", 1, 15, 7, "0.2", "eu"}, {"c2", 1, 10, 3, "1.5", "us"},
    {"c1", 2, 8, 10, "2", "us"},    {"c3", 2, 12, 100, "0.25", "eu"}, {"c2", 3, 23, 4, "3.75", "eu"},
};
} // namespace

class TestChart : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_db;
    UsageEventDefinition m_def;
    std::unique_ptr<ChartTab> m_tab;

    bool store(const QList<Row> &rows)
    {
        QString error;
        auto ws = Workspace::open(m_db, &error);
        if (!ws) {
            qWarning("%s", qPrintable(error));
            return false;
        }
        EventStore store(*ws);
        QList<ValidatedEvent> events;
        for (const Row &r : rows) {
            ValidatedEvent e;
            e.customerId = QString::fromLatin1(r.customer);
            e.timestampUs = utcUs(r.day, r.hour);
            e.values = {QVariant(r.calls), QVariant(QString::fromLatin1(r.amount)), QVariant(QString::fromLatin1(r.region))};
            e.dataJson = QStringLiteral("{\"amount\":\"%1\",\"calls\":%2,\"region\":\"%3\"}")
                             .arg(QString::fromLatin1(r.amount)).arg(r.calls).arg(QString::fromLatin1(r.region)).toUtf8();
            events.append(e);
        }
        if (!ws->beginWrite(&error))
            return false;
        const QList<StoreResult> results = store.storeMany(m_def, events, QStringLiteral("api"), Workspace::nowUs());
        for (const StoreResult &r : results)
            if (r.outcome != StoreOutcome::Inserted) {
                qWarning("not stored: %s", qPrintable(r.error));
                ws->rollback();
                return false;
            }
        return ws->commit(&error);
    }

    template<typename T>
    T *child(QWidget *parent, const char *name)
    {
        T *w = parent->findChild<T *>(QLatin1String(name));
        if (!w)
            qWarning("no %s", name);
        return w;
    }
    static void choose(QComboBox *combo, const QVariant &data)
    {
        const int i = combo->findData(data);
        QVERIFY2(i >= 0, qPrintable(data.toString()));
        combo->setCurrentIndex(i);
    }
    // The controls a user sets: aggregate, field, window, UTC, a custom range in days of March 2024.
    void setControls(ChartTab *tab, Function fn, const QString &field, Window window, const QString &zone, int fromDay,
                     int toDay)
    {
        choose(child<QComboBox>(tab, "chartRange"), int(ChartTab::Range::Custom));
        choose(child<QComboBox>(tab, "chartField"), field);
        choose(child<QComboBox>(tab, "chartFunction"), int(fn));
        choose(child<QComboBox>(tab, "chartWindow"), int(window));
        auto *z = child<QComboBox>(tab, "chartZone");
        z->setCurrentIndex(z->findText(zone));
        QCOMPARE(z->currentText(), zone);
        child<QDateTimeEdit>(tab, "chartFrom")->setDateTime(QDateTime(QDate(2024, 3, fromDay), QTime(0, 0)));
        child<QDateTimeEdit>(tab, "chartTo")->setDateTime(QDateTime(QDate(2024, 3, toDay), QTime(0, 0)));
    }
    static void settle(ChartTab *tab)
    {
        QTRY_VERIFY_WITH_TIMEOUT(!tab->isBusy(), 10000);
    }
    // The table's text, row by row: "window | value | value ...".
    static QStringList tableText(const AggregateModel *m)
    {
        QStringList lines;
        QStringList header;
        for (int c = 1; c < m->columnCount(); ++c)
            header.append(m->headerData(c, Qt::Horizontal).toString());
        lines.append(header.join(QStringLiteral(" | ")));
        for (int r = 0; r < m->rowCount(); ++r) {
            QStringList line;
            for (int c = 0; c < m->columnCount(); ++c)
                line.append(m->data(m->index(r, c)).toString());
            lines.append(line.join(QStringLiteral(" | ")));
        }
        return lines;
    }
    static QList<QLineSeries *> lines(QChart *chart)
    {
        QList<QLineSeries *> out;
        for (QAbstractSeries *s : chart->series())
            if (auto *l = qobject_cast<QLineSeries *>(s))
                out.append(l);
        return out;
    }
    static int distinctColours(const QImage &image)
    {
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 3)
            for (int x = 0; x < image.width(); x += 3)
                colours.insert(image.pixel(x, y));
        return int(colours.size());
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QString error;
        m_db = test::workspaceLocation(m_dir, QStringLiteral("chart.db"), &error);
        QVERIFY2(!m_db.isEmpty(), qPrintable(error));
        auto ws = Workspace::open(m_db, &error);
        QVERIFY2(ws, qPrintable(error));
        m_def.name = QStringLiteral("api calls");
        m_def.slug = QStringLiteral("api_calls");
        m_def.schema.fields = {{QStringLiteral("calls"), FieldType::Integer, false, {}},
                               {QStringLiteral("amount"), FieldType::Decimal, false, {}},
                               {QStringLiteral("region"), FieldType::String, false, {}}};
        QVERIFY(ws->createDefinition(m_def).isEmpty());
        QVERIFY(store(QList<Row>(std::begin(Fixture), std::end(Fixture))));

        m_tab = std::make_unique<ChartTab>(m_db);
        m_tab->resize(1000, 700);
        m_tab->showDefinition(m_def);
        m_tab->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_tab.get()));
        settle(m_tab.get());
    }

    void cleanupTestCase() { m_tab.reset(); }

    void defaultsAreNumbersFirstAndAllTime()
    {
        auto *field = child<QComboBox>(m_tab.get(), "chartField");
        QCOMPARE(field->itemData(0).toString(), QStringLiteral("calls"));
        QCOMPARE(field->itemData(1).toString(), QStringLiteral("amount"));
        QCOMPARE(field->itemData(field->count() - 1).toString(), QString()); // (rows)
        QCOMPARE(field->currentData().toString(), QStringLiteral("calls"));
        QCOMPARE(child<QComboBox>(m_tab.get(), "chartFunction")->currentData().toInt(), int(Function::Sum));
        QCOMPARE(child<QSpinBox>(m_tab.get(), "chartTopN")->value(), 10);
        QCOMPARE(child<QComboBox>(m_tab.get(), "chartZone")->currentText(),
                 QString::fromUtf8(QTimeZone::systemTimeZoneId()));
        // All time: from the first event's window to the last one's, whatever the zone.
        const AggregateModel *m = m_tab->model();
        QCOMPARE(m->result().customers, (QStringList{QStringLiteral("c3"), QStringLiteral("c1"), QStringLiteral("c2")}));
        qint64 total = 0;
        for (const Aggregate::Cell &c : m->result().cells)
            total += c.value.toLongLong();
        QCOMPARE(total, qint64(129));
        QCOMPARE(m->result().rowsScanned, qint64(6));
    }

    void sumPerDayShowsTheHandComputedNumbers()
    {
        QAbstractItemModelTester tester(m_tab->model(), QAbstractItemModelTester::FailureReportingMode::Fatal);
        setControls(m_tab.get(), Function::Sum, QStringLiteral("calls"), Window::Day, QStringLiteral("UTC"), 1, 4);
        QCOMPARE(child<QComboBox>(m_tab.get(), "chartRange")->currentData().toInt(), int(ChartTab::Range::Custom));
        settle(m_tab.get());
        QCOMPARE(child<QLabel>(m_tab.get(), "chartError")->isVisible(), false);
        QCOMPARE(tableText(m_tab->model()), (QStringList{QStringLiteral("c3 | c1 | c2"),
                                                         QStringLiteral("2024-03-01 | 0 | 12 | 3"),
                                                         QStringLiteral("2024-03-02 | 100 | 10 | 0"),
                                                         QStringLiteral("2024-03-03 | 0 | 0 | 4")}));
        // One line per customer, a point per window, the same numbers.
        const QList<QLineSeries *> series = lines(m_tab->chart());
        QCOMPARE(series.size(), 3);
        const QList<QList<double>> expected{{0, 100, 0}, {12, 10, 0}, {3, 0, 4}};
        const QStringList names{QStringLiteral("c3"), QStringLiteral("c1"), QStringLiteral("c2")};
        for (int s = 0; s < 3; ++s) {
            QCOMPARE(series[s]->name(), names[s]);
            const QList<QPointF> points = series[s]->points();
            QCOMPARE(points.size(), 3);
            for (int w = 0; w < 3; ++w) {
                QCOMPARE(points[w].x(), double(utcUs(1 + w, 0)) / 1000);
                QCOMPARE(points[w].y(), expected[s][w]);
            }
        }
        QVERIFY(m_tab->chart()->legend()->isVisible());
        QCOMPARE(m_tab->chart()->axes(Qt::Horizontal).size(), 1);
        QCOMPARE(m_tab->chart()->axes(Qt::Vertical).size(), 1);
        QVERIFY(m_tab->chartView()->isVisible());
        QVERIFY(!child<QLabel>(m_tab.get(), "chartEmpty")->isVisible());
        QVERIFY(m_tab->chart()->title().contains(QLatin1String("SUM of calls per day")));
    }

    void timeZoneMovesRowsBetweenDays()
    {
        // In Tokyo (UTC+9) c1's 15:00 UTC row is already 2 March, c2's 23:00 UTC row is 4 March.
        setControls(m_tab.get(), Function::Count, QString(), Window::Day, QStringLiteral("Asia/Tokyo"), 1, 5);
        settle(m_tab.get());
        QCOMPARE(tableText(m_tab->model()), (QStringList{QStringLiteral("c1 | c2 | c3"),
                                                         QStringLiteral("2024-03-01 | 1 | 1 | 0"),
                                                         QStringLiteral("2024-03-02 | 2 | 0 | 1"),
                                                         QStringLiteral("2024-03-03 | 0 | 0 | 0"),
                                                         QStringLiteral("2024-03-04 | 0 | 1 | 0")}));
        QCOMPARE(m_tab->model()->result().windowStarts.first(),
                 QDateTime(QDate(2024, 3, 1), QTime(0, 0), QTimeZone("Asia/Tokyo")).toMSecsSinceEpoch() * 1000);
    }

    void topNAndPickedCustomers()
    {
        setControls(m_tab.get(), Function::Sum, QStringLiteral("calls"), Window::Day, QStringLiteral("UTC"), 1, 4);
        auto *spin = child<QSpinBox>(m_tab.get(), "chartTopN");
        QVERIFY(spin->isVisible());
        spin->setValue(2);
        settle(m_tab.get());
        QCOMPARE(m_tab->model()->result().customers, (QStringList{QStringLiteral("c3"), QStringLiteral("c1")}));
        QCOMPARE(lines(m_tab->chart()).size(), 2);
        QCOMPARE(m_tab->model()->columnCount(), 3);

        choose(child<QComboBox>(m_tab.get(), "chartCustomers"), int(ChartTab::Customers::Picked));
        auto *picked = child<QLineEdit>(m_tab.get(), "chartPicked");
        QVERIFY(picked->isVisible() && !spin->isVisible());
        picked->setFocus();
        QTest::keyClicks(picked, QStringLiteral("c2, c1"));
        QTest::keyClick(picked, Qt::Key_Return);
        settle(m_tab.get());
        QCOMPARE(tableText(m_tab->model()), (QStringList{QStringLiteral("c1 | c2"),
                                                         QStringLiteral("2024-03-01 | 12 | 3"),
                                                         QStringLiteral("2024-03-02 | 10 | 0"),
                                                         QStringLiteral("2024-03-03 | 0 | 4")}));
        choose(child<QComboBox>(m_tab.get(), "chartCustomers"), int(ChartTab::Customers::Top));
        spin->setValue(10);
        settle(m_tab.get());
        QCOMPARE(m_tab->model()->result().customers.size(), 3);
    }

    void aStringFieldDisablesSum()
    {
        auto *fn = child<QComboBox>(m_tab.get(), "chartFunction");
        auto *items = qobject_cast<QStandardItemModel *>(fn->model());
        QVERIFY(items);
        choose(child<QComboBox>(m_tab.get(), "chartField"), QStringLiteral("calls"));
        choose(fn, int(Function::Sum));
        for (int i = 0; i < fn->count(); ++i)
            QVERIFY(items->item(i)->isEnabled());

        choose(child<QComboBox>(m_tab.get(), "chartField"), QStringLiteral("region"));
        const QSet<int> allowed{int(Function::Count), int(Function::UniqueCount), int(Function::Latest)};
        for (int i = 0; i < fn->count(); ++i) {
            const bool ok = allowed.contains(fn->itemData(i).toInt());
            QCOMPARE(items->item(i)->isEnabled(), ok);
            QCOMPARE(items->item(i)->toolTip().isEmpty(), ok); // a disabled one says why
        }
        // SUM could not stay: COUNT of the field instead (c1 has 3 values, c2 2, c3 1).
        QCOMPARE(fn->currentData().toInt(), int(Function::Count));
        settle(m_tab.get());
        QCOMPARE(tableText(m_tab->model()).at(1), QStringLiteral("2024-03-01 | 2 | 1 | 0"));

        // (rows) takes COUNT only.
        choose(child<QComboBox>(m_tab.get(), "chartField"), QString());
        for (int i = 0; i < fn->count(); ++i)
            QCOMPARE(items->item(i)->isEnabled(), fn->itemData(i).toInt() == int(Function::Count));
        choose(child<QComboBox>(m_tab.get(), "chartField"), QStringLiteral("calls"));
        settle(m_tab.get());
    }

    void oneWindowIsBarsAndNoRowsExplains()
    {
        setControls(m_tab.get(), Function::Sum, QStringLiteral("calls"), Window::Day, QStringLiteral("UTC"), 2, 3);
        settle(m_tab.get());
        const QList<QAbstractSeries *> series = m_tab->chart()->series();
        QCOMPARE(series.size(), 1);
        auto *bars = qobject_cast<QBarSeries *>(series.first());
        QVERIFY(bars);
        QCOMPARE(bars->barSets().size(), 2); // c2 has no row on 2 March
        QCOMPARE(bars->barSets()[0]->label(), QStringLiteral("c3"));
        QCOMPARE(bars->barSets()[0]->at(0), 100.0);
        QCOMPARE(bars->barSets()[1]->at(0), 10.0);

        auto *from = child<QDateTimeEdit>(m_tab.get(), "chartFrom");
        auto *to = child<QDateTimeEdit>(m_tab.get(), "chartTo");
        to->setDateTime(QDateTime(QDate(2020, 1, 2), QTime(0, 0)));
        from->setDateTime(QDateTime(QDate(2020, 1, 1), QTime(0, 0)));
        settle(m_tab.get());
        auto *empty = child<QLabel>(m_tab.get(), "chartEmpty");
        QVERIFY(empty->isVisible());
        QVERIFY(!m_tab->chartView()->isVisible());
        QVERIFY2(empty->text().contains(QLatin1String("No rows in this range")), qPrintable(empty->text()));
        QCOMPARE(m_tab->model()->rowCount(), 0);
        QVERIFY(!child<QPushButton>(m_tab.get(), "exportCsv")->isEnabled());

        // from after to: said inline, nothing run.
        from->setDateTime(QDateTime(QDate(2020, 1, 3), QTime(0, 0)));
        settle(m_tab.get());
        QVERIFY(child<QLabel>(m_tab.get(), "chartError")->isVisible());
        QVERIFY(!child<QLabel>(m_tab.get(), "chartError")->text().isEmpty());
    }

    void exportCsvHasTheExactValues()
    {
        // Decimals add up exactly: 0.1 + 0.2 is 0.3 (through a double it is 0.30000000000000004).
        setControls(m_tab.get(), Function::Sum, QStringLiteral("amount"), Window::Day, QStringLiteral("UTC"), 1, 4);
        settle(m_tab.get());
        QVERIFY(child<QPushButton>(m_tab.get(), "exportCsv")->isEnabled());
        const QString path = m_dir.filePath(QStringLiteral("amount.csv"));
        QString error;
        QVERIFY2(m_tab->exportCsv(path, &error), qPrintable(error));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray csv = file.readAll();
        const QByteArray utc = QDateTime(QDate(2024, 3, 1), QTime(0, 0), QTimeZone("UTC")).toString(Qt::ISODate).mid(19).toUtf8();
        QCOMPARE(csv, QByteArray("window_start,c2,c1,c3\r\n"
                                 "2024-03-01T00:00:00" + utc + ",1.5,0.3,0\r\n"
                                 "2024-03-02T00:00:00" + utc + ",0,2,0.25\r\n"
                                 "2024-03-03T00:00:00" + utc + ",3.75,0,0\r\n"));
        // The table shows the same text; copy gives it as TSV.
        QCOMPARE(tableText(m_tab->model()).at(1), QStringLiteral("2024-03-01 | 1.5 | 0.3 | 0"));
        QTest::mouseClick(child<QPushButton>(m_tab.get(), "copyTable"), Qt::LeftButton);
        QCOMPARE(QGuiApplication::clipboard()->text(),
                 QStringLiteral("Window (UTC)\tc2\tc1\tc3\n2024-03-01\t1.5\t0.3\t0\n2024-03-02\t0\t2\t0.25\n"
                                "2024-03-03\t3.75\t0\t0\n"));
    }

    void chartRendersAndExportsPng()
    {
        setControls(m_tab.get(), Function::Sum, QStringLiteral("calls"), Window::Day, QStringLiteral("UTC"), 1, 4);
        settle(m_tab.get());
        QVERIFY(m_tab->chartView()->isVisible());
        const QPixmap grabbed = m_tab->chartView()->grab();
        QVERIFY(!grabbed.isNull());
        QVERIFY(grabbed.width() > 300 && grabbed.height() > 150);
        QVERIFY2(distinctColours(grabbed.toImage()) > 20, "the chart is one flat colour");
        // The series colours are drawn (c3's blue line, c1's orange).
        const QImage image = grabbed.toImage();
        bool blue = false;
        for (int y = 0; y < image.height() && !blue; ++y)
            for (int x = 0; x < image.width() && !blue; ++x)
                blue = qAbs(QColor(image.pixel(x, y)).hue() - QColor(0x4e79a7).hue()) < 6
                    && QColor(image.pixel(x, y)).saturation() > 80;
        QVERIFY(blue);

        const QString path = m_dir.filePath(QStringLiteral("chart.png"));
        QString error;
        QVERIFY2(m_tab->exportPng(path, &error), qPrintable(error));
        QImage png(path);
        QVERIFY(!png.isNull());
        QVERIFY(QFileInfo(path).size() > 1000);
        QCOMPARE(png.size(), grabbed.size());
        QVERIFY(distinctColours(png) > 20);
    }

    void liveRowsUpdateTheChartOnTheEventPage()
    {
        QString error;
        auto ws = Workspace::open(m_db, &error);
        QVERIFY2(ws, qPrintable(error));
        WorkspaceService service(std::move(ws));
        EventPage page(&service);
        page.resize(1000, 700);
        page.showEvent(m_def.slug);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        auto *tabs = page.findChild<QTabWidget *>();
        const int chartIndex = tabs->indexOf(page.chartTab());
        QCOMPARE(tabs->tabText(chartIndex), QStringLiteral("Chart"));
        QCOMPARE(tabs->tabText(chartIndex - 1), QStringLiteral("Rejected"));
        ChartTab *tab = page.chartTab();
        QVERIFY(!tab->isVisible());
        QVERIFY(!tab->isBusy()); // nothing computed while the tab is hidden
        tabs->setCurrentWidget(tab);
        QVERIFY(tab->isBusy());
        settle(tab);
        auto *zone = child<QComboBox>(tab, "chartZone");
        zone->setCurrentIndex(zone->findText(QStringLiteral("UTC")));
        settle(tab);
        QCOMPARE(tab->model()->result().customers.size(), 3);
        QCOMPARE(tab->model()->result().windowStarts.size(), 3); // all time: 1..3 March

        // A row committed by the endpoint: the chart follows within a few seconds.
        QSignalSpy updated(tab, &ChartTab::updated);
        QTest::qWait(ChartTab::LiveInterval + 100); // a sporadic row: charted without waiting
        QVERIFY(store({{"c4", 3, 12, 500, "1", "eu"}}));
        QElapsedTimer timer;
        timer.start();
        page.rowsCommitted(QStringLiteral("API_CALLS")); // slugs compare case-insensitively
        QTRY_VERIFY_WITH_TIMEOUT(tab->model()->result().customers.value(0) == QLatin1String("c4"), 5000);
        qInfo("live row charted %lld ms after the commit", timer.elapsed());
        QCOMPARE(tableText(tab->model()).at(0), QStringLiteral("c4 | c3 | c1 | c2"));
        QCOMPARE(tableText(tab->model()).at(3), QStringLiteral("2024-03-03 | 500 | 0 | 0 | 4"));
        QCOMPARE(lines(tab->chart()).first()->name(), QStringLiteral("c4"));
        QCOMPARE(lines(tab->chart()).first()->points().at(2).y(), 500.0);

        // A flood of commits: at most one run per 500 ms, never two at once.
        settle(tab);
        updated.clear();
        timer.restart();
        while (timer.elapsed() < 2000) {
            page.rowsCommitted(m_def.slug);
            QTest::qWait(20);
        }
        settle(tab);
        const qint64 elapsed = timer.elapsed();
        qInfo("%lld runs for ~%lld commits over %lld ms", qint64(updated.size()), elapsed / 20, elapsed);
        QVERIFY(updated.size() >= 2);
        QVERIFY2(updated.size() <= elapsed / ChartTab::LiveInterval + 1, qPrintable(QString::number(updated.size())));

        // Another usage event's commits leave it alone.
        updated.clear();
        page.rowsCommitted(QStringLiteral("other"));
        QTest::qWait(800);
        QCOMPARE(updated.size(), 0);
    }
};

QTEST_MAIN(TestChart)
#include "tst_chart.moc"
