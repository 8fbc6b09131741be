#include "mainwindow.h"

#include <QHeaderView>
#include <QLabel>
#include <QStatusBar>
#include <QTableWidget>
#include <QVBoxLayout>

namespace meterdesk {

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    setWindowTitle(tr("Meterdesk — Usage Events"));
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    auto *title = new QLabel(tr("<h2>Metering › Usage Events</h2>"), central);
    m_empty = new QLabel(tr("No usage events yet. A usage event is a kind of metered usage (a name, an API slug "
                            "and a data schema); Meterdesk stores every event posted to its endpoint.\n"
                            "Create one with: meterdesk events add --name \"a raw metric\" --sample sample.json"),
                         central);
    m_empty->setWordWrap(true);
    m_table = new QTableWidget(0, 4, central);
    m_table->setHorizontalHeaderLabels({tr("Name"), tr("Slug"), tr("Endpoint URL"), tr("Rows")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    layout->addWidget(title);
    layout->addWidget(m_empty);
    layout->addWidget(m_table, 1);
    setCentralWidget(central);
    m_status = new QLabel(this);
    statusBar()->addPermanentWidget(m_status);
    resize(960, 600);
}

void MainWindow::setEvents(const QList<EventRow> &rows)
{
    m_empty->setVisible(rows.isEmpty());
    m_table->setRowCount(int(rows.size()));
    for (int r = 0; r < rows.size(); ++r) {
        const EventRow &e = rows[r];
        m_table->setItem(r, 0, new QTableWidgetItem(e.name));
        m_table->setItem(r, 1, new QTableWidgetItem(e.slug));
        m_table->setItem(r, 2, new QTableWidgetItem(e.endpoint));
        auto *count = new QTableWidgetItem(QString::number(e.rows));
        count->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_table->setItem(r, 3, count);
    }
    m_table->resizeColumnsToContents();
}

void MainWindow::setEndpointStatus(const QString &text)
{
    m_status->setText(text);
}

} // namespace meterdesk
