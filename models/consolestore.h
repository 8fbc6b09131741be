#pragma once

#include "consolehistory.h"
#include "postman.h"

#include <QList>
#include <QString>
#include <QThreadPool>

namespace meterdesk {

// Where the REST console keeps its history and collections: two JSON files in one
// directory (the app passes QStandardPaths::AppDataLocation; not the workspace
// database, whose schema belongs to migrations). Collections are stored as a JSON
// array of Postman v2.1 documents. Loading is synchronous (small files, once at
// start); saving serializes and writes on a private one-thread pool, in order,
// atomically (QSaveFile), and the destructor waits for pending writes. GUI thread.
class ConsoleStore
{
public:
    explicit ConsoleStore(QString directory);
    ~ConsoleStore();

    QString directory() const { return m_directory; }
    QString historyPath() const;
    QString collectionsPath() const;

    // Missing files load as empty; an unreadable file is reported in *error and
    // left untouched until the next save.
    ConsoleHistory loadHistory(QString *error) const;
    QList<RequestCollection> loadCollections(QString *error) const;

    void saveHistory(const ConsoleHistory &history);
    void saveCollections(const QList<RequestCollection> &collections);
    void waitForWrites();

private:
    void writeLater(const QString &path, std::function<QByteArray()> serialize);

    QString m_directory;
    QThreadPool m_writer;
};

} // namespace meterdesk
