#pragma once

#include <QMainWindow>

class QTableWidget;
class QLabel;

namespace meterdesk {

// The application shell (STYLE.md: MainWindow stays a shell). Until the Usage
// Events page lands it lists the defined usage events. GUI thread only; gets
// its data as plain values from app/, never runs SQL itself.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    struct EventRow
    {
        QString name;
        QString slug;
        QString endpoint;
        qint64 rows = 0;
    };

    explicit MainWindow(QWidget *parent = nullptr);

    void setEvents(const QList<EventRow> &rows);
    void setEndpointStatus(const QString &text);

private:
    QTableWidget *m_table = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_empty = nullptr;
};

} // namespace meterdesk
