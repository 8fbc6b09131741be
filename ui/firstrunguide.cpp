#include "firstrunguide.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace meterdesk {

FirstRunGuide::FirstRunGuide(QWidget *parent) : QDialog(parent), m_steps(StepCount)
{
    setWindowTitle(tr("Getting started"));
    setModal(false);
    auto *intro = new QLabel(tr("<h3>From nothing to a stored event in four steps</h3>"
                                "<p>Each button does the step for you with the example from Zenskar's docs; "
                                "skip any step you want to do your own way.</p>"),
                             this);
    intro->setWordWrap(true);

    const QString texts[StepCount] = {
        tr("<b>1. Define a usage event</b><br>The example <code>test_1</code> with one field, "
           "<code>cpu_usage_hours_per_day</code>."),
        tr("<b>2. Create an API key</b><br>Your application sends it with every event; "
           "the REST console will use it."),
        tr("<b>3. Send an event</b><br>The REST console sends the example event to "
           "<code>POST /usage/test_1</code>."),
        tr("<b>4. See the row</b><br>The usage event's Rows tab shows what was stored."),
    };
    const QString actions[StepCount] = {tr("Create the example"), tr("Create a key"), tr("Send from the console"),
                                        tr("Show the row")};
    auto *grid = new QGridLayout;
    for (int i = 0; i < StepCount; ++i) {
        const auto step = Step(i);
        auto *text = new QLabel(texts[i], this);
        text->setWordWrap(true);
        text->setTextFormat(Qt::RichText);
        Row &row = m_steps[i];
        row.status = new QLabel(this);
        row.status->setObjectName(QStringLiteral("stepStatus%1").arg(i + 1));
        row.status->setWordWrap(true);
        row.run = new QPushButton(actions[i], this);
        row.run->setObjectName(QStringLiteral("doStep%1").arg(i + 1));
        row.skip = new QPushButton(tr("Skip"), this);
        row.skip->setObjectName(QStringLiteral("skipStep%1").arg(i + 1));
        grid->addWidget(text, 2 * i, 0);
        grid->addWidget(row.run, 2 * i, 1);
        grid->addWidget(row.skip, 2 * i, 2);
        grid->addWidget(row.status, 2 * i + 1, 0, 1, 3);
        connect(row.run, &QPushButton::clicked, this, [this, step] { run(step); });
        connect(row.skip, &QPushButton::clicked, this, [this, step] { setState(step, State::Skipped, tr("Skipped.")); });
    }
    grid->setColumnStretch(0, 1);

    m_dontShowAgain = new QCheckBox(tr("Don't show again"), this);
    m_dontShowAgain->setObjectName(QStringLiteral("dontShowAgain"));
    m_dontShowAgain->setChecked(true);
    m_dontShowAgain->setToolTip(tr("Help › Getting started opens this guide at any time."));
    auto *buttons = new QDialogButtonBox(this);
    m_close = buttons->addButton(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *bottom = new QHBoxLayout;
    bottom->addWidget(m_dontShowAgain);
    bottom->addStretch();
    bottom->addWidget(buttons);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(grid);
    layout->addStretch();
    layout->addLayout(bottom);
    update();
    resize(560, 420);
}

int FirstRunGuide::currentStep() const
{
    for (int i = 0; i < StepCount; ++i) {
        if (m_steps[i].state != State::Done && m_steps[i].state != State::Skipped)
            return i;
    }
    return StepCount;
}

bool FirstRunGuide::dontShowAgain() const
{
    return m_dontShowAgain->isChecked();
}

QString FirstRunGuide::statusText(Step step) const
{
    return m_steps[step].status->text();
}

void FirstRunGuide::markDone(Step step, const QString &detail)
{
    setState(step, State::Done, u"✓ " + detail);
}

void FirstRunGuide::markFailed(Step step, const QString &why)
{
    setState(step, State::Failed, u"✗ " + why);
}

void FirstRunGuide::run(Step step)
{
    setState(step, State::Running, tr("Working…"));
    emit stepRequested(step);
}

void FirstRunGuide::setState(Step step, State state, const QString &detail)
{
    m_steps[step].state = state;
    m_steps[step].status->setText(detail);
    update();
}

void FirstRunGuide::update()
{
    const int current = currentStep();
    for (int i = 0; i < StepCount; ++i) {
        const Row &row = m_steps[i];
        const bool enabled = i == current && row.state != State::Running;
        row.run->setEnabled(enabled);
        row.skip->setEnabled(enabled);
        if (i == current && row.state != State::Running)
            row.run->setDefault(true);
    }
    m_close->setText(current == StepCount ? tr("Done") : tr("Close"));
}

} // namespace meterdesk
