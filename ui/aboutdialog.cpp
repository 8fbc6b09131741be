#include "aboutdialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QVBoxLayout>

namespace meterdesk {

AboutDialog::AboutDialog(const QString &version, QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("About Meterdesk"));
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("aboutText"));
    m_text->setTextFormat(Qt::RichText);
    m_text->setWordWrap(true);
    m_text->setOpenExternalLinks(true);
    m_text->setTextInteractionFlags(Qt::TextBrowserInteraction);
    // Kept in step with packaging/copyright: the project has not chosen a licence yet.
    m_text->setText(
        tr("<h2>Meterdesk %1</h2>"
           "<p>Usage events, their ingestion endpoint and their tables, on your machine.</p>"
           "<p>Built with Qt %2, running on Qt %3.</p>"
           "<p><b>Licences</b><br>"
           "Meterdesk: © 2026 The Meterdesk developers. The project has not chosen a licence yet; "
           "until it does, no rights beyond installing and running it are granted.<br>"
           "Qt: GNU Lesser General Public License v3.0 (LGPL-3.0), "
           "<a href=\"https://www.qt.io/licensing/\">qt.io/licensing</a>.</p>")
            .arg(version, QStringLiteral(QT_VERSION_STR), QString::fromLatin1(qVersion())));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_text);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    resize(480, 300);
}

QString AboutDialog::text() const
{
    return m_text->text();
}

} // namespace meterdesk
