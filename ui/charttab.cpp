#include "charttab.h"

#include "aggregatemodel.h"

#include <QAction>
#include <QBarSeries>
#include <QBarSet>
#include <QBarCategoryAxis>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QClipboard>
#include <QComboBox>
#include <QCompleter>
#include <QCursor>
#include <QDateTimeEdit>
#include <QFile>
#include <QFileDialog>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegend>
#include <QLineEdit>
#include <QLineSeries>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QTableView>
#include <QTimer>
#include <QToolTip>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace meterdesk {

namespace {
using Aggregate::Function;
using Aggregate::Window;

bool isNumber(FieldType t)
{
    return t == FieldType::Integer || t == FieldType::Float || t == FieldType::Decimal;
}

// Tableau 10, then lighter tints: distinct lines for the top customers.
const QList<QColor> &seriesColours()
{
    static const QList<QColor> colours = {
        QColor(0x4e79a7), QColor(0xf28e2b), QColor(0xe15759), QColor(0x76b7b2), QColor(0x59a14f),
        QColor(0xedc948), QColor(0xb07aa1), QColor(0xff9da7), QColor(0x9c755f), QColor(0x5f6b78),
        QColor(0xa0cbe8), QColor(0xffbe7d), QColor(0xff9d9a), QColor(0x86bcb6), QColor(0x8cd17d),
        QColor(0xf1ce63), QColor(0xd4a6c8), QColor(0xfabfd2), QColor(0xd7b5a6), QColor(0xbab0ac)};
    return colours;
}

QLabel *caption(const QString &text, QWidget *parent)
{
    auto *l = new QLabel(text, parent);
    l->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return l;
}
} // namespace

