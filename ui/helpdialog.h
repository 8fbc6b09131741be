#pragma once

#include <QDialog>

class QTextBrowser;

namespace meterdesk {

// A help document (the user guide, the API reference): Markdown read from a Qt
// resource and rendered by QTextDocument::setMarkdown in a QTextBrowser. A link
// to another document of the same resource folder opens it in place; any other
// link opens in the desktop's browser. Non-modal, so the guide stays up while the
// user works. GUI thread.
class HelpDialog : public QDialog
{
    Q_OBJECT
public:
    // `path` is a resource path, e.g. ":/docs/USER_GUIDE.md".
    HelpDialog(const QString &title, const QString &path, QWidget *parent = nullptr);

    QTextBrowser *browser() const { return m_browser; }
    QString path() const { return m_path; }
    // Shows the document at `path`; false (and a message in the view) when it is missing.
    bool load(const QString &path);

private:
    void follow(const QUrl &link);

    QTextBrowser *m_browser = nullptr;
    QString m_path;
};

} // namespace meterdesk
