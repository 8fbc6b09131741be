#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

class QMainWindow;
class QSystemTrayIcon;

namespace meterdesk {

// Desktop notifications of usage alerts: a system-tray message when the desktop
// has a tray, else a status-bar message in the window (desktops without a tray,
// the offscreen platform); the window asks for attention either way. Clicking the tray
// message brings the window up. GUI thread.
class AlertNotifier : public QObject
{
    Q_OBJECT
public:
    explicit AlertNotifier(QMainWindow *window, QObject *parent = nullptr);
    ~AlertNotifier() override;

    void notify(const QString &title, const QString &message);

    bool usesTray() const { return m_tray != nullptr; }
    int count() const { return m_count; }
    QString lastMessage() const { return m_last; }

signals:
    void activated(); // the user clicked the notification

private:
    QPointer<QMainWindow> m_window;
    QSystemTrayIcon *m_tray = nullptr;
    int m_count = 0;
    QString m_last;
};

} // namespace meterdesk
