#include "eventpage.h"

#include "alertstab.h"
#include "charttab.h"
#include "rejectedview.h"
#include "rowsview.h"
#include "sampleevent.h"
#include "sqltemplatetab.h"
#include "workspaceservice.h"

#include <QClipboard>
#include <QDateTime>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>

namespace meterdesk {


EventPage::EventPage(WorkspaceService *service, QWidget *parent) : QWidget(parent), m_service(service)
{
    auto *back = new QPushButton(tr("‹ Usage Events"), this);
    back->setShortcut(QKeySequence::Back);
    m_title = new QLabel(this);
    auto *header = new QHBoxLayout;
    header->addWidget(back);
    header->addWidget(m_title, 1);

    m_tabs = new QTabWidget(this);
    m_rows = new RowsView(m_service->location(), m_tabs);
    m_tabs->addTab(m_rows, tr("Rows"));
    m_rejected = new RejectedView(m_service, m_tabs);
    m_tabs->addTab(m_rejected, tr("Rejected"));
    connect(m_rejected, &RejectedView::resendRequested, this, &EventPage::resendInConsole);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int index) {
        if (m_tabs->widget(index) == m_rejected)
            m_rejected->reload(); // what the endpoint refused since the tab was last shown
    });
    m_chart = new ChartTab(m_service->location(), m_tabs);
    m_chart->setObjectName(QStringLiteral("chartTab"));
    m_tabs->addTab(m_chart, tr("Chart"));
    m_sql = new SqlTemplateTab(m_service->location(), m_tabs);
    m_sql->setObjectName(QStringLiteral("sqlTab"));
    m_tabs->addTab(m_sql, tr("SQL"));

    auto *api = new QWidget(m_tabs);
    m_endpoint = new QLabel(api);
    m_endpoint->setObjectName(QStringLiteral("apiEndpoint"));
    m_endpoint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_schema = new QLabel(api);
    m_schema->setWordWrap(true);
    m_curl = new QPlainTextEdit(api);
    m_curl->setObjectName(QStringLiteral("curlSnippet"));
    m_curl->setReadOnly(true);
    m_curl->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto *copy = new QPushButton(tr("Copy curl"), api);
    copy->setObjectName(QStringLiteral("copyCurl"));
    auto *copyUrl = new QPushButton(tr("Copy endpoint URL"), api);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(copy);
    buttons->addWidget(copyUrl);
    auto *openConsole = new QPushButton(tr("Open in console"), api);
    openConsole->setObjectName(QStringLiteral("openInConsole"));
    buttons->addWidget(openConsole);
    buttons->addStretch();
    auto *apiLayout = new QVBoxLayout(api);
    apiLayout->addWidget(m_endpoint);
    apiLayout->addWidget(m_schema);
    apiLayout->addWidget(new QLabel(tr("Replace <code>$MDK_API_KEY</code> with a key from Settings › API keys."), api));
    apiLayout->addWidget(m_curl, 1);
    apiLayout->addLayout(buttons);
    m_tabs->addTab(api, tr("API"));
    m_alerts = new AlertsTab(m_service->location(), m_tabs);
    m_tabs->addTab(m_alerts, tr("Alerts"));

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_tabs, 1);

    connect(back, &QPushButton::clicked, this, &EventPage::back);
    connect(copy, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(curlSnippet()); });
    connect(copyUrl, &QPushButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(m_baseUrl + QStringLiteral("/usage/") + m_definition.slug);
    });
    connect(openConsole, &QPushButton::clicked, this, [this] { emit openInConsole(m_definition.slug); });
    connect(m_service, &WorkspaceService::definitionsChanged, this, &EventPage::refresh);
}

void EventPage::showEvent(const QString &slug)
{
    m_definition = m_service->definition(slug).value_or(UsageEventDefinition{});
    refresh();
    m_rows->showDefinition(m_definition);
    m_rejected->showSlug(m_definition.slug);
    m_sql->showDefinition(m_definition);
    m_chart->showDefinition(m_definition);
    m_tabs->setCurrentIndex(0);
}

void EventPage::setBaseUrl(const QString &url)
{
    m_baseUrl = url;
    refresh();
}

void EventPage::rowsCommitted(const QString &slug)
{
    if (!m_definition.slug.isEmpty() && slug.compare(m_definition.slug, Qt::CaseInsensitive) == 0) {
        m_rows->rowsCommitted();
        m_chart->rowsCommitted();
    }
}

QString EventPage::curlSnippet() const
{
    const QByteArray body = SampleEvent::forDefinition(m_definition, QDateTime::currentMSecsSinceEpoch() * 1000);
    return SampleEvent::curlCommand(m_baseUrl + QStringLiteral("/usage/") + m_definition.slug, m_service->organisation(),
                                    QStringLiteral("$MDK_API_KEY"), body);
}

void EventPage::refresh()
{
    if (m_definition.slug.isEmpty())
        return;
    if (const auto d = m_service->definition(m_definition.slug))
        m_definition = *d;
    m_title->setText(tr("<h2>%1</h2>").arg(m_definition.name.toHtmlEscaped()));
    m_endpoint->setText(tr("<b>POST</b> %1/usage/%2").arg(m_baseUrl, m_definition.slug));
    QStringList fields;
    for (const SchemaField &f : m_definition.schema.fields)
        fields.append(QStringLiteral("<code>%1</code> %2%3")
                          .arg(f.path.toHtmlEscaped(), FieldTypes::name(f.type), f.required ? tr(" (required)") : QString()));
    m_schema->setText(tr("Headers: <code>organisation: %1</code>, <code>authorization: Bearer &lt;key&gt;</code> "
                         "(or <code>x-api-key</code>), <code>Content-Type: application/json</code>.<br>Data fields: %2")
                          .arg(m_service->organisation(), fields.isEmpty() ? tr("none (any data is kept as sent)")
                                                                           : fields.join(QStringLiteral(", "))));
    m_curl->setPlainText(curlSnippet());
    m_alerts->showDefinition(m_definition);
    m_chart->showDefinition(m_definition); // a changed schema changes the fields to chart
}

} // namespace meterdesk
