#include "environmentbar.h"

#include "postman.h"

#include <QComboBox>
#include <QFileDialog>
#include <QSaveFile>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace meterdesk {

namespace {
const QString baseUrlKey = QStringLiteral("baseUrl");
const QString organisationKey = QStringLiteral("organisation");
const QString apiKeyKey = QStringLiteral("apiKey");
} // namespace

EnvironmentBar::EnvironmentBar(const QString &organisation, QWidget *parent) : QWidget(parent)
{
    m_environments.append({tr("This endpoint"), {{organisationKey, organisation}}});

    m_choice = new QComboBox(this);
    m_choice->setObjectName(QStringLiteral("environment"));
    m_choice->addItem(m_environments.first().name);
    auto *add = new QPushButton(tr("Add environment"), this);
    add->setObjectName(QStringLiteral("addEnvironment"));
    add->setToolTip(tr("Another set of variables, e.g. a remote endpoint's URL, organisation and key"));
    m_baseUrl = new QLineEdit(this);
    m_baseUrl->setObjectName(QStringLiteral("envBaseUrl"));
    m_baseUrl->setPlaceholderText(tr("the endpoint is not running"));
    m_organisation = new QLineEdit(this);
    m_organisation->setObjectName(QStringLiteral("envOrganisation"));
    m_apiKey = new QLineEdit(this);
    m_apiKey->setObjectName(QStringLiteral("envApiKey"));
    m_apiKey->setEchoMode(QLineEdit::PasswordEchoOnEdit);
    m_apiKey->setPlaceholderText(tr("paste a key, or create one"));
    auto *exportButton = new QPushButton(tr("Export…"), this);
    exportButton->setObjectName(QStringLiteral("exportEnvironment"));
    exportButton->setToolTip(tr("The current environment as a Postman environment file (its key included)"));
    auto *create = new QPushButton(tr("Create a key for the console"), this);
    create->setObjectName(QStringLiteral("createConsoleKey"));

    auto *layout = new QGridLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Environment"), this), 0, 0);
    layout->addWidget(m_choice, 0, 1);
    layout->addWidget(add, 0, 2);
    layout->addWidget(exportButton, 0, 3, Qt::AlignLeft);
    layout->addWidget(new QLabel(tr("{{baseUrl}}"), this), 1, 0);
    layout->addWidget(m_baseUrl, 1, 1);
    layout->addWidget(new QLabel(tr("{{organisation}}"), this), 1, 2);
    layout->addWidget(m_organisation, 1, 3, 1, 2);
    layout->addWidget(new QLabel(tr("{{apiKey}}"), this), 2, 0);
    layout->addWidget(m_apiKey, 2, 1, 1, 3);
    layout->addWidget(create, 2, 4);
    layout->setColumnStretch(1, 2);
    layout->setColumnStretch(3, 3);

    for (QLineEdit *edit : {m_baseUrl, m_organisation, m_apiKey})
        connect(edit, &QLineEdit::textChanged, this, [this] {
            if (!m_loading) {
                store();
                emit changed();
            }
        });
    connect(m_choice, &QComboBox::currentIndexChanged, this, &EnvironmentBar::setCurrent);
    connect(add, &QPushButton::clicked, this, [this] {
        addEnvironment(tr("Environment %1").arg(m_environments.size() + 1), {});
        m_baseUrl->setFocus();
    });
    connect(create, &QPushButton::clicked, this, &EnvironmentBar::createKeyRequested);
    connect(exportButton, &QPushButton::clicked, this, [this] {
        auto *dialog = new QFileDialog(this, tr("Export environment"), currentName() + QStringLiteral(".postman_environment.json"),
                                       tr("Postman environment (*.json)"));
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setAcceptMode(QFileDialog::AcceptSave);
        connect(dialog, &QFileDialog::fileSelected, this, [this](const QString &path) {
            QString error;
            if (!exportTo(path, &error))
                m_baseUrl->setToolTip(tr("Export failed: %1").arg(error));
        });
        dialog->open();
    });
    load();
}

QHash<QString, QString> EnvironmentBar::variables() const
{
    QHash<QString, QString> out;
    const QHash<QString, QString> &values = m_environments[m_current].values;
    for (auto it = values.cbegin(); it != values.cend(); ++it)
        if (!it.value().trimmed().isEmpty())
            out.insert(it.key(), it.value().trimmed());
    return out;
}

QString EnvironmentBar::currentName() const
{
    return m_environments[m_current].name;
}

void EnvironmentBar::store()
{
    QHash<QString, QString> &values = m_environments[m_current].values;
    values.insert(baseUrlKey, m_baseUrl->text());
    values.insert(organisationKey, m_organisation->text());
    values.insert(apiKeyKey, m_apiKey->text());
}

void EnvironmentBar::load()
{
    m_loading = true;
    const QHash<QString, QString> &values = m_environments[m_current].values;
    m_baseUrl->setText(values.value(baseUrlKey));
    m_organisation->setText(values.value(organisationKey));
    m_apiKey->setText(values.value(apiKeyKey));
    m_loading = false;
}

void EnvironmentBar::setCurrent(int index)
{
    if (index < 0 || index >= m_environments.size())
        return;
    m_current = index;
    if (m_choice->currentIndex() != index)
        m_choice->setCurrentIndex(index); // re-enters once with the same index
    load();
    emit changed();
}

bool EnvironmentBar::exportTo(const QString &path, QString *error) const
{
    QList<QPair<QString, QString>> values;
    const QHash<QString, QString> vars = variables();
    for (const QString &key : {baseUrlKey, organisationKey, apiKeyKey})
        if (vars.contains(key))
            values.append({key, vars.value(key)});
    for (auto it = vars.cbegin(); it != vars.cend(); ++it)
        if (it.key() != baseUrlKey && it.key() != organisationKey && it.key() != apiKeyKey)
            values.append({it.key(), it.value()});
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(Postman::writeEnvironment(currentName(), values)) < 0 || !file.commit()) {
        *error = file.errorString();
        return false;
    }
    return true;
}

void EnvironmentBar::setLocalBaseUrl(const QString &url)
{
    m_environments[0].values.insert(baseUrlKey, url);
    if (m_current == 0)
        load();
    emit changed();
}

void EnvironmentBar::setApiKey(const QString &key)
{
    m_apiKey->setText(key); // stores through textChanged
}

void EnvironmentBar::addEnvironment(const QString &name, const QList<QPair<QString, QString>> &values)
{
    Environment e{name, {}};
    for (const auto &[key, value] : values)
        e.values.insert(key, value);
    m_environments.append(e);
    m_choice->addItem(name);
    setCurrent(int(m_environments.size()) - 1);
}

} // namespace meterdesk
