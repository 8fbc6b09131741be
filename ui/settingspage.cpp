#include "settingspage.h"

#include "apikeycreateddialog.h"
#include "apikeysmodel.h"
#include "workspaceservice.h"

#include <QAction>
#include <QClipboard>
#include <QFileDialog>
#include <QGridLayout>
#include <QGroupBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace meterdesk {

namespace {

// Inline problems are red text in place, never a popup (and never silent).
void setErrorLook(QLabel *label, bool error)
{
    if (!error) {
        label->setPalette(QPalette()); // back to the inherited palette
        return;
    }
    QPalette palette = label->palette();
    palette.setColor(QPalette::WindowText, QColor(0xc6, 0x28, 0x28));
    label->setPalette(palette);
}

QLabel *errorLabel(const QString &objectName, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(objectName);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    setErrorLook(label, true);
    label->hide();
    return label;
}

} // namespace

SettingsPage::SettingsPage(WorkspaceService *service, QWidget *parent)
    : QWidget(parent), m_service(service), m_keys(new ApiKeysModel(this))
{
    setObjectName(QStringLiteral("settingsPage"));
    auto *layout = new QVBoxLayout(this);
    auto *title = new QLabel(tr("<h2>Settings</h2>"), this);
    layout->addWidget(title);
    layout->addWidget(createEndpointGroup());
    layout->addWidget(createOrganisationGroup());
    layout->addWidget(createKeysGroup(), 1);

    connect(m_service, &WorkspaceService::keysChanged, this, &SettingsPage::reloadKeys);
    reloadKeys();
    updateEndpointControls();
}

