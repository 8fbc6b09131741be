#pragma once

#include <QDialog>
#include <QList>

class QCheckBox;
class QLabel;
class QPushButton;

namespace meterdesk {

// Getting started: four steps from an empty workspace to a stored event — create
// the example usage event, create an API key, send the example event from the REST
// console, see the row. Each step has a button that asks app/ to do it
// (stepRequested) and a Skip; app/ reports back with markDone or markFailed. Steps
// go in order: the next one is enabled when the current one is done or skipped.
// A non-modal window (shown, never exec()'d) so the pages stay usable; "Don't show
// again" is read by app/ when it closes. Knows no service. GUI thread.
class FirstRunGuide : public QDialog
{
    Q_OBJECT
public:
    enum Step { CreateExample, CreateKey, SendEvent, SeeRow, StepCount };
    Q_ENUM(Step)
    enum class State { Pending, Running, Done, Skipped, Failed };

    explicit FirstRunGuide(QWidget *parent = nullptr);

    State state(Step step) const { return m_steps[step].state; }
    int currentStep() const; // StepCount when every step is done or skipped
    bool dontShowAgain() const;
    QPushButton *doButton(Step step) const { return m_steps[step].run; }
    QPushButton *skipButton(Step step) const { return m_steps[step].skip; }
    QString statusText(Step step) const;

public slots:
    void markDone(meterdesk::FirstRunGuide::Step step, const QString &detail);
    void markFailed(meterdesk::FirstRunGuide::Step step, const QString &why);

signals:
    void stepRequested(meterdesk::FirstRunGuide::Step step);

private:
    struct Row
    {
        State state = State::Pending;
        QPushButton *run = nullptr;
        QPushButton *skip = nullptr;
        QLabel *status = nullptr;
    };
    void run(Step step);
    void setState(Step step, State state, const QString &detail);
    void update();

    QList<Row> m_steps;
    QCheckBox *m_dontShowAgain = nullptr;
    QPushButton *m_close = nullptr;
};

} // namespace meterdesk
