#pragma once

namespace meterdesk {

class DesktopApp;
class FirstRunGuide;

// Opens the Getting started guide (ui/firstrunguide.h) over the app's window, its
// steps done with the app's own pieces: UsageEventsPage::tryExample,
// WorkspaceService::createKey (the key goes to the REST console), ConsolePage::
// newEventFor + send, DesktopApp::openEvent. Closing it with "Don't show again"
// checked records AppSettings::showGettingStarted = false. Shown, never exec()'d;
// deletes itself on close. GUI thread.
FirstRunGuide *openGettingStarted(DesktopApp &app);

} // namespace meterdesk
