#pragma once

#include <QHash>
#include <QList>
#include <QPair>
#include <QString>
#include <QWidget>

class QComboBox;
class QLineEdit;

namespace meterdesk {

// The REST console's environments: named sets of {{variables}}. The first one,
// "This endpoint", follows the running endpoint's URL and this workspace's
// organisation; more can be added for a remote URL or imported from a Postman
// environment file. baseUrl, organisation and apiKey are edited here; other
// imported variables are kept as they are. Kept in memory only (keys are secrets).
// GUI thread.
class EnvironmentBar : public QWidget
{
    Q_OBJECT
public:
    EnvironmentBar(const QString &organisation, QWidget *parent = nullptr);

    QHash<QString, QString> variables() const; // of the current environment, empty values left out
    QString currentName() const;
    int count() const { return int(m_environments.size()); }

    void setLocalBaseUrl(const QString &url);      // "This endpoint"'s {{baseUrl}}
    void setApiKey(const QString &key);            // the current environment's {{apiKey}}
    void addEnvironment(const QString &name, const QList<QPair<QString, QString>> &values); // and switch to it
    void setCurrent(int index);
    // The current environment as a Postman environment file (keys included: it is the user's file).
    bool exportTo(const QString &path, QString *error) const;

signals:
    void changed();
    void createKeyRequested();

private:
    struct Environment
    {
        QString name;
        QHash<QString, QString> values;
    };
    void store();  // fields -> current environment
    void load();   // current environment -> fields

    QList<Environment> m_environments;
    int m_current = 0;
    bool m_loading = false;
    QComboBox *m_choice = nullptr;
    QLineEdit *m_baseUrl = nullptr;
    QLineEdit *m_organisation = nullptr;
    QLineEdit *m_apiKey = nullptr;
};

} // namespace meterdesk
