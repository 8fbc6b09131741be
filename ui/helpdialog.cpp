#include "helpdialog.h"

#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileInfo>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>

namespace meterdesk {

HelpDialog::HelpDialog(const QString &title, const QString &path, QWidget *parent) : QDialog(parent)
{
    setWindowTitle(title);
    m_browser = new QTextBrowser(this);
    m_browser->setObjectName(QStringLiteral("helpText"));
    m_browser->setOpenLinks(false); // links are followed in follow()
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_browser);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_browser, &QTextBrowser::anchorClicked, this, &HelpDialog::follow);
    load(path);
    resize(820, 640);
}

bool HelpDialog::load(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        m_browser->setPlainText(tr("The document %1 is not available.").arg(path));
        return false;
    }
    m_path = path;
    m_browser->document()->setMarkdown(QString::fromUtf8(file.readAll()));
    return true;
}

void HelpDialog::follow(const QUrl &link)
{
    // "API.md" or "docs/API.md#routes" from a guide: a sibling in the resource folder.
    if (link.isRelative() && link.path().endsWith(QLatin1String(".md"))) {
        const QString sibling = QFileInfo(m_path).path() + u'/' + QFileInfo(link.path()).fileName();
        if (QFile::exists(sibling)) {
            load(sibling);
            if (link.hasFragment())
                m_browser->scrollToAnchor(link.fragment());
            return;
        }
    }
    if (link.isRelative() && link.hasFragment() && link.path().isEmpty()) {
        m_browser->scrollToAnchor(link.fragment());
        return;
    }
    QDesktopServices::openUrl(link);
}

} // namespace meterdesk
