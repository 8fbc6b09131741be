#include "consolesidebar.h"

#include "consolestore.h"

#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSaveFile>
#include <QTabWidget>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace meterdesk {

namespace {
constexpr int IndexRole = Qt::UserRole + 1;
constexpr int CollectionRole = Qt::UserRole + 2;

QString pathOf(const QString &url)
{
    if (url.startsWith(QLatin1String("{{")) && url.contains(QLatin1String("}}"))) // {{baseUrl}}/usage/x -> /usage/x
        return url.mid(url.indexOf(QLatin1String("}}")) + 2);
    const QUrl u(url);
    return u.isValid() && !u.path().isEmpty() ? u.path() : url;
}
} // namespace

ConsoleSidebar::ConsoleSidebar(QWidget *parent) : QWidget(parent)
{
    auto *tabs = new QTabWidget(this);
    tabs->addTab(buildHistoryTab(), tr("History"));
    tabs->addTab(buildCollectionsTab(), tr("Collections"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(tabs);
    setMinimumWidth(180);
}

QWidget *ConsoleSidebar::buildHistoryTab()
{
    auto *tab = new QWidget(this);
    m_search = new QLineEdit(tab);
    m_search->setObjectName(QStringLiteral("historySearch"));
    m_search->setPlaceholderText(tr("Search by URL"));
    m_search->setClearButtonEnabled(true);
    m_historyList = new QListWidget(tab);
    m_historyList->setObjectName(QStringLiteral("history"));
    auto *clear = new QPushButton(tr("Clear history"), tab);
    clear->setObjectName(QStringLiteral("clearHistory"));
    auto *layout = new QVBoxLayout(tab);
    layout->addWidget(m_search);
    layout->addWidget(m_historyList, 1);
    layout->addWidget(clear);
    connect(m_search, &QLineEdit::textChanged, this, &ConsoleSidebar::refreshHistory);
    connect(m_historyList, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
        const qsizetype i = item->data(IndexRole).toLongLong();
        if (i >= 0 && i < m_history.entries().size())
            emit openHistoryEntry(m_history.entries().at(i));
    });
    connect(clear, &QPushButton::clicked, this, [this] {
        m_history.clear();
        refreshHistory();
        if (m_store)
            m_store->saveHistory(m_history);
    });
    return tab;
}

QWidget *ConsoleSidebar::buildCollectionsTab()
{
    auto *tab = new QWidget(this);
    m_tree = new QTreeWidget(tab);
    m_tree->setObjectName(QStringLiteral("collections"));
    m_tree->setHeaderHidden(true);
    m_tree->setEditTriggers(QAbstractItemView::EditKeyPressed | QAbstractItemView::SelectedClicked);
    m_tree->setToolTip(tr("F2 renames; activating a request opens it"));
    auto *newCollection = new QPushButton(tr("New"), tab);
    newCollection->setObjectName(QStringLiteral("newCollection"));
    auto *save = new QPushButton(tr("Save request"), tab);
    save->setObjectName(QStringLiteral("saveRequest"));
    auto *import = new QPushButton(tr("Import…"), tab);
    import->setObjectName(QStringLiteral("importPostman"));
    import->setToolTip(tr("A Postman collection (v2.1) or environment file"));
    auto *exportButton = new QPushButton(tr("Export…"), tab);
    exportButton->setObjectName(QStringLiteral("exportPostman"));
    exportButton->setToolTip(tr("The selected collection as a Postman v2.1 file"));
    auto *remove = new QPushButton(tr("Remove"), tab);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(newCollection);
    buttons->addWidget(save);
    buttons->addWidget(import);
    buttons->addWidget(exportButton);
    buttons->addWidget(remove);
    auto *layout = new QVBoxLayout(tab);
    layout->addWidget(m_tree, 1);
    layout->addLayout(buttons);

    connect(save, &QPushButton::clicked, this, &ConsoleSidebar::saveCurrentRequested);
    connect(newCollection, &QPushButton::clicked, this, [this] {
        addCollection(tr("Collection %1").arg(m_collections.size() + 1));
        m_tree->editItem(m_tree->currentItem());
    });
    // Renames: the tree is the editor; the collection list follows.
    connect(m_tree, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem *item) {
        const int c = item->data(0, CollectionRole).toInt();
        const qsizetype r = item->data(0, IndexRole).toLongLong();
        const QString name = item->text(0).trimmed();
        if (c < 0 || c >= m_collections.size() || name.isEmpty())
            return;
        if (r < 0)
            m_collections[c].name = name;
        else if (r < m_collections[c].requests.size())
            m_collections[c].requests[r].name = name.section(QStringLiteral("  "), 1).isEmpty() ? name : name.section(QStringLiteral("  "), 1);
        if (m_store)
            m_store->saveCollections(m_collections);
    });
    connect(m_tree, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) {
        const int c = item->data(0, CollectionRole).toInt();
        const qsizetype r = item->data(0, IndexRole).toLongLong();
        if (c >= 0 && c < m_collections.size() && r >= 0 && r < m_collections[c].requests.size())
            emit openRequest(m_collections[c].requests[r].request);
    });
    // File dialogs open without a nested event loop (open(), then a signal).
    connect(import, &QPushButton::clicked, this, [this] {
        auto *dialog = new QFileDialog(this, tr("Import a Postman collection or environment"), {},
                                       tr("Postman files (*.json);;All files (*)"));
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setFileMode(QFileDialog::ExistingFile);
        connect(dialog, &QFileDialog::fileSelected, this, [this](const QString &path) {
            QString error;
            if (!importPostmanFile(path, &error) && !importEnvironmentFile(path, &error))
                emit message(tr("Cannot import %1: %2").arg(path, error));
        });
        dialog->open();
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const int c = selectedCollection();
        if (c < 0) {
            emit message(tr("Select a collection to export"));
            return;
        }
        auto *dialog = new QFileDialog(this, tr("Export as Postman collection"), m_collections[c].name + QStringLiteral(".postman_collection.json"),
                                       tr("Postman collection (*.json)"));
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setAcceptMode(QFileDialog::AcceptSave);
        connect(dialog, &QFileDialog::fileSelected, this, [this, c](const QString &path) {
            QString error;
            if (!exportPostmanFile(c, path, &error))
                emit message(tr("Cannot export: %1").arg(error));
        });
        dialog->open();
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        QTreeWidgetItem *item = m_tree->currentItem();
        if (!item)
            return;
        const int c = item->data(0, CollectionRole).toInt();
        const qsizetype r = item->data(0, IndexRole).toLongLong();
        if (r >= 0)
            m_collections[c].requests.removeAt(r);
        else
            m_collections.removeAt(c);
        persistCollections();
    });
    return tab;
}

