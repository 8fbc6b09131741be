#pragma once

#include "httprequest.h"

#include <QDialog>

class QLabel;
class QPlainTextEdit;

namespace meterdesk {

// "Import from cURL": a box to paste a curl command into. Import parses it
// (models/curlcommand) and closes only when it parsed; otherwise the error, which
// names the offending token, shows under the box. Open it with open(). GUI thread.
class CurlImportDialog : public QDialog
{
    Q_OBJECT
public:
    explicit CurlImportDialog(QWidget *parent = nullptr);

    void setCommand(const QString &command);
    HttpRequest request() const { return m_request; }
    void accept() override;

private:
    QPlainTextEdit *m_text = nullptr;
    QLabel *m_error = nullptr;
    HttpRequest m_request;
};

} // namespace meterdesk
