#include "eventpage.h"

#include "sampleevent.h"
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

namespace {
QWidget *placeholder(const QString &text, QWidget *parent)
{
    auto *w = new QWidget(parent);
    auto *label = new QLabel(text, w);
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    auto *layout = new QVBoxLayout(w);
    layout->addWidget(label);
    layout->addStretch();
    return w;
}
} // namespace

EventPage::EventPage(WorkspaceService *service, QWidget *parent) : QWidget(parent), m_service(service)
{
    auto *back = new QPushButton(tr("‹ Usage Events"), this);
    back->setShortcut(QKeySequence::Back);
    m_title = new QLabel(this);
    auto *header = new QHBoxLayout;
    header->addWidget(back);
    header->addWidget(m_title, 1);

    m_tabs = new QTabWidget(this);
    m_tabs->addTab(placeholder(tr("<p>The live Rows viewer (paging, filters, edits with an audit trail, import and "
                                  "export) is the next piece of work and is not in this version.</p>"
                                  "<p>Meanwhile: <code>GET /usage/&lt;slug&gt;</code> lists stored events (see the API "
                                  "tab), and the table <code>usage_&lt;slug&gt;</code> in the workspace file can be "
                                  "opened read-only with DB Browser for SQLite.</p>"),
                           m_tabs),
                   tr("Rows"));
    m_tabs->addTab(placeholder(tr("<p>Rejected requests are already kept (table <code>dead_letters</code>: status, "
                                  "problem, body, headers without credentials). Inspecting and re-sending them here "
                                  "comes with the Rows viewer.</p>"),
                               m_tabs),
                   tr("Rejected"));

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
    m_tabs->setCurrentIndex(2);
}

void EventPage::setBaseUrl(const QString &url)
{
    m_baseUrl = url;
    refresh();
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
}

} // namespace meterdesk