void ConsoleSidebar::setStore(ConsoleStore *store)
{
    m_store = store;
    QString error;
    m_history = store->loadHistory(&error);
    m_collections = store->loadCollections(&error);
    if (!error.isEmpty())
        emit message(error);
    refreshHistory();
    refreshCollections();
}

void ConsoleSidebar::addHistory(const HistoryEntry &entry)
{
    m_history.add(entry);
    refreshHistory();
    if (m_store)
        m_store->saveHistory(m_history);
}

void ConsoleSidebar::refreshHistory()
{
    m_historyList->clear();
    const QList<qsizetype> matches = m_history.search(m_search->text());
    for (const qsizetype i : matches) {
        const HistoryEntry &e = m_history.entries().at(i);
        const QString status = e.response.status ? QString::number(e.response.status) : tr("—");
        auto *item = new QListWidgetItem(QStringLiteral("%1  %2  %3").arg(status, e.request.method, pathOf(e.request.url)),
                                         m_historyList);
        item->setToolTip(QStringLiteral("%1\n%2").arg(e.request.url, QLocale().toString(e.sentAt.toLocalTime(), QLocale::ShortFormat)));
        item->setData(IndexRole, i);
    }
}

int ConsoleSidebar::selectedCollection() const
{
    const QTreeWidgetItem *item = m_tree->currentItem();
    return item ? item->data(0, CollectionRole).toInt() : -1;
}

void ConsoleSidebar::refreshCollections()
{
    const QSignalBlocker block(m_tree); // filling is not renaming
    m_tree->clear();
    for (int c = 0; c < m_collections.size(); ++c) {
        auto *top = new QTreeWidgetItem(m_tree, {m_collections[c].name});
        top->setFlags(top->flags() | Qt::ItemIsEditable);
        top->setData(0, CollectionRole, c);
        top->setData(0, IndexRole, -1);
        for (qsizetype r = 0; r < m_collections[c].requests.size(); ++r) {
            const SavedRequest &s = m_collections[c].requests[r];
            auto *item = new QTreeWidgetItem(top, {QStringLiteral("%1  %2").arg(s.request.method, s.name)});
            item->setToolTip(0, s.request.url);
            item->setFlags(item->flags() | Qt::ItemIsEditable);
            item->setData(0, CollectionRole, c);
            item->setData(0, IndexRole, r);
        }
    }
    m_tree->expandAll();
}

void ConsoleSidebar::persistCollections()
{
    refreshCollections();
    if (m_store)
        m_store->saveCollections(m_collections);
}

void ConsoleSidebar::saveRequest(const QString &name, const HttpRequest &request)
{
    int c = selectedCollection();
    if (c < 0) {
        for (c = 0; c < m_collections.size() && m_collections[c].name != tr("My requests"); ++c) {
        }
        if (c == m_collections.size())
            m_collections.append({tr("My requests"), {}, {}});
    }
    m_collections[c].requests.append({name, request});
    persistCollections();
}

void ConsoleSidebar::addCollection(const QString &name)
{
    m_collections.append({name, {}, {}});
    persistCollections();
    m_tree->setCurrentItem(m_tree->topLevelItem(m_tree->topLevelItemCount() - 1));
}

bool ConsoleSidebar::importPostmanFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = file.errorString();
        return false;
    }
    auto collection = Postman::readCollection(file.readAll(), error);
    if (!collection)
        return false;
    m_collections.append(*collection);
    persistCollections();
    emit message(tr("Imported “%1”: %n request(s)", nullptr, int(collection->requests.size())).arg(collection->name));
    return true;
}

bool ConsoleSidebar::importEnvironmentFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = file.errorString();
        return false;
    }
    QString name;
    const auto values = Postman::readEnvironment(file.readAll(), &name, error);
    if (!values)
        return false;
    emit environmentImported(name.isEmpty() ? QFileInfo(path).completeBaseName() : name, *values);
    emit message(tr("Environment “%1” imported: %n variable(s)", nullptr, int(values->size())).arg(name));
    return true;
}

bool ConsoleSidebar::exportPostmanFile(int collection, const QString &path, QString *error)
{
    if (collection < 0 || collection >= m_collections.size()) {
        *error = tr("no such collection");
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(Postman::writeCollection(m_collections[collection])) < 0
        || !file.commit()) {
        *error = file.errorString();
        return false;
    }
    return true;
}

} // namespace meterdesk