ChartTab::ChartTab(const QString &location, QWidget *parent)
    : QWidget(parent), m_model(new AggregateModel(location, this)), m_debounce(new QTimer(this)), m_live(new QTimer(this))
{
    m_field = new QComboBox(this);
    m_field->setObjectName(QStringLiteral("chartField"));
    m_field->setToolTip(tr("The data field to aggregate; (rows) counts events"));
    m_function = new QComboBox(this);
    m_function->setObjectName(QStringLiteral("chartFunction"));
    for (Function fn : {Function::Sum, Function::Count, Function::Min, Function::Max, Function::Avg,
                        Function::UniqueCount, Function::Latest})
        m_function->addItem(Aggregate::functionTitle(fn), int(fn));
    m_window = new QComboBox(this);
    m_window->setObjectName(QStringLiteral("chartWindow"));
    m_window->addItem(tr("hour"), int(Window::Hour));
    m_window->addItem(tr("day"), int(Window::Day));
    m_window->addItem(tr("month"), int(Window::Month));
    m_zone = new QComboBox(this);
    m_zone->setObjectName(QStringLiteral("chartZone"));
    m_zone->setEditable(true);
    m_zone->setInsertPolicy(QComboBox::NoInsert);
    m_zone->setMinimumContentsLength(16);
    for (const QByteArray &id : QTimeZone::availableTimeZoneIds())
        m_zone->addItem(QString::fromUtf8(id));
    m_zone->completer()->setFilterMode(Qt::MatchContains);
    m_zone->completer()->setCaseSensitivity(Qt::CaseInsensitive);
    m_zone->completer()->setCompletionMode(QCompleter::PopupCompletion);
    m_zone->setToolTip(tr("Windows start at midnight (or the hour, the 1st) in this time zone"));

    m_range = new QComboBox(this);
    m_range->setObjectName(QStringLiteral("chartRange"));
    m_range->addItem(tr("Last 24 hours"), int(Range::Last24Hours));
    m_range->addItem(tr("Last 7 days"), int(Range::Last7Days));
    m_range->addItem(tr("Last 30 days"), int(Range::Last30Days));
    m_range->addItem(tr("This month"), int(Range::ThisMonth));
    m_range->addItem(tr("Last 12 months"), int(Range::Last12Months));
    m_range->addItem(tr("All time"), int(Range::AllTime));
    m_range->addItem(tr("Custom"), int(Range::Custom));
    m_from = new QDateTimeEdit(this);
    m_from->setObjectName(QStringLiteral("chartFrom"));
    m_to = new QDateTimeEdit(this);
    m_to->setObjectName(QStringLiteral("chartTo"));
    for (QDateTimeEdit *e : {m_from, m_to}) {
        e->setCalendarPopup(true);
        e->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm"));
    }
    m_to->setToolTip(tr("Exclusive: the range ends just before this time"));
    // Until a run shows the range it covers: the last 7 days.
    m_to->setDateTime(QDateTime(QDate::currentDate().addDays(1), QTime(0, 0)));
    m_from->setDateTime(QDateTime(QDate::currentDate().addDays(-6), QTime(0, 0)));
    m_customers = new QComboBox(this);
    m_customers->setObjectName(QStringLiteral("chartCustomers"));
    m_customers->addItem(tr("All customers"), int(Customers::All));
    m_customers->addItem(tr("Top"), int(Customers::Top));
    m_customers->addItem(tr("Picked"), int(Customers::Picked));
    m_topN = new QSpinBox(this);
    m_topN->setObjectName(QStringLiteral("chartTopN"));
    m_topN->setRange(1, 1000);
    m_topN->setValue(10);
    m_topN->setToolTip(tr("The customers with the largest totals in the range"));
    m_picked = new QLineEdit(this);
    m_picked->setObjectName(QStringLiteral("chartPicked"));
    m_picked->setPlaceholderText(tr("customer ids, comma-separated"));
    m_picked->setClearButtonEnabled(true);
    m_busy = new QProgressBar(this);
    m_busy->setObjectName(QStringLiteral("chartBusy"));
    m_busy->setRange(0, 0);
    m_busy->setMaximumWidth(90);
    m_busy->setTextVisible(false);
    m_busy->hide();

    auto *what = new QHBoxLayout;
    what->addWidget(m_function);
    what->addWidget(new QLabel(tr("of"), this));
    what->addWidget(m_field, 2);
    what->addWidget(caption(tr("per"), this));
    what->addWidget(m_window);
    what->addWidget(caption(tr("in"), this));
    what->addWidget(m_zone, 1);
    what->addWidget(caption(tr("for"), this));
    what->addWidget(m_customers);
    what->addWidget(m_topN);
    what->addWidget(m_picked, 1);
    auto *when = new QHBoxLayout;
    when->addWidget(new QLabel(tr("Range"), this));
    when->addWidget(m_range);
    when->addWidget(m_from);
    when->addWidget(caption(tr("to"), this));
    when->addWidget(m_to);
    when->addStretch(1);
    when->addWidget(m_busy);

    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("chartError"));
    m_error->setStyleSheet(QStringLiteral("color: #d32f2f"));
    m_error->setWordWrap(true);
    m_error->hide();

    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->setMargins(QMargins(4, 4, 28, 4)); // room for the last window's label
    m_view = new QChartView(m_chart, this);
    m_view->setObjectName(QStringLiteral("chartView"));
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMinimumHeight(220);
    m_empty = new QLabel(this);
    m_empty->setObjectName(QStringLiteral("chartEmpty"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setStyleSheet(QStringLiteral("color: palette(placeholder-text); font-size: 14px"));
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_view);
    m_stack->addWidget(m_empty);
    m_stack->setCurrentWidget(m_empty);

    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("chartTable"));
    m_table->setModel(m_model);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 8);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_stack);
    splitter->addWidget(m_table);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);
    splitter->setSizes({640, 260}); // the chart first; the table scrolls

    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("chartSummary"));
    m_copy = new QPushButton(tr("Copy table"), this);
    m_copy->setObjectName(QStringLiteral("copyTable"));
    m_exportCsv = new QPushButton(tr("Export CSV…"), this);
    m_exportCsv->setObjectName(QStringLiteral("exportCsv"));
    m_exportPng = new QPushButton(tr("Export PNG…"), this);
    m_exportPng->setObjectName(QStringLiteral("exportPng"));
    for (QPushButton *b : {m_copy, m_exportCsv, m_exportPng})
        b->setEnabled(false);
    auto *bottom = new QHBoxLayout;
    bottom->addWidget(m_summary, 1);
    bottom->addWidget(m_copy);
    bottom->addWidget(m_exportCsv);
    bottom->addWidget(m_exportPng);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(what);
    layout->addLayout(when);
    layout->addWidget(m_error);
    layout->addWidget(splitter, 1);
    layout->addLayout(bottom);

    auto *copy = new QAction(tr("Copy"), this);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_table->addAction(copy);
    connect(copy, &QAction::triggered, this, &ChartTab::copyTable);
    connect(m_copy, &QPushButton::clicked, this, [this] {
        m_table->clearSelection();
        copyTable();
    });
    connect(m_exportCsv, &QPushButton::clicked, this, &ChartTab::onExportCsv);
    connect(m_exportPng, &QPushButton::clicked, this, &ChartTab::onExportPng);

    m_debounce->setSingleShot(true);
    m_debounce->setInterval(30); // several controls changed by one action: one run
    connect(m_debounce, &QTimer::timeout, this, &ChartTab::runNow);
    m_live->setSingleShot(true);
    m_live->setTimerType(Qt::PreciseTimer); // a coarse timer may fire 5 % early
    connect(m_live, &QTimer::timeout, this, &ChartTab::liveTick);

    connect(m_field, &QComboBox::currentIndexChanged, this, [this] {
        updateFunctions();
        rerun();
    });
    for (QComboBox *c : {m_function, m_window, m_range})
        connect(c, &QComboBox::currentIndexChanged, this, &ChartTab::rerun);
    connect(m_zone, &QComboBox::currentIndexChanged, this, &ChartTab::rerun);
    connect(m_zone->lineEdit(), &QLineEdit::editingFinished, this, &ChartTab::rerun);
    connect(m_customers, &QComboBox::currentIndexChanged, this, [this] {
        updateCustomerControls();
        rerun();
    });
    connect(m_topN, &QSpinBox::valueChanged, this, &ChartTab::rerun);
    connect(m_picked, &QLineEdit::editingFinished, this, &ChartTab::rerun);
    for (QDateTimeEdit *e : {m_from, m_to})
        connect(e, &QDateTimeEdit::dateTimeChanged, this, [this] {
            // The user moved a bound: the range is custom from now on.
            const QSignalBlocker block(m_range);
            m_range->setCurrentIndex(m_range->findData(int(Range::Custom)));
            rerun();
        });

    connect(m_model, &AggregateModel::runningChanged, m_busy, &QWidget::setVisible);
    connect(m_model, &AggregateModel::finished, this, &ChartTab::showResult);
    connect(m_model, &AggregateModel::failed, this, &ChartTab::showFailure);
    updateCustomerControls();
}

