#pragma once

#include <QDialog>

class QLineEdit;
class QPushButton;

namespace meterdesk {

// Shows a freshly created API key exactly once: the key in a read-only field, a
// Copy button and a warning that only its SHA-256 is kept. Owns nothing but its
// widgets and the key text, which goes away with the dialog (open it with open()
// and WA_DeleteOnClose). GUI thread.
class ApiKeyCreatedDialog : public QDialog
{
    Q_OBJECT
public:
    ApiKeyCreatedDialog(const QString &keyName, const QString &key, QWidget *parent = nullptr);

private:
    void copyKey();

    QLineEdit *m_key = nullptr;
    QPushButton *m_copy = nullptr;
};

} // namespace meterdesk
