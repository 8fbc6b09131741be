#pragma once

#include <QDialog>

#include <functional>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace meterdesk {

// File › Open workspace…: a SQLite file (typed, or chosen with Browse…) or a
// postgresql://user[:password]@host[:port]/dbname URL. Open asks the validator the
// app layer set (it opens the workspace; ui/ holds no SQL): its error is shown here
// and the dialog stays; on success openRequested() and the dialog closes. The validator
// runs on a pool thread (a PostgreSQL host that does not answer takes up to its
// connect timeout): the dialog shows it is busy and Cancel still works. GUI thread.
class OpenWorkspaceDialog : public QDialog
{
    Q_OBJECT
public:
    // The error opening `location` gives, or empty when it opens. Called on a pool
    // thread: it must not touch the dialog or GUI-thread objects.
    using Validator = std::function<QString(const QString &location)>;

    OpenWorkspaceDialog(const QString &current, Validator validator, QWidget *parent = nullptr);

    QString location() const;
    void setLocation(const QString &location);
    QString error() const; // the inline error shown, or empty
    bool isBusy() const { return m_busy; } // a validation is running

    void accept() override; // validates first

signals:
    void openRequested(const QString &location);

private:
    void browse();
    void validated(const QString &where, const QString &why);
    void setBusy(bool busy);

    Validator m_validator;
    QLineEdit *m_location = nullptr;
    QLabel *m_error = nullptr;
    QPushButton *m_open = nullptr;
    QProgressBar *m_progress = nullptr;
    bool m_busy = false;
    quint64 m_attempt = 0; // answers of an attempt the user has moved on from are dropped
};

} // namespace meterdesk
