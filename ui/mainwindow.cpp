#include "mainwindow.h"

#include <QAction>
#include <QApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QStackedWidget>
#include <QStatusBar>

namespace meterdesk {

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    setWindowTitle(tr("Meterdesk"));
    auto *central = new QWidget(this);
    m_sidebar = new QListWidget(central);
    m_sidebar->setObjectName(QStringLiteral("sidebar"));
    m_sidebar->setFixedWidth(220);
    m_sidebar->setStyleSheet(QStringLiteral("QListWidget::item { padding: 8px 10px; }"));
    m_pages = new QStackedWidget(central);
    auto *layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_sidebar);
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);

    m_url = new QLabel(this);
    m_url->setObjectName(QStringLiteral("statusUrl"));
    m_url->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("statusState"));
    m_rate = new QLabel(this);
    m_rate->setObjectName(QStringLiteral("statusRate"));
    statusBar()->addWidget(m_state);
    statusBar()->addWidget(m_url, 1);
    statusBar()->addPermanentWidget(m_rate);
    setEndpointState(false, {});

    m_file = menuBar()->addMenu(tr("&File"));
    m_fileEnd = m_file->addSeparator();
    QAction *quit = m_file->addAction(tr("&Quit"));
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    connect(m_sidebar, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0) {
            m_pages->setCurrentIndex(row);
            emit currentPageChanged(row);
        }
    });
    resize(1100, 700);
}

int MainWindow::addPage(const QString &title, QWidget *page)
{
    const int index = m_pages->addWidget(page);
    m_sidebar->addItem(title);
    auto *show = new QAction(title, this);
    show->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + index)));
    connect(show, &QAction::triggered, this, [this, index] { setCurrentPage(index); });
    addAction(show);
    if (index == 0)
        m_sidebar->setCurrentRow(0);
    return index;
}

void MainWindow::setCurrentPage(int index)
{
    if (index >= 0 && index < m_pages->count())
        m_sidebar->setCurrentRow(index);
}

int MainWindow::currentPage() const
{
    return m_pages->currentIndex();
}

QAction *MainWindow::addFileAction(const QString &text, const QKeySequence &shortcut)
{
    auto *action = new QAction(text, m_file);
    action->setShortcut(shortcut);
    m_file->insertAction(m_fileEnd, action);
    return action;
}

QAction *MainWindow::addHelpAction(const QString &text, const QKeySequence &shortcut)
{
    if (!m_help)
        m_help = menuBar()->addMenu(tr("&Help"));
    QAction *action = m_help->addAction(text);
    action->setShortcut(shortcut);
    return action;
}

void MainWindow::setEndpointState(bool running, const QString &url, const QString &detail)
{
    m_state->setText(running ? tr("● Running") : tr("○ Stopped"));
    m_state->setStyleSheet(running ? QStringLiteral("color: #2e7d32") : QStringLiteral("color: #c62828"));
    m_url->setText(running ? url : detail);
    if (!running)
        m_rate->clear();
}

void MainWindow::setEventsPerSecond(double rate)
{
    m_rate->setText(rate > 0 ? tr("%1 events/s").arg(rate, 0, 'f', rate < 10 ? 1 : 0) : QString());
}

} // namespace meterdesk
