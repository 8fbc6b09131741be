#include "runnerpanel.h"

#include "eventrunner.h"
#include "throughputchart.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

namespace meterdesk {

namespace {
QSpinBox *spin(QWidget *parent, const char *name, int min, int max, int value, const QString &suffix = {})
{
    auto *box = new QSpinBox(parent);
    box->setObjectName(QLatin1String(name));
    box->setRange(min, max);
    box->setValue(value);
    box->setSuffix(suffix);
    box->setGroupSeparatorShown(true);
    return box;
}
} // namespace

RunnerPanel::RunnerPanel(QWidget *parent) : QWidget(parent)
{
    m_count = spin(this, "runCount", 1, 10'000'000, 1000);
    m_concurrency = spin(this, "runConcurrency", 1, 256, 8);
    m_rate = spin(this, "runRate", 0, 1'000'000, 0, tr(" /s"));
    m_rate->setSpecialValueText(tr("unlimited"));
    m_customers = spin(this, "runCustomers", 1, 1'000'000, 100);
    m_duplicates = spin(this, "runDuplicates", 0, 100, 0, tr(" %"));
    m_invalid = spin(this, "runInvalid", 0, 100, 0, tr(" %"));
    auto *form = new QFormLayout;
    form->addRow(tr("Events"), m_count);
    form->addRow(tr("Concurrency"), m_concurrency);
    form->addRow(tr("Rate limit"), m_rate);
    form->addRow(tr("Random customers"), m_customers);
    form->addRow(tr("Duplicates"), m_duplicates);
    form->addRow(tr("Invalid events"), m_invalid);
    auto *note = new QLabel(tr("Uses this request's URL and headers; its body's <code>data</code> is the template. "
                               "Each event gets its own timestamp and a random customer."), this);
    note->setWordWrap(true);
    form->addRow(note);

    m_start = new QPushButton(tr("Start"), this);
    m_start->setObjectName(QStringLiteral("runStart"));
    m_start->setEnabled(false);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("runProgress"));
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("runSummary"));
    m_summary->setWordWrap(true);
    m_byStatus = new QTableWidget(0, 2, this);
    m_byStatus->setObjectName(QStringLiteral("runByStatus"));
    m_byStatus->setHorizontalHeaderLabels({tr("Status"), tr("Events")});
    m_byStatus->horizontalHeader()->setStretchLastSection(true);
    m_byStatus->verticalHeader()->hide();
    m_byStatus->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_byStatus->setMaximumWidth(220);
    m_chart = new ThroughputChart(this);

    auto *left = new QVBoxLayout;
    left->addLayout(form);
    left->addWidget(m_start);
    left->addStretch();
    auto *right = new QVBoxLayout;
    right->addWidget(m_progress);
    right->addWidget(m_summary);
    auto *results = new QHBoxLayout;
    results->addWidget(m_chart, 1);
    results->addWidget(m_byStatus);
    right->addLayout(results, 1);
    auto *layout = new QHBoxLayout(this);
    layout->addLayout(left);
    layout->addLayout(right, 1);

    connect(m_start, &QPushButton::clicked, this, [this] {
        if (m_runner && m_runner->isRunning())
            stop();
        else
            emit startRequested();
    });
}

void RunnerPanel::setRunner(EventRunner *runner)
{
    m_runner = runner;
    m_start->setEnabled(runner != nullptr);
    connect(runner, &EventRunner::progress, this, &RunnerPanel::showStats);
    connect(runner, &EventRunner::finished, this, [this](const RunStats &stats) {
        showStats(stats);
        m_start->setText(tr("Start"));
    });
}

RunConfig RunnerPanel::config() const
{
    RunConfig c;
    c.count = m_count->value();
    c.concurrency = m_concurrency->value();
    c.ratePerSecond = m_rate->value();
    c.customers = m_customers->value();
    c.duplicatePercent = m_duplicates->value();
    c.invalidPercent = m_invalid->value();
    return c;
}

void RunnerPanel::setConfig(const RunConfig &c)
{
    m_count->setValue(c.count);
    m_concurrency->setValue(c.concurrency);
    m_rate->setValue(c.ratePerSecond);
    m_customers->setValue(c.customers);
    m_duplicates->setValue(c.duplicatePercent);
    m_invalid->setValue(c.invalidPercent);
}

void RunnerPanel::start(const HttpRequest &request)
{
    if (!m_runner || m_runner->isRunning())
        return;
    const RunConfig c = config();
    if (c.duplicatePercent + c.invalidPercent > 100) {
        m_summary->setText(tr("Duplicates and invalid events add up to more than 100 %."));
        return;
    }
    m_stats = {};
    m_progress->setRange(0, c.count);
    m_progress->setValue(0);
    m_byStatus->setRowCount(0);
    m_chart->setSeconds({});
    m_summary->setText(tr("Starting…"));
    m_start->setText(tr("Stop"));
    m_runner->start(request, c);
}

void RunnerPanel::stop()
{
    if (m_runner)
        m_runner->stop();
}

void RunnerPanel::showStats(const RunStats &stats)
{
    m_stats = stats;
    m_progress->setValue(int(std::min<qint64>(stats.completed, m_progress->maximum())));
    QString text = tr("%1 of %2 answered in %3 s · %4 events/s")
                       .arg(stats.completed)
                       .arg(m_progress->maximum())
                       .arg(stats.elapsedS, 0, 'f', 1)
                       .arg(stats.eventsPerSecond(), 0, 'f', 0);
    if (stats.networkErrors)
        text += tr(" · %n lost to network errors", nullptr, int(stats.networkErrors));
    if (!stats.error.isEmpty())
        text = tr("Stopped: %1").arg(stats.error);
    else if (stats.stopped)
        text += tr(" · stopped");
    else if (stats.finished)
        text += tr(" · done");
    m_summary->setText(text);
    m_byStatus->setRowCount(int(stats.byStatus.size()));
    int row = 0;
    for (auto it = stats.byStatus.cbegin(); it != stats.byStatus.cend(); ++it, ++row) {
        m_byStatus->setItem(row, 0, new QTableWidgetItem(QString::number(it.key())));
        m_byStatus->setItem(row, 1, new QTableWidgetItem(QString::number(it.value())));
    }
    m_chart->setSeconds(stats.seconds);
}

} // namespace meterdesk
