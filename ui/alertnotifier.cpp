#include "alertnotifier.h"

#include <QApplication>
#include <QMainWindow>
#include <QStatusBar>
#include <QStyle>
#include <QSystemTrayIcon>

namespace meterdesk {

AlertNotifier::AlertNotifier(QMainWindow *window, QObject *parent) : QObject(parent), m_window(window)
{
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return;
    QIcon icon = window ? window->windowIcon() : QIcon();
    if (icon.isNull())
        icon = QApplication::windowIcon();
    if (icon.isNull())
        icon = QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
    m_tray = new QSystemTrayIcon(icon, this);
    m_tray->setToolTip(tr("Meterdesk usage alerts"));
    connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] {
        if (m_window) {
            m_window->showNormal();
            m_window->raise();
            m_window->activateWindow();
        }
        emit activated();
    });
}

AlertNotifier::~AlertNotifier() = default;

void AlertNotifier::notify(const QString &title, const QString &message)
{
    ++m_count;
    m_last = title + QStringLiteral(": ") + message;
    if (m_tray) {
        m_tray->show(); // shown from the first alert on, not before
        m_tray->showMessage(title, message, QSystemTrayIcon::Warning, 15000);
    } else if (m_window) {
        m_window->statusBar()->showMessage(m_last, 15000); // over the endpoint's labels, for a while
    }
    if (m_window)
        QApplication::alert(m_window);
}

} // namespace meterdesk