ChartTab::~ChartTab() = default;

void ChartTab::showDefinition(const UsageEventDefinition &definition)
{
    if (definition.slug == m_definition.slug && definition.schema == m_definition.schema)
        return;
    if (!m_definition.slug.isEmpty())
        m_choicesBySlug.insert(m_definition.slug, choices());
    m_definition = definition;
    Choices c = m_choicesBySlug.value(definition.slug);
    if (c.zone.isEmpty())
        c.zone = QString::fromUtf8(QTimeZone::systemTimeZoneId());
    m_restoring = true;
    fillFields();
    applyChoices(c);
    m_restoring = false;
    m_error->hide();
    rerun();
}

void ChartTab::fillFields()
{
    const QSignalBlocker block(m_field);
    m_field->clear();
    const QList<SchemaField> &fields = m_definition.schema.fields;
    for (bool numbers : {true, false})
        for (const SchemaField &f : fields)
            if (isNumber(f.type) == numbers)
                m_field->addItem(tr("%1 (%2)").arg(f.path, FieldTypes::name(f.type)), f.path);
    if (m_field->count() > 0)
        m_field->insertSeparator(m_field->count());
    m_field->addItem(tr("(rows)"), QString());
    m_field->setItemData(m_field->count() - 1, tr("Every stored event: COUNT of rows"), Qt::ToolTipRole);
}

