#pragma once

#include <QSettings>
#include <QString>

namespace meterdesk {

// One typed, defaulted declaration per persisted setting (qBittorrent's
// settingvalue.h idea). Only app/ reads and writes them; the core takes values.
template<typename T>
struct SettingValue
{
    const char *key;
    T defaultValue;

    T get() const { return QSettings().value(QLatin1String(key), QVariant::fromValue(defaultValue)).template value<T>(); }
    void set(const T &value) const { QSettings().setValue(QLatin1String(key), QVariant::fromValue(value)); }
};

namespace AppSettings {
inline const SettingValue<QByteArray> windowGeometry{"window/geometry", {}};
inline const SettingValue<int> lastPage{"window/lastPage", 0};
inline const SettingValue<QString> listenAddress{"endpoint/listen", QStringLiteral("127.0.0.1:8080")};
inline const SettingValue<bool> endpointEnabled{"endpoint/enabled", true};
inline const SettingValue<QString> tlsCertificateFile{"endpoint/tlsCertificate", {}};
inline const SettingValue<QString> tlsKeyFile{"endpoint/tlsKey", {}};
// Help › Getting started opens by itself on a workspace without usage events until
// the user closes it with "Don't show again" checked.
inline const SettingValue<bool> showGettingStarted{"firstRun/showGettingStarted", true};
} // namespace AppSettings

} // namespace meterdesk
