#include "curlimportdialog.h"

#include "curlcommand.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace meterdesk {

CurlImportDialog::CurlImportDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Import from cURL"));
    resize(720, 360);
    auto *hint = new QLabel(tr("Paste a curl command (several lines joined with <code>\\</code> are fine). "
                               "Headers, body, method and URL become an editable request."), this);
    hint->setWordWrap(true);
    m_text = new QPlainTextEdit(this);
    m_text->setObjectName(QStringLiteral("curlText"));
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setPlaceholderText(QStringLiteral("curl --location --request POST 'https://…/usage/test_1' \\\n"
                                              "-H 'organisation: …' \\\n--data-raw '{…}'"));
    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("curlError"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #c62828"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    auto *import = buttons->addButton(tr("Import"), QDialogButtonBox::AcceptRole);
    import->setObjectName(QStringLiteral("curlImport"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(hint);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &CurlImportDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &CurlImportDialog::reject);
    connect(m_text, &QPlainTextEdit::textChanged, m_error, &QLabel::clear);
}

void CurlImportDialog::setCommand(const QString &command)
{
    m_text->setPlainText(command);
}

void CurlImportDialog::accept()
{
    const CurlCommand::Result result = CurlCommand::parse(m_text->toPlainText());
    if (!result.request) {
        m_error->setText(tr("Cannot import: %1").arg(result.error));
        return;
    }
    m_request = *result.request;
    QDialog::accept();
}

} // namespace meterdesk