void ChartTab::applyChoices(const Choices &c)
{
    int field = c.fieldSet ? m_field->findData(c.field) : -1;
    if (field < 0) {
        // The first number, or (rows).
        const SchemaField *first = nullptr;
        for (const SchemaField &f : m_definition.schema.fields)
            if (!first && isNumber(f.type))
                first = &f;
        field = m_field->findData(first ? first->path : QString());
    }
    {
        const QSignalBlocker b1(m_field), b2(m_function), b3(m_window), b4(m_range), b5(m_customers), b6(m_topN),
            b7(m_zone), b8(m_from), b9(m_to);
        m_field->setCurrentIndex(field);
        m_function->setCurrentIndex(m_function->findData(int(c.function)));
        m_window->setCurrentIndex(m_window->findData(int(c.window)));
        if (m_zone->findText(c.zone) < 0)
            m_zone->addItem(c.zone);
        m_zone->setCurrentText(c.zone);
        m_range->setCurrentIndex(m_range->findData(int(c.range)));
        m_customers->setCurrentIndex(m_customers->findData(int(c.customers)));
        m_topN->setValue(c.topN);
        m_picked->setText(c.picked);
    }
    updateFunctions();
    updateCustomerControls();
}

ChartTab::Choices ChartTab::choices() const
{
    Choices c;
    c.field = m_field->currentData().toString();
    c.fieldSet = true;
    c.function = Function(m_function->currentData().toInt());
    c.window = Window(m_window->currentData().toInt());
    c.zone = m_zone->currentText().trimmed();
    c.range = Range(m_range->currentData().toInt());
    c.customers = Customers(m_customers->currentData().toInt());
    c.topN = m_topN->value();
    c.picked = m_picked->text();
    return c;
}

void ChartTab::updateFunctions()
{
    auto *items = qobject_cast<QStandardItemModel *>(m_function->model());
    const QString field = m_field->currentData().toString();
    for (int i = 0; i < m_function->count(); ++i) {
        QString why;
        const bool ok = Aggregate::accepts(m_definition, field, Function(m_function->itemData(i).toInt()), &why);
        QStandardItem *item = items->item(i);
        item->setEnabled(ok);
        item->setToolTip(ok ? QString() : why);
    }
    if (!items->item(m_function->currentIndex()) || !items->item(m_function->currentIndex())->isEnabled()) {
        // The field cannot take the current function: SUM for a number, else COUNT.
        const QSignalBlocker block(m_function);
        const int sum = m_function->findData(int(Function::Sum));
        m_function->setCurrentIndex(items->item(sum)->isEnabled() ? sum : m_function->findData(int(Function::Count)));
    }
}

void ChartTab::updateCustomerControls()
{
    const auto mode = Customers(m_customers->currentData().toInt());
    m_topN->setVisible(mode == Customers::Top);
    m_picked->setVisible(mode == Customers::Picked);
}

Aggregate::Query ChartTab::currentQuery() const
{
    Aggregate::Query q;
    q.definition = m_definition;
    q.field = m_field->currentData().toString();
    q.function = Function(m_function->currentData().toInt());
    q.window = Window(m_window->currentData().toInt());
    q.zone = QTimeZone(m_zone->currentText().trimmed().toUtf8());
    switch (Customers(m_customers->currentData().toInt())) {
    case Customers::All: break;
    case Customers::Top: q.topN = m_topN->value(); break;
    case Customers::Picked:
        for (const QString &id : m_picked->text().split(u','))
            if (!id.trimmed().isEmpty())
                q.customers.append(id.trimmed());
        break;
    }
    if (!q.zone.isValid())
        return q;
    // Presets are whole windows ending with the current one: "last 7 days" per day
    // is today and the six days before it, in the chosen zone.
    const qint64 now = QDateTime::currentMSecsSinceEpoch() * 1000;
    const qint64 end = Aggregate::nextWindowStart(Aggregate::windowStart(now, q.window, q.zone), q.window, q.zone);
    const QDateTime endTime = QDateTime::fromMSecsSinceEpoch(end / 1000, q.zone);
    auto startAt = [&](const QDateTime &t) { return Aggregate::windowStart(t.toMSecsSinceEpoch() * 1000, q.window, q.zone); };
    q.toUs = end;
    switch (Range(m_range->currentData().toInt())) {
    case Range::Last24Hours: q.fromUs = startAt(endTime.addSecs(qint64(-24) * 3600)); break;
    case Range::Last7Days: q.fromUs = startAt(endTime.addDays(-7)); break;
    case Range::Last30Days: q.fromUs = startAt(endTime.addDays(-30)); break;
    case Range::Last12Months: q.fromUs = startAt(endTime.addMonths(-12)); break;
    case Range::ThisMonth:
        q.fromUs = Aggregate::windowStart(now, Window::Month, q.zone);
        q.toUs = Aggregate::nextWindowStart(q.fromUs, Window::Month, q.zone);
        break;
    case Range::AllTime: q.fromUs = q.toUs = 0; break; // the model finds the table's span
    case Range::Custom:
        q.fromUs = QDateTime(m_from->date(), m_from->time(), q.zone).toMSecsSinceEpoch() * 1000;
        q.toUs = QDateTime(m_to->date(), m_to->time(), q.zone).toMSecsSinceEpoch() * 1000;
        break;
    }
    return q;
}