QWidget *SettingsPage::createEndpointGroup()
{
    auto *group = new QGroupBox(tr("Endpoint"), this);
    m_listen = new QLineEdit(QStringLiteral("127.0.0.1:8080"), group);
    m_listen->setObjectName(QStringLiteral("listenAddress"));
    m_listen->setPlaceholderText(QStringLiteral("127.0.0.1:8080"));
    m_listen->setAccessibleName(tr("Listen address"));
    m_listenError = errorLabel(QStringLiteral("listenAddressError"), group);
    m_listenError->setText(tr("Write HOST:PORT, for example 127.0.0.1:8080 or [::1]:8080 "
                              "(a port is 0 to 65535; 0 picks a free one)."));
    m_start = new QPushButton(tr("&Start"), group);
    m_start->setObjectName(QStringLiteral("startButton"));
    m_stop = new QPushButton(tr("Sto&p"), group);
    m_stop->setObjectName(QStringLiteral("stopButton"));
    m_status = new QLabel(group);
    m_status->setObjectName(QStringLiteral("endpointStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_freePortHint = new QWidget(group);
    auto *hintText = new QLabel(tr("Another program may be using this address, or the port needs privileges. "
                                   "Meterdesk can listen on a free port instead."),
                                m_freePortHint);
    hintText->setWordWrap(true);
    auto *freePort = new QPushButton(tr("Use a &free port"), m_freePortHint);
    freePort->setObjectName(QStringLiteral("useFreePort"));
    auto *hintLayout = new QHBoxLayout(m_freePortHint);
    hintLayout->setContentsMargins(0, 0, 0, 0);
    hintLayout->addWidget(hintText, 1);
    hintLayout->addWidget(freePort);

    m_tlsCert = new QLineEdit(group);
    m_tlsCert->setObjectName(QStringLiteral("tlsCertificate"));
    m_tlsCert->setPlaceholderText(tr("none: plain HTTP"));
    m_tlsCert->setAccessibleName(tr("HTTPS certificate file"));
    m_tlsKey = new QLineEdit(group);
    m_tlsKey->setObjectName(QStringLiteral("tlsKey"));
    m_tlsKey->setPlaceholderText(tr("none: plain HTTP"));
    m_tlsKey->setAccessibleName(tr("HTTPS private key file"));
    auto *browseCert = new QPushButton(tr("Browse…"), group);
    browseCert->setObjectName(QStringLiteral("browseTlsCertificate"));
    auto *browseKey = new QPushButton(tr("Browse…"), group);
    browseKey->setObjectName(QStringLiteral("browseTlsKey"));
    m_tlsError = errorLabel(QStringLiteral("tlsError"), group);
    m_tlsError->setText(tr("HTTPS needs both files: a PEM certificate and its private key."));
    m_securityWarning = errorLabel(QStringLiteral("securityWarning"), group);

    // A grid, not a form: hidden messages must leave no gap behind.
    auto *grid = new QGridLayout(group);
    auto *listenLabel = new QLabel(tr("&Listen address:"), group);
    listenLabel->setBuddy(m_listen);
    grid->addWidget(listenLabel, 0, 0);
    grid->addWidget(m_listen, 0, 1);
    grid->addWidget(m_start, 0, 2);
    grid->addWidget(m_stop, 0, 3);
    grid->addWidget(m_listenError, 1, 1, 1, 3);
    grid->addWidget(new QLabel(tr("Status:"), group), 2, 0);
    grid->addWidget(m_status, 2, 1, 1, 3);
    grid->addWidget(m_freePortHint, 3, 1, 1, 3);
    auto *certLabel = new QLabel(tr("HTTPS &certificate:"), group);
    certLabel->setBuddy(m_tlsCert);
    grid->addWidget(certLabel, 4, 0);
    grid->addWidget(m_tlsCert, 4, 1, 1, 2);
    grid->addWidget(browseCert, 4, 3);
    auto *keyLabel = new QLabel(tr("HTTPS &key:"), group);
    keyLabel->setBuddy(m_tlsKey);
    grid->addWidget(keyLabel, 5, 0);
    grid->addWidget(m_tlsKey, 5, 1, 1, 2);
    grid->addWidget(browseKey, 5, 3);
    grid->addWidget(m_tlsError, 6, 1, 1, 3);
    grid->addWidget(m_securityWarning, 7, 1, 1, 3);
    grid->setColumnStretch(1, 1);

    connect(m_listen, &QLineEdit::textChanged, this, &SettingsPage::updateEndpointControls);
    connect(m_listen, &QLineEdit::returnPressed, this, &SettingsPage::requestStart);
    connect(m_start, &QPushButton::clicked, this, &SettingsPage::requestStart);
    connect(m_stop, &QPushButton::clicked, this, &SettingsPage::stopRequested);
    connect(freePort, &QPushButton::clicked, this, &SettingsPage::useFreePort);
    connect(m_tlsCert, &QLineEdit::textChanged, this, &SettingsPage::updateEndpointControls);
    connect(m_tlsKey, &QLineEdit::textChanged, this, &SettingsPage::updateEndpointControls);
    connect(browseCert, &QPushButton::clicked, this,
            [this] { browseTlsFile(m_tlsCert, tr("HTTPS certificate (PEM)")); });
    connect(browseKey, &QPushButton::clicked, this, [this] { browseTlsFile(m_tlsKey, tr("HTTPS private key (PEM)")); });
    return group;
}

QWidget *SettingsPage::createOrganisationGroup()
{
    auto *group = new QGroupBox(tr("Organisation"), this);
    m_organisation = new QLineEdit(m_service->organisation(), group);
    m_organisation->setObjectName(QStringLiteral("organisation"));
    m_organisation->setReadOnly(true);
    m_organisation->setAccessibleName(tr("Organisation"));
    m_copyOrganisation = new QPushButton(tr("&Copy"), group);
    m_copyOrganisation->setObjectName(QStringLiteral("copyOrganisation"));
    auto *explain = new QLabel(tr("Every request to the endpoint carries this value in its <code>organisation</code> "
                                  "header; a request for another organisation is refused (403)."),
                               group);
    explain->setObjectName(QStringLiteral("organisationHint"));
    explain->setTextFormat(Qt::RichText);
    explain->setWordWrap(true);

    auto *grid = new QGridLayout(group);
    auto *label = new QLabel(tr("&Organisation:"), group);
    label->setBuddy(m_organisation);
    grid->addWidget(label, 0, 0);
    grid->addWidget(m_organisation, 0, 1);
    grid->addWidget(m_copyOrganisation, 0, 2);
    grid->addWidget(explain, 1, 1, 1, 2);
    grid->setColumnStretch(1, 1);

    connect(m_copyOrganisation, &QPushButton::clicked, this, &SettingsPage::copyOrganisation);
    return group;
}

QWidget *SettingsPage::createKeysGroup()
{
    auto *group = new QGroupBox(tr("API &keys"), this);
    auto *explain = new QLabel(tr("Clients send a key in the <code>authorization: Bearer</code> or "
                                  "<code>x-api-key</code> header. A key is shown once, when it is created."),
                               group);
    explain->setTextFormat(Qt::RichText);
    explain->setWordWrap(true);

    m_keysView = new QTableView(group);
    m_keysView->setObjectName(QStringLiteral("keysView"));
    m_keysView->setModel(m_keys);
    m_keysView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_keysView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_keysView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_keysView->setTabKeyNavigation(false); // Tab leaves the table, arrows move in it
    m_keysView->verticalHeader()->hide();
    m_keysView->horizontalHeader()->setStretchLastSection(true);
    m_keysView->setAccessibleName(tr("API keys"));
    auto *revokeAction = new QAction(tr("Revoke"), m_keysView);
    revokeAction->setShortcut(QKeySequence::Delete);
    revokeAction->setShortcutContext(Qt::WidgetShortcut);
    m_keysView->addAction(revokeAction);

    m_keyName = new QLineEdit(group);
    m_keyName->setObjectName(QStringLiteral("keyName"));
    m_keyName->setPlaceholderText(tr("e.g. billing pipeline"));
    m_keyName->setAccessibleName(tr("Key name"));
    m_keyName->setMaxLength(200);
    m_createKey = new QPushButton(tr("C&reate key"), group);
    m_createKey->setObjectName(QStringLiteral("createKey"));
    m_revokeKey = new QPushButton(tr("Re&voke"), group);
    m_revokeKey->setObjectName(QStringLiteral("revokeKey"));
    m_keyError = errorLabel(QStringLiteral("keyError"), group);

    auto *nameLabel = new QLabel(tr("Key &name:"), group);
    nameLabel->setBuddy(m_keyName);
    auto *row = new QHBoxLayout;
    row->addWidget(nameLabel);
    row->addWidget(m_keyName, 1);
    row->addWidget(m_createKey);
    row->addStretch();
    row->addWidget(m_revokeKey);
    auto *layout = new QVBoxLayout(group);
    layout->addWidget(explain);
    layout->addLayout(row);
    layout->addWidget(m_keyError);
    layout->addWidget(m_keysView, 1);

    connect(m_keyName, &QLineEdit::textChanged, this, &SettingsPage::updateKeyActions);
    connect(m_keyName, &QLineEdit::returnPressed, this, &SettingsPage::createKey);
    connect(m_createKey, &QPushButton::clicked, this, &SettingsPage::createKey);
    connect(m_revokeKey, &QPushButton::clicked, this, &SettingsPage::confirmRevoke);
    connect(revokeAction, &QAction::triggered, this, &SettingsPage::confirmRevoke);
    connect(m_keysView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &SettingsPage::updateKeyActions);
    connect(m_keys, &QAbstractItemModel::modelReset, this, &SettingsPage::updateKeyActions);
    return group;
}

bool SettingsPage::isValidListenAddress(const QString &hostPort)
{
    // The endpoint resolves the host itself; here only the shape is checked, so a
    // typo is caught while typing rather than after Start.
    static const QRegularExpression shape(QStringLiteral(
        R"(^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):([0-9]{1,5})$)"));
    const QRegularExpressionMatch match = shape.match(hostPort);
    return match.hasMatch() && match.captured(1).toUInt() <= 65535;
}

void SettingsPage::setEndpointState(bool running, const QString &url, const QString &lastError)
{
    m_running = running;
    m_starting = false;
    m_url = url;
    m_lastError = running ? QString() : lastError;
    updateEndpointControls();
}

void SettingsPage::setListenAddress(const QString &hostPort)
{
    m_listen->setText(hostPort);
    updateEndpointControls();
}

QString SettingsPage::listenAddress() const { return m_listen->text().trimmed(); }

void SettingsPage::setTlsFiles(const QString &certificate, const QString &key)
{
    m_tlsCert->setText(certificate);
    m_tlsKey->setText(key);
    updateEndpointControls();
}

QString SettingsPage::tlsCertificateFile() const { return m_tlsCert->text().trimmed(); }

QString SettingsPage::tlsKeyFile() const { return m_tlsKey->text().trimmed(); }

void SettingsPage::setSecurityWarning(const QString &warning)
{
    m_securityWarning->setText(warning);
    m_securityWarning->setVisible(!warning.isEmpty());
}

void SettingsPage::browseTlsFile(QLineEdit *field, const QString &title)
{
    auto *dialog = new QFileDialog(this, title, field->text(), tr("PEM files (*.pem *.crt *.key);;All files (*)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::ExistingFile);
    connect(dialog, &QFileDialog::fileSelected, field, &QLineEdit::setText);
    dialog->open();
}

void SettingsPage::updateEndpointControls()
{
    const bool tlsHalf = tlsCertificateFile().isEmpty() != tlsKeyFile().isEmpty();
    m_tlsError->setVisible(tlsHalf);
    const bool valid = isValidListenAddress(listenAddress()) && !tlsHalf;
    m_listenError->setVisible(!isValidListenAddress(listenAddress()));
    m_start->setEnabled(valid && !m_running && !m_starting);
    m_stop->setEnabled(m_running);
    const bool failed = !m_running && !m_starting && !m_lastError.isEmpty();
    if (m_running)
        m_status->setText(tr("Running at %1").arg(m_url));
    else if (m_starting)
        m_status->setText(tr("Starting…"));
    else if (failed)
        m_status->setText(tr("Stopped: %1").arg(m_lastError));
    else
        m_status->setText(tr("Stopped."));
    setErrorLook(m_status, failed);
    m_freePortHint->setVisible(failed);
}

void SettingsPage::requestStart()
{
    if (!m_start->isEnabled())
        return;
    m_starting = true;
    m_lastError.clear();
    updateEndpointControls();
    emit startRequested(listenAddress());
}

void SettingsPage::useFreePort()
{
    const QString current = listenAddress();
    const QString host = isValidListenAddress(current) ? current.section(u':', 0, -2) : QStringLiteral("127.0.0.1");
    setListenAddress(host + QStringLiteral(":0"));
    requestStart();
}

void SettingsPage::copyOrganisation()
{
    QGuiApplication::clipboard()->setText(m_organisation->text());
    m_copyOrganisation->setText(tr("Copied"));
    QTimer::singleShot(1500, m_copyOrganisation, [button = m_copyOrganisation] { button->setText(tr("&Copy")); });
}

void SettingsPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    reloadKeys(); // "last used" changes while the endpoint serves requests
}

void SettingsPage::reloadKeys()
{
    const std::optional<qint64> selected = selectedKeyId();
    m_keys->setKeys(m_service->keys());
    if (selected)
        selectKey(*selected);
    m_keysView->resizeColumnsToContents();
    updateKeyActions();
}

std::optional<qint64> SettingsPage::selectedKeyId(bool *live) const
{
    const QModelIndexList rows = m_keysView->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return std::nullopt;
    if (live)
        *live = rows.first().data(ApiKeysModel::LiveRole).toBool();
    return rows.first().data(ApiKeysModel::IdRole).toLongLong();
}

void SettingsPage::selectKey(qint64 id)
{
    for (int row = 0; row < m_keys->rowCount(); ++row) {
        const QModelIndex index = m_keys->index(row, 0);
        if (index.data(ApiKeysModel::IdRole).toLongLong() == id) {
            m_keysView->selectionModel()->setCurrentIndex(
                index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
            m_keysView->scrollTo(index);
            return;
        }
    }
}

void SettingsPage::updateKeyActions()
{
    bool live = false;
    const bool selected = selectedKeyId(&live).has_value();
    m_revokeKey->setEnabled(selected && live);
    m_createKey->setEnabled(!m_keyName->text().trimmed().isEmpty());
}

void SettingsPage::createKey()
{
    if (!m_createKey->isEnabled())
        return;
    QString error;
    const std::optional<CreatedApiKey> created = m_service->createKey(m_keyName->text(), &error);
    if (!created) {
        showKeyError(tr("Could not create the API key: %1").arg(error));
        return;
    }
    showKeyError({});
    m_keyName->clear();
    selectKey(created->info.id);
    // Non-blocking (no nested event loop); the key lives only as long as the dialog.
    auto *dialog = new ApiKeyCreatedDialog(created->info.name, created->key, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void SettingsPage::confirmRevoke()
{
    bool live = false;
    const std::optional<qint64> id = selectedKeyId(&live);
    if (!id || !live)
        return;
    const ApiKeyInfo *key = m_keys->keyAt(m_keysView->selectionModel()->selectedRows().first().row());
    auto *box = new QMessageBox(QMessageBox::Warning, tr("Revoke API key"),
                                tr("Revoke the API key “%1” (%2…)?").arg(key->name, key->prefix),
                                QMessageBox::Yes | QMessageBox::No, this);
    box->setObjectName(QStringLiteral("revokeConfirm"));
    box->setInformativeText(tr("Requests that send it are refused (401) from now on. This cannot be undone."));
    box->button(QMessageBox::Yes)->setText(tr("Revoke"));
    box->setDefaultButton(QMessageBox::No);
    box->setEscapeButton(QMessageBox::No);
    box->setAttribute(Qt::WA_DeleteOnClose);
    const qint64 keyId = *id;
    connect(box, &QMessageBox::finished, this, [this, box, keyId] {
        if (box->clickedButton() == box->button(QMessageBox::Yes))
            revoke(keyId);
    });
    box->open();
}

void SettingsPage::revoke(qint64 id)
{
    QString error;
    if (!m_service->revokeKey(id, &error)) {
        showKeyError(tr("Could not revoke the API key: %1").arg(error));
        reloadKeys(); // it may have been revoked elsewhere (the CLI): show what is true now
        return;
    }
    showKeyError({});
}

void SettingsPage::showKeyError(const QString &message)
{
    m_keyError->setText(message);
    m_keyError->setVisible(!message.isEmpty());
}

} // namespace meterdesk
