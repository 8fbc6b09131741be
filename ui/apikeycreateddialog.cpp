#include "apikeycreateddialog.h"

#include <QClipboard>
#include <QDialogButtonBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

namespace meterdesk {

ApiKeyCreatedDialog::ApiKeyCreatedDialog(const QString &keyName, const QString &key, QWidget *parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("apiKeyCreatedDialog"));
    setWindowTitle(tr("API key created"));

    auto *intro = new QLabel(tr("The API key “%1” was created. Send it in the <code>authorization: Bearer</code> "
                                "(or <code>x-api-key</code>) header of every request to the endpoint.")
                                 .arg(keyName.toHtmlEscaped()),
                             this);
    intro->setWordWrap(true);
    intro->setTextFormat(Qt::RichText);

    m_key = new QLineEdit(key, this);
    m_key->setObjectName(QStringLiteral("createdKey"));
    m_key->setReadOnly(true);
    m_key->setAccessibleName(tr("New API key"));
    // Wide enough for the whole key, so it can be read and checked by eye.
    m_key->setMinimumWidth(m_key->fontMetrics().horizontalAdvance(key) + 24);
    m_copy = new QPushButton(tr("&Copy"), this);
    m_copy->setObjectName(QStringLiteral("copyKey"));
    m_copy->setAutoDefault(false);
    connect(m_copy, &QPushButton::clicked, this, &ApiKeyCreatedDialog::copyKey);
    auto *keyRow = new QHBoxLayout;
    keyRow->addWidget(m_key, 1);
    keyRow->addWidget(m_copy);

    auto *warning = new QLabel(tr("Copy it now: it will not be shown again. Meterdesk stores only its SHA-256 "
                                  "digest, so a lost key cannot be recovered; revoke it and create a new one."),
                               this);
    warning->setObjectName(QStringLiteral("createdKeyWarning"));
    warning->setWordWrap(true);
    QFont bold = warning->font();
    bold.setBold(true);
    warning->setFont(bold);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(keyRow);
    layout->addWidget(warning);
    layout->addWidget(buttons);

    m_key->setFocus();
    m_key->selectAll();
}

void ApiKeyCreatedDialog::copyKey()
{
    QGuiApplication::clipboard()->setText(m_key->text());
    m_copy->setText(tr("Copied"));
    QTimer::singleShot(1500, m_copy, [button = m_copy] { button->setText(tr("&Copy")); });
}

} // namespace meterdesk