bool ChartTab::isBusy() const
{
    return m_model->isRunning() || m_debounce->isActive() || m_live->isActive();
}

void ChartTab::rerun()
{
    if (m_restoring || m_definition.slug.isEmpty())
        return;
    if (!isVisible()) {
        m_stale = true; // computed when the tab is shown
        return;
    }
    m_debounce->start();
}

void ChartTab::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_stale)
        rerun();
}

void ChartTab::rowsCommitted()
{
    scheduleLive();
}

void ChartTab::scheduleLive()
{
    // At once when the last run started long enough ago, else when LiveInterval has
    // passed since it: sporadic events show at once, a flood at most twice a second.
    if (m_live->isActive())
        return;
    const qint64 since = m_sinceRun.isValid() ? m_sinceRun.elapsed() : qint64(LiveInterval);
    m_live->start(int(std::max<qint64>(0, LiveInterval - since)));
}

void ChartTab::liveTick()
{
    if (!isVisible()) {
        m_stale = true;
        return;
    }
    if (m_model->isRunning()) {
        m_liveAgain = true; // once this run answers
        return;
    }
    runNow();
}

void ChartTab::runNow()
{
    if (m_definition.slug.isEmpty())
        return;
    m_stale = false;
    m_liveAgain = false;
    m_sinceRun.start();
    const Aggregate::Query q = currentQuery();
    if (!q.zone.isValid()) {
        showFailure(tr("Unknown time zone “%1”: pick one from the list.").arg(m_zone->currentText()));
        return;
    }
    m_choicesBySlug.insert(m_definition.slug, choices());
    m_model->run(q, Range(m_range->currentData().toInt()) == Range::AllTime);
}

void ChartTab::showResult()
{
    m_error->hide();
    const Aggregate::Query &q = m_model->query();
    const Aggregate::Result &r = m_model->result();
    if (q.toUs > q.fromUs) {
        // Show the range the numbers cover (a preset's, or all time's).
        const QSignalBlocker b1(m_from), b2(m_to);
        const QDateTime from = QDateTime::fromMSecsSinceEpoch(q.fromUs / 1000, q.zone);
        const QDateTime to = QDateTime::fromMSecsSinceEpoch(q.toUs / 1000, q.zone);
        m_from->setDateTime(QDateTime(from.date(), from.time()));
        m_to->setDateTime(QDateTime(to.date(), to.time()));
    }
    const QLocale locale;
    m_summary->setText(m_model->isEmpty() ? QString()
                                          : tr("%1 rows · %2 customers · %3 windows")
                                                .arg(locale.toString(r.rowsScanned), locale.toString(r.customers.size()),
                                                     locale.toString(r.windowStarts.size())));
    rebuildChart();
    m_table->resizeColumnsToContents();
    for (int c = 0; c < m_model->columnCount(); ++c)
        m_table->setColumnWidth(c, std::clamp(m_table->columnWidth(c), 70, 260));
    for (QPushButton *b : {m_copy, m_exportCsv, m_exportPng})
        b->setEnabled(!m_model->isEmpty());
    if (m_liveAgain)
        scheduleLive();
    emit updated();
}

