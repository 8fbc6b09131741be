#pragma once

#include <QWidget>

#include <optional>

class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace meterdesk {

class ApiKeysModel;
class WorkspaceService;

// Settings: the endpoint's listen address (start/stop) and HTTPS files, the workspace's
// organisation UUID and its API keys (create, shown once; revoke). Owns its
// widgets and an ApiKeysModel; reads and changes keys only through the injected
// WorkspaceService and asks app/ to start or stop the endpoint by signal, so it
// never runs SQL or HTTP itself. GUI thread.
class SettingsPage : public QWidget
{
    Q_OBJECT
public:
    explicit SettingsPage(WorkspaceService *service, QWidget *parent = nullptr);

    // From app/, whenever the endpoint starts, stops or fails to start. After
    // startRequested, Start stays disabled until this is called.
    void setEndpointState(bool running, const QString &url, const QString &lastError);
    void setListenAddress(const QString &hostPort);
    QString listenAddress() const;
    // HTTPS: a PEM certificate (chain) and its private key; both empty: plain HTTP.
    void setTlsFiles(const QString &certificate, const QString &key);
    QString tlsCertificateFile() const;
    QString tlsKeyFile() const;
    // From app/: the warning for the endpoint as started (reachable from other machines
    // without TLS), or empty.
    void setSecurityWarning(const QString &warning);

    // HOST:PORT with a host (name, IPv4, or [IPv6]) and a port 0-65535.
    static bool isValidListenAddress(const QString &hostPort);

signals:
    void startRequested(const QString &hostPort);
    void stopRequested();

protected:
    void showEvent(QShowEvent *event) override;

private:
    QWidget *createEndpointGroup();
    QWidget *createOrganisationGroup();
    QWidget *createKeysGroup();

    void updateEndpointControls();
    void requestStart();
    void useFreePort();
    void browseTlsFile(QLineEdit *field, const QString &title);
    void copyOrganisation();

    void reloadKeys();
    std::optional<qint64> selectedKeyId(bool *live = nullptr) const;
    void selectKey(qint64 id);
    void updateKeyActions();
    void createKey();
    void confirmRevoke();
    void revoke(qint64 id);
    void showKeyError(const QString &message);

    WorkspaceService *m_service = nullptr;
    ApiKeysModel *m_keys = nullptr;

    bool m_running = false;
    bool m_starting = false;
    QString m_url;
    QString m_lastError;

    QLineEdit *m_listen = nullptr;
    QLabel *m_listenError = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_stop = nullptr;
    QLabel *m_status = nullptr;
    QWidget *m_freePortHint = nullptr;
    QLineEdit *m_tlsCert = nullptr;
    QLineEdit *m_tlsKey = nullptr;
    QLabel *m_tlsError = nullptr;
    QLabel *m_securityWarning = nullptr;

    QLineEdit *m_organisation = nullptr;
    QPushButton *m_copyOrganisation = nullptr;

    QTableView *m_keysView = nullptr;
    QLineEdit *m_keyName = nullptr;
    QPushButton *m_createKey = nullptr;
    QPushButton *m_revokeKey = nullptr;
    QLabel *m_keyError = nullptr;
};

} // namespace meterdesk
