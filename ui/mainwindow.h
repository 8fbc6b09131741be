#pragma once

#include <QKeySequence>
#include <QMainWindow>

class QAction;
class QLabel;
class QListWidget;
class QMenu;
class QStackedWidget;

namespace meterdesk {

// The application shell (STYLE.md): a sidebar, a stack of pages, a status bar with
// the endpoint URL, its state and events/s. Pages are built and wired in app/;
// this class knows none of them. GUI thread.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);

    // Adds a page under a sidebar entry; Ctrl+<n> (n = its position) shows it.
    int addPage(const QString &title, QWidget *page);
    void setCurrentPage(int index);
    int currentPage() const;
    // Adds an entry to the File menu, above Quit; app/ connects it.
    QAction *addFileAction(const QString &text, const QKeySequence &shortcut = {});
    // Adds an entry to the Help menu (created with the first entry); app/ connects it.
    QAction *addHelpAction(const QString &text, const QKeySequence &shortcut = {});

    void setEndpointState(bool running, const QString &url, const QString &detail = {});
    void setEventsPerSecond(double rate);

signals:
    void currentPageChanged(int index);

private:
    QListWidget *m_sidebar = nullptr;
    QStackedWidget *m_pages = nullptr;
    QLabel *m_url = nullptr;
    QLabel *m_state = nullptr;
    QLabel *m_rate = nullptr;
    QMenu *m_file = nullptr;
    QAction *m_fileEnd = nullptr; // the separator above Quit
    QMenu *m_help = nullptr;
};

} // namespace meterdesk