void ChartTab::showFailure(const QString &error)
{
    m_error->setText(error);
    m_error->show();
    m_summary->clear();
    rebuildChart();
    for (QPushButton *b : {m_copy, m_exportCsv, m_exportPng})
        b->setEnabled(false);
    if (m_liveAgain)
        scheduleLive();
}

QString ChartTab::chartTitle() const
{
    const Aggregate::Query &q = m_model->query();
    const QString what = q.field.isEmpty() ? tr("rows") : q.field;
    return tr("%1 of %2 per %3 (%4)")
        .arg(Aggregate::functionTitle(q.function), what, Aggregate::windowName(q.window), QString::fromUtf8(q.zone.id()));
}

void ChartTab::rebuildChart()
{
    m_chart->removeAllSeries();
    for (QAbstractAxis *axis : m_chart->axes()) {
        m_chart->removeAxis(axis);
        delete axis;
    }
    const Aggregate::Query &q = m_model->query();
    const Aggregate::Result &r = m_model->result();
    if (m_model->isEmpty() || r.windowStarts.isEmpty()) {
        m_empty->setText(m_error->isVisible() ? tr("No chart: see the problem above.")
                                              : tr("No rows in this range — send events or widen the range."));
        m_stack->setCurrentWidget(m_empty);
        return;
    }
    if (!Aggregate::isNumeric(q.definition, q.field, q.function)) {
        m_empty->setText(tr("%1 of a text field is not a number: the values are in the table below.")
                             .arg(Aggregate::functionTitle(q.function)));
        m_stack->setCurrentWidget(m_empty);
        return;
    }
    m_stack->setCurrentWidget(m_view);
    m_chart->setTitle(chartTitle());
    const int windows = int(r.windowStarts.size());
    const int series = std::min(int(r.customers.size()), int(MaxSeries));
    const bool zero = AggregateModel::zeroWhenEmpty(q.function);
    double low = 0, high = 0;
    auto value = [&](int c, int w) -> std::optional<double> {
        if (const Aggregate::Cell *cell = m_model->cell(c, w))
            return cell->number;
        return zero ? std::optional<double>(0.0) : std::nullopt;
    };
    QList<QAbstractSeries *> all;
    if (windows == 1) {
        // One window (e.g. this month per month): a bar per customer.
        auto *bars = new QBarSeries;
        for (int c = 0; c < series; ++c) {
            auto *set = new QBarSet(r.customers[c]);
            const double v = value(c, 0).value_or(0);
            low = std::min(low, v);
            high = std::max(high, v);
            set->append(v);
            set->setColor(seriesColours()[c % seriesColours().size()]);
            bars->append(set);
        }
        connect(bars, &QBarSeries::hovered, this, [](bool on, int, QBarSet *set) {
            if (on)
                QToolTip::showText(QCursor::pos(), QStringLiteral("%1: %2").arg(set->label()).arg(set->at(0), 0, 'g', 15));
        });
        m_chart->addSeries(bars);
        auto *x = new QBarCategoryAxis;
        x->append(m_model->windowLabel(r.windowStarts.first()));
        m_chart->addAxis(x, Qt::AlignBottom);
        bars->attachAxis(x);
        all.append(bars);
    } else {
        // x is the window's start (ms since the epoch); labels name windows in the
        // query's zone, placed exactly on a window's start (an evenly spaced date axis
        // would put "Feb" a day before February begins).
        const int stride = std::max(1, int(std::ceil((windows - 1) / 7.0)));
        auto *x = new QCategoryAxis;
        x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
        const double first = double(r.windowStarts.first()) / 1000;
        const double last = double(r.windowStarts.last()) / 1000;
        const double pad = (last - first) / (windows - 1) / 3; // the first and last points whole
        x->setStartValue(first - pad);
        for (int w = 0; w < windows; w += stride)
            x->append(m_model->windowLabel(r.windowStarts[w]), double(r.windowStarts[w]) / 1000);
        x->setRange(first - pad, last + pad);
        x->setGridLineVisible(true);
        m_chart->addAxis(x, Qt::AlignBottom);
        for (int c = 0; c < series; ++c) {
            auto *line = new QLineSeries;
            line->setName(r.customers[c]);
            QList<QPointF> points;
            for (int w = 0; w < windows; ++w) {
                if (const auto v = value(c, w)) {
                    points.append({double(r.windowStarts[w]) / 1000, *v});
                    low = std::min(low, *v);
                    high = std::max(high, *v);
                }
            }
            line->replace(points);
            line->setPen(QPen(seriesColours()[c % seriesColours().size()], 2));
            line->setPointsVisible(windows <= 62);
            connect(line, &QLineSeries::hovered, this, [this, c](const QPointF &p, bool on) {
                // The window nearest the cursor, with its exact value.
                const QList<qint64> &starts = m_model->result().windowStarts;
                if (!on || starts.isEmpty() || c >= m_model->result().customers.size())
                    return;
                const qint64 us = qint64(p.x()) * 1000;
                auto it = std::lower_bound(starts.begin(), starts.end(), us);
                if (it == starts.end() || (it != starts.begin() && us - *(it - 1) < *it - us))
                    --it;
                const int w = int(it - starts.begin());
                QToolTip::showText(QCursor::pos(), tr("%1\n%2: %3")
                                                       .arg(m_model->result().customers[c], m_model->windowLabel(*it),
                                                            m_model->valueText(c, w)));
            });
            m_chart->addSeries(line);
            line->attachAxis(x);
            all.append(line);
        }
    }
    auto *y = new QValueAxis;
    y->setRange(low, high > low ? high : low + 1);
    y->applyNiceNumbers();
    const double step = (y->max() - y->min()) / std::max(1, y->tickCount() - 1);
    const int decimals = step >= 1 ? 0 : std::min(6, int(std::ceil(-std::log10(step))));
    y->setLabelFormat(QStringLiteral("%.") + QString::number(decimals) + QStringLiteral("f"));
    m_chart->addAxis(y, Qt::AlignLeft);
    for (QAbstractSeries *s : std::as_const(all))
        s->attachAxis(y);
    m_chart->legend()->setVisible(true);
    if (r.customers.size() > MaxSeries)
        m_summary->setText(m_summary->text()
                           + tr(" · the chart shows the top %1; the table has every customer").arg(MaxSeries));
}

