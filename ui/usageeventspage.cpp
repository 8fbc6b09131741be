#include "usageeventspage.h"

#include "usageeventform.h"
#include "usageeventsmodel.h"
#include "workspaceservice.h"

#include <QAction>
#include <QClipboard>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStackedWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace meterdesk {

UsageEventsPage::UsageEventsPage(WorkspaceService *service, QWidget *parent)
    : QWidget(parent), m_service(service), m_model(new UsageEventsModel(this)), m_proxy(new QSortFilterProxyModel(this))
{
    auto *title = new QLabel(tr("<h2>Usage Events</h2>"), this);
    auto *add = new QPushButton(tr("+ ADD USAGE EVENT"), this);
    add->setObjectName(QStringLiteral("addUsageEvent"));
    add->setShortcut(QKeySequence::New);
    add->setToolTip(tr("Define a usage event (%1)").arg(QKeySequence(QKeySequence::New).toString(QKeySequence::NativeText)));
    auto *header = new QHBoxLayout;
    header->addWidget(title);
    header->addStretch();
    header->addWidget(add);

    // Empty state.
    auto *empty = new QWidget(this);
    empty->setObjectName(QStringLiteral("emptyState"));
    auto *emptyText = new QLabel(
        tr("<h3>No usage events yet</h3>"
           "<p>A <b>usage event</b> is one kind of metered usage — API calls, CPU hours, messages sent. "
           "It has a name, an API slug and a data schema. Meterdesk hosts <code>POST /usage/&lt;slug&gt;</code> "
           "for it on this machine and stores every event your application sends in its own table, "
           "identified by <code>customer_id</code> and <code>timestamp</code>.</p>"
           "<p>Start with your own, or with the example from Zenskar's docs: <code>test_1</code> with "
           "<code>cpu_usage_hours_per_day</code>.</p>"),
        empty);
    emptyText->setWordWrap(true);
    emptyText->setTextFormat(Qt::RichText);
    auto *emptyAdd = new QPushButton(tr("+ ADD USAGE EVENT"), empty);
    auto *example = new QPushButton(tr("Try the example"), empty);
    example->setObjectName(QStringLiteral("tryExample"));
    auto *emptyButtons = new QHBoxLayout;
    emptyButtons->addWidget(emptyAdd);
    emptyButtons->addWidget(example);
    emptyButtons->addStretch();
    auto *emptyLayout = new QVBoxLayout(empty);
    emptyLayout->addWidget(emptyText);
    emptyLayout->addLayout(emptyButtons);
    emptyLayout->addStretch();

    // The list.
    auto *list = new QWidget(this);
    m_filter = new QLineEdit(list);
    m_filter->setObjectName(QStringLiteral("filter"));
    m_filter->setPlaceholderText(tr("Filter by name or slug"));
    m_filter->setClearButtonEnabled(true);
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setSortRole(UsageEventsModel::RawValueRole);
    m_view = new QTableView(list);
    m_view->setObjectName(QStringLiteral("usageEvents"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(UsageEventsModel::Name, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->verticalHeader()->hide();
    m_view->setWordWrap(false);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(UsageEventsModel::Endpoint, QHeaderView::Stretch);
    auto *open = new QPushButton(tr("Open"), list);
    auto *copy = new QPushButton(tr("Copy endpoint URL"), list);
    copy->setObjectName(QStringLiteral("copyEndpoint"));
    auto *edit = new QPushButton(tr("Edit…"), list);
    auto *remove = new QPushButton(tr("Delete…"), list);
    auto *row = new QHBoxLayout;
    row->addWidget(m_filter, 1);
    for (QPushButton *b : {open, copy, edit, remove})
        row->addWidget(b);
    auto *listLayout = new QVBoxLayout(list);
    listLayout->setContentsMargins(0, 0, 0, 0);
    listLayout->addLayout(row);
    listLayout->addWidget(m_view);

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(empty);
    m_stack->addWidget(list);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_stack, 1);

    auto *copyAction = new QAction(tr("Copy endpoint URL"), this);
    copyAction->setShortcut(QKeySequence::Copy);
    copyAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_view->addAction(copyAction);
    auto *deleteAction = new QAction(tr("Delete"), this);
    deleteAction->setShortcut(QKeySequence::Delete);
    deleteAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_view->addAction(deleteAction);

    connect(add, &QPushButton::clicked, this, &UsageEventsPage::addUsageEvent);
    connect(emptyAdd, &QPushButton::clicked, this, &UsageEventsPage::addUsageEvent);
    connect(example, &QPushButton::clicked, this, &UsageEventsPage::tryExample);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_view, &QTableView::doubleClicked, this, [this] {
        if (const QString slug = selectedSlug(); !slug.isEmpty())
            emit openEvent(slug);
    });
    connect(m_view, &QTableView::activated, this, [this] {
        if (const QString slug = selectedSlug(); !slug.isEmpty())
            emit openEvent(slug);
    });
    connect(open, &QPushButton::clicked, this, [this] {
        if (const QString slug = selectedSlug(); !slug.isEmpty())
            emit openEvent(slug);
    });
    connect(copy, &QPushButton::clicked, this, &UsageEventsPage::copyEndpoint);
    connect(copyAction, &QAction::triggered, this, &UsageEventsPage::copyEndpoint);
    connect(edit, &QPushButton::clicked, this, &UsageEventsPage::editSelected);
    connect(remove, &QPushButton::clicked, this, &UsageEventsPage::deleteSelected);
    connect(deleteAction, &QAction::triggered, this, &UsageEventsPage::deleteSelected);
    connect(m_service, &WorkspaceService::definitionsChanged, this, &UsageEventsPage::reload);
    connect(m_service, &WorkspaceService::statsReady, m_model, &UsageEventsModel::setStats);
    reload();
}

void UsageEventsPage::setBaseUrl(const QString &url)
{
    m_baseUrl = url;
    m_model->setBaseUrl(url);
}

void UsageEventsPage::reload()
{
    const QList<UsageEventDefinition> defs = m_service->definitions();
    m_model->setDefinitions(defs);
    m_stack->setCurrentIndex(defs.isEmpty() ? 0 : 1);
    m_service->refreshStats();
}

QString UsageEventsPage::selectedSlug() const
{
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() ? m_proxy->data(current, UsageEventsModel::SlugRole).toString() : QString();
}

void UsageEventsPage::addUsageEvent()
{
    auto *form = new UsageEventForm(m_service, m_baseUrl, std::nullopt, this);
    form->setAttribute(Qt::WA_DeleteOnClose);
    connect(form, &QDialog::accepted, this, [this, form] { emit openEvent(form->definition().slug); });
    form->open();
}

void UsageEventsPage::tryExample()
{
    UsageEventDefinition d;
    d.name = QStringLiteral("test 1");
    d.slug = QStringLiteral("test_1");
    d.schema.fields = {{QStringLiteral("cpu_usage_hours_per_day"), FieldType::Float, false,
                        tr("CPU hours a customer used in a day")}};
    if (m_service->slugTaken(d.slug)) {
        emit openEvent(d.slug);
        return;
    }
    const Problems problems = m_service->createDefinition(d);
    if (!problems.isEmpty())
        QMessageBox::warning(this, tr("Example not created"), problems.first().message);
}

void UsageEventsPage::editSelected()
{
    const auto d = m_service->definition(selectedSlug());
    if (!d)
        return;
    auto *form = new UsageEventForm(m_service, m_baseUrl, d, this);
    form->setAttribute(Qt::WA_DeleteOnClose);
    form->open();
}

void UsageEventsPage::deleteSelected()
{
    const QString slug = selectedSlug();
    const QModelIndex rowsIndex = m_proxy->index(m_view->currentIndex().row(), UsageEventsModel::Rows);
    if (slug.isEmpty())
        return;
    const QVariant rows = m_proxy->data(rowsIndex, UsageEventsModel::RawValueRole);
    const QString count = rows.isValid() ? QLocale().toString(rows.toLongLong()) : tr("an unknown number of");
    const auto answer = QMessageBox::warning(
        this, tr("Delete usage event"),
        tr("Delete “%1” and its table with %2 stored rows? Its endpoint stops accepting events. "
           "This cannot be undone.").arg(slug, count),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    QString error;
    if (!m_service->removeDefinition(slug, &error))
        QMessageBox::warning(this, tr("Not deleted"), error);
}

void UsageEventsPage::copyEndpoint()
{
    if (const QString slug = selectedSlug(); !slug.isEmpty())
        QGuiApplication::clipboard()->setText(m_model->endpointUrl(slug));
}

} // namespace meterdesk
