#include "gettingstarted.h"

#include "appsettings.h"
#include "consolepage.h"
#include "desktopapp.h"
#include "firstrunguide.h"
#include "mainwindow.h"
#include "usageeventspage.h"
#include "workspaceservice.h"

#include <QStackedWidget>

#include <memory>

namespace meterdesk {

namespace {

const QString exampleSlug = QStringLiteral("test_1"); // UsageEventsPage::tryExample's

void sendExample(DesktopApp &app, FirstRunGuide *guide)
{
    ConsolePage *console = app.consolePage();
    if (!app.service().definition(exampleSlug)) {
        guide->markFailed(FirstRunGuide::SendEvent, FirstRunGuide::tr("There is no usage event %1; do step 1 first.").arg(exampleSlug));
        return;
    }
    console->newEventFor(exampleSlug);
    if (auto *pages = qobject_cast<QStackedWidget *>(console->parentWidget()))
        app.window().setCurrentPage(pages->indexOf(console));
    // One answer is this step's: the connection goes as soon as it arrives.
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = QObject::connect(console, &ConsolePage::responseShown, guide, [guide, connection](const HttpResponse &r) {
        QObject::disconnect(*connection);
        if (r.status == 201 || r.status == 200)
            guide->markDone(FirstRunGuide::SendEvent, FirstRunGuide::tr("%1 %2: the event is stored.").arg(r.status).arg(r.reason));
        else if (r.status == 0)
            guide->markFailed(FirstRunGuide::SendEvent, FirstRunGuide::tr("No answer: is the endpoint running (Settings › Endpoint)?"));
        else
            guide->markFailed(FirstRunGuide::SendEvent,
                              FirstRunGuide::tr("%1 %2: the console shows why.").arg(r.status).arg(r.reason));
    });
    console->send();
}

} // namespace

FirstRunGuide *openGettingStarted(DesktopApp &app)
{
    if (auto *open = app.window().findChild<FirstRunGuide *>()) {
        open->raise();
        open->activateWindow();
        return open;
    }
    auto *guide = new FirstRunGuide(&app.window());
    guide->setAttribute(Qt::WA_DeleteOnClose);
    QObject::connect(guide, &FirstRunGuide::stepRequested, guide, [&app, guide](FirstRunGuide::Step step) {
        switch (step) {
        case FirstRunGuide::CreateExample:
            app.showList();
            app.window().setCurrentPage(0);
            app.usageEventsPage()->tryExample();
            if (app.service().definition(exampleSlug))
                guide->markDone(step, FirstRunGuide::tr("%1 is defined; its endpoint is POST /usage/%1.").arg(exampleSlug));
            else
                guide->markFailed(step, FirstRunGuide::tr("The example was not created."));
            break;
        case FirstRunGuide::CreateKey: {
            QString error;
            const auto key = app.service().createKey(FirstRunGuide::tr("Getting started"), &error);
            if (!key) {
                guide->markFailed(step, error);
                break;
            }
            app.consolePage()->setApiKey(key->key);
            guide->markDone(step, FirstRunGuide::tr("Key “%1” created (Settings › API keys); the REST console uses it.")
                                      .arg(FirstRunGuide::tr("Getting started")));
            break;
        }
        case FirstRunGuide::SendEvent:
            sendExample(app, guide);
            break;
        case FirstRunGuide::SeeRow:
            if (!app.service().definition(exampleSlug)) {
                guide->markFailed(step, FirstRunGuide::tr("There is no usage event %1.").arg(exampleSlug));
                break;
            }
            app.openEvent(exampleSlug);
            guide->markDone(step, FirstRunGuide::tr("The Rows tab of %1 shows the stored events, newest first.").arg(exampleSlug));
            break;
        case FirstRunGuide::StepCount:
            break;
        }
    });
    QObject::connect(guide, &QDialog::finished, guide, [guide] {
        if (guide->dontShowAgain())
            AppSettings::showGettingStarted.set(false);
    });
    guide->show();
    return guide;
}

} // namespace meterdesk