void ChartTab::copyTable()
{
    const QModelIndexList cells = m_table->selectionModel() ? m_table->selectionModel()->selectedIndexes() : QModelIndexList{};
    QGuiApplication::clipboard()->setText(m_model->toTsv(cells));
}

bool ChartTab::exportCsv(const QString &path, QString *error) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(m_model->toCsv()) < 0 || !file.commit()) {
        if (error)
            *error = file.errorString();
        return false;
    }
    return true;
}

bool ChartTab::exportPng(const QString &path, QString *error) const
{
    const QPixmap picture = m_view->grab();
    if (picture.isNull() || !picture.save(path, "PNG")) {
        if (error)
            *error = tr("Could not write %1").arg(path);
        return false;
    }
    return true;
}

void ChartTab::onExportCsv()
{
    const Aggregate::Query &q = m_model->query();
    const QString name = QStringLiteral("%1-%2-%3-per-%4.csv")
                             .arg(q.definition.slug, Aggregate::functionName(q.function),
                                  q.field.isEmpty() ? QStringLiteral("rows") : q.field, Aggregate::windowName(q.window));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export CSV"), name, tr("CSV files (*.csv)"));
    QString error;
    if (!path.isEmpty() && !exportCsv(path, &error)) {
        m_error->setText(tr("Not exported: %1").arg(error));
        m_error->show();
    }
}

void ChartTab::onExportPng()
{
    const Aggregate::Query &q = m_model->query();
    const QString name = QStringLiteral("%1-%2-per-%3.png")
                             .arg(q.definition.slug, Aggregate::functionName(q.function), Aggregate::windowName(q.window));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export PNG"), name, tr("PNG images (*.png)"));
    QString error;
    if (!path.isEmpty() && !exportPng(path, &error)) {
        m_error->setText(tr("Not exported: %1").arg(error));
        m_error->show();
    }
}

} // namespace meterdesk
