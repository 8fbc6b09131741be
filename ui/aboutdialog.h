#pragma once

#include <QDialog>

class QLabel;

namespace meterdesk {

// Help › About Meterdesk: the version, the Qt it was built with and runs on, and
// the licences (Qt under LGPL-3.0; ours as packaging/copyright states it). Opened
// with open(), never exec(). GUI thread.
class AboutDialog : public QDialog
{
    Q_OBJECT
public:
    AboutDialog(const QString &version, QWidget *parent = nullptr);

    QString text() const;

private:
    QLabel *m_text = nullptr;
};

} // namespace meterdesk
