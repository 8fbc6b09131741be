#include "openworkspacedialog.h"

#include "sqldialect.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

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
    layout->addStretch();
    layout->addWidget(buttons);

    connect(browse, &QPushButton::clicked, this, &OpenWorkspaceDialog::browse);
    connect(buttons, &QDialogButtonBox::accepted, this, &OpenWorkspaceDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_location, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_error->hide();
        m_error->clear();
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
    if (where.isEmpty())
        return;
    QGuiApplication::setOverrideCursor(Qt::WaitCursor);
    const QString why = m_validator ? m_validator(where) : QString();
    QGuiApplication::restoreOverrideCursor();
    if (!why.isEmpty()) {
        m_error->setText(why);
        m_error->show();
        m_location->setFocus();
        return;
    }
    QDialog::accept();
    emit openRequested(where);
}

} // namespace meterdesk
