#include "openworkspacedialog.h"

#include "sqldialect.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace meterdesk {

OpenWorkspaceDialog::OpenWorkspaceDialog(const QString &current, Validator validator, QWidget *parent)
    : QDialog(parent), m_validator(std::move(validator))
{
    setWindowTitle(tr("Open workspace"));
    auto *intro = new QLabel(tr("A SQLite file (created when it does not exist), or a PostgreSQL database as "
                                "<code>postgresql://user[:password]@host[:port]/dbname</code>."),
                             this);
    intro->setWordWrap(true);
    m_location = new QLineEdit(this);
    m_location->setObjectName(QStringLiteral("location"));
    m_location->setPlaceholderText(tr("/path/to/workspace.db or postgresql://…"));
    // The current workspace as a starting point, never its password.
    m_location->setText(SqlDialect::isPostgresUrl(current) ? QString() : current);
    auto *browse = new QPushButton(tr("Browse…"), this);
    browse->setObjectName(QStringLiteral("browse"));
    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("error"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(QStringLiteral("color: palette(bright-text); background: #b3261e; padding: 4px;"));
    m_error->hide();
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("progress"));
    m_progress->setRange(0, 0); // busy: how long a server takes to answer is unknown
    m_progress->setFormat(tr("Opening…"));
    m_progress->setTextVisible(true);
    m_progress->hide();
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this);
    m_open = buttons->button(QDialogButtonBox::Open);
    m_open->setObjectName(QStringLiteral("open"));

    auto *row = new QHBoxLayout;
    row->addWidget(m_location, 1);
    row->addWidget(browse);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(row);
    layout->addWidget(m_error);
    layout->addWidget(m_progress);
    layout->addStretch();
    layout->addWidget(buttons);

    connect(browse, &QPushButton::clicked, this, &OpenWorkspaceDialog::browse);
    connect(buttons, &QDialogButtonBox::accepted, this, &OpenWorkspaceDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_location, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_error->hide();
        m_error->clear();
        if (m_busy) { // a new location: the answer for the old one no longer matters
            ++m_attempt;
            setBusy(false);
        }
        m_open->setEnabled(!text.trimmed().isEmpty());
    });
    m_open->setEnabled(!m_location->text().trimmed().isEmpty());
    resize(560, 200);
}

QString OpenWorkspaceDialog::location() const
{
    return m_location->text().trimmed();
}

void OpenWorkspaceDialog::setLocation(const QString &location)
{
    m_location->setText(location);
}

QString OpenWorkspaceDialog::error() const
{
    return m_error->text();
}

void OpenWorkspaceDialog::browse()
{
    const QString start = SqlDialect::isPostgresUrl(location()) ? QString() : QFileInfo(location()).absolutePath();
    // A save dialog that does not ask to overwrite: an existing file or a new one.
    const QString file = QFileDialog::getSaveFileName(this, tr("Workspace file"), start,
                                                      tr("Meterdesk workspaces (*.db *.sqlite);;All files (*)"),
                                                      nullptr, QFileDialog::DontConfirmOverwrite);
    if (!file.isEmpty())
        setLocation(file);
}

void OpenWorkspaceDialog::accept()
{
    const QString where = location();
    if (where.isEmpty() || m_busy)
        return;
    if (!m_validator) {
        validated(where, {});
        return;
    }
    const quint64 attempt = ++m_attempt;
    setBusy(true);
    auto *watcher = new QFutureWatcher<QString>(this);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, where, attempt] {
        watcher->deleteLater();
        if (attempt == m_attempt)
            validated(where, watcher->result());
    });
    watcher->setFuture(QtConcurrent::run([validator = m_validator, where] { return validator(where); }));
}

void OpenWorkspaceDialog::validated(const QString &where, const QString &why)
{
    setBusy(false);
    if (!why.isEmpty()) {
        m_error->setText(why);
        m_error->show();
        m_location->setFocus();
        return;
    }
    QDialog::accept();
    emit openRequested(where);
}

void OpenWorkspaceDialog::setBusy(bool busy)
{
    m_busy = busy;
    m_progress->setVisible(busy);
    m_open->setEnabled(!busy && !location().isEmpty());
    if (busy)
        m_error->hide();
}

} // namespace meterdesk
