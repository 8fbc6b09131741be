#pragma once

#include "consolehistory.h"
#include "postman.h"

#include <QWidget>

class QLineEdit;
class QListWidget;
class QTabWidget;
class QTreeWidget;

namespace meterdesk {

class ConsoleStore;

// The REST console's left pane: History (every request sent with its response,
// searchable by URL, reopened by activating it) and Collections (named requests;
// Postman v2.1 collection import/export, Postman environment import). Persists
// through the ConsoleStore it is given (not owned). GUI thread.
class ConsoleSidebar : public QWidget
{
    Q_OBJECT
public:
    explicit ConsoleSidebar(QWidget *parent = nullptr);

    void setStore(ConsoleStore *store); // loads history and collections from it
    void addHistory(const HistoryEntry &entry);
    const ConsoleHistory &history() const { return m_history; }
    const QList<RequestCollection> &collections() const { return m_collections; }

    // Into the selected collection (or "My requests", created when needed).
    void saveRequest(const QString &name, const HttpRequest &request);
    // A new empty collection, selected so that Save request goes into it.
    void addCollection(const QString &name);
    bool importPostmanFile(const QString &path, QString *error);
    bool exportPostmanFile(int collection, const QString &path, QString *error);
    bool importEnvironmentFile(const QString &path, QString *error);

signals:
    void openHistoryEntry(const meterdesk::HistoryEntry &entry);
    void openRequest(const meterdesk::HttpRequest &request);
    void saveCurrentRequested();
    void environmentImported(const QString &name, const QList<QPair<QString, QString>> &values);
    void message(const QString &text);

private:
    QWidget *buildHistoryTab();
    QWidget *buildCollectionsTab();
    void refreshHistory();
    void refreshCollections();
    int selectedCollection() const;
    void persistCollections();

    ConsoleStore *m_store = nullptr;
    ConsoleHistory m_history;
    QList<RequestCollection> m_collections;
    QLineEdit *m_search = nullptr;
    QListWidget *m_historyList = nullptr;
    QTreeWidget *m_tree = nullptr;
};

} // namespace meterdesk
