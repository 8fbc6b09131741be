#pragma once

#include <QDialog>

#include <functional>

class QLabel;
class QLineEdit;
class QPushButton;

namespace meterdesk {

// File › Open workspace…: a SQLite file (typed, or chosen with Browse…) or a
// postgresql://user[:password]@host[:port]/dbname URL. Open asks the validator the
// app layer set (it opens the workspace; ui/ holds no SQL): its error is shown here
// and the dialog stays; on success openRequested() and the dialog closes. GUI thread.
class OpenWorkspaceDialog : public QDialog
{
    Q_OBJECT
public:
    // The error opening `location` gives, or empty when it opens.
    using Validator = std::function<QString(const QString &location)>;

    OpenWorkspaceDialog(const QString &current, Validator validator, QWidget *parent = nullptr);

    QString location() const;
    void setLocation(const QString &location);
    QString error() const; // the inline error shown, or empty

    void accept() override; // validates first

signals:
    void openRequested(const QString &location);

private:
    void browse();

    Validator m_validator;
    QLineEdit *m_location = nullptr;
    QLabel *m_error = nullptr;
    QPushButton *m_open = nullptr;
};

} // namespace meterdesk
