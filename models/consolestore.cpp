#include "consolestore.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSaveFile>

namespace meterdesk {

Q_LOGGING_CATEGORY(lcConsoleStore, "meterdesk.console.store")

ConsoleStore::ConsoleStore(QString directory) : m_directory(std::move(directory))
{
    m_writer.setMaxThreadCount(1); // one writer: saves land in the order they were asked for
}

ConsoleStore::~ConsoleStore()
{
    waitForWrites();
}

QString ConsoleStore::historyPath() const { return QDir(m_directory).filePath(QStringLiteral("console-history.json")); }
QString ConsoleStore::collectionsPath() const { return QDir(m_directory).filePath(QStringLiteral("console-collections.json")); }

void ConsoleStore::waitForWrites()
{
    m_writer.waitForDone();
}

ConsoleHistory ConsoleStore::loadHistory(QString *error) const
{
    QFile file(historyPath());
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return ConsoleHistory::fromJson(file.readAll(), error).value_or(ConsoleHistory{});
}

QList<RequestCollection> ConsoleStore::loadCollections(QString *error) const
{
    QList<RequestCollection> out;
    QFile file(collectionsPath());
    if (!file.open(QIODevice::ReadOnly))
        return out;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll());
    if (!doc.isArray()) {
        *error = QStringLiteral("%1 is not a JSON array of collections").arg(collectionsPath());
        return out;
    }
    for (const QJsonValue &v : doc.array()) {
        QString why;
        if (auto c = Postman::readCollection(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact), &why))
            out.append(*c);
        else
            *error = why;
    }
    return out;
}

void ConsoleStore::writeLater(const QString &path, std::function<QByteArray()> serialize)
{
    const QString directory = m_directory;
    m_writer.start([path, directory, serialize = std::move(serialize)] {
        QDir().mkpath(directory);
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(serialize()) < 0 || !file.commit())
            qCWarning(lcConsoleStore, "cannot write %s: %s", qPrintable(path), qPrintable(file.errorString()));
    });
}

void ConsoleStore::saveHistory(const ConsoleHistory &history)
{
    writeLater(historyPath(), [history] { return history.toJson(); });
}

void ConsoleStore::saveCollections(const QList<RequestCollection> &collections)
{
    writeLater(collectionsPath(), [collections] {
        QJsonArray array;
        for (const RequestCollection &c : collections)
            array.append(QJsonDocument::fromJson(Postman::writeCollection(c)).object());
        return QJsonDocument(array).toJson(QJsonDocument::Indented);
    });
}

} // namespace meterdesk
