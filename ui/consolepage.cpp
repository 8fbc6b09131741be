#include "consolepage.h"

#include "codesnippet.h"
#include "consolesidebar.h"
#include "consolestore.h"
#include "curlcommand.h"
#include "curlimportdialog.h"
#include "environmentbar.h"
#include "headerseditor.h"
#include "jsonformat.h"
#include "jsonhighlighter.h"
#include "jsonvalue.h"
#include "requestsender.h"
#include "responseview.h"
#include "runnerpanel.h"
#include "sampleevent.h"
#include "workspaceservice.h"

#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace meterdesk {

namespace {
enum AuthKind { AuthNone, AuthBearer, AuthApiKeyHeader };

// Where a parse error sits, as "line L, column C" (offset in UTF-8 bytes).
QString position(const QByteArray &utf8, qsizetype offset)
{
    const QByteArray before = utf8.left(offset);
    const qsizetype line = before.count('\n') + 1;
    const qsizetype column = QString::fromUtf8(before.mid(before.lastIndexOf('\n') + 1)).size() + 1;
    return QObject::tr("line %1, column %2").arg(line).arg(column);
}
} // namespace

ConsolePage::ConsolePage(WorkspaceService *service, RequestSender *sender, QWidget *parent)
    : QWidget(parent), m_service(service), m_sender(sender)
{
    m_method = new QComboBox(this);
    m_method->setObjectName(QStringLiteral("method"));
    m_method->setEditable(true);
    m_method->addItems({QStringLiteral("GET"), QStringLiteral("POST"), QStringLiteral("PUT"), QStringLiteral("PATCH"),
                        QStringLiteral("DELETE"), QStringLiteral("HEAD"), QStringLiteral("OPTIONS")});
    m_url = new QLineEdit(this);
    m_url->setObjectName(QStringLiteral("url"));
    m_url->setPlaceholderText(tr("{{baseUrl}}/usage/<slug>"));
    m_send = new QPushButton(tr("Send"), this);
    m_send->setObjectName(QStringLiteral("send"));
    m_send->setToolTip(tr("Send the request (Ctrl+Enter); while it runs, cancel it (Esc)"));
    m_send->setDefault(true);
    auto *requestLine = new QHBoxLayout;
    requestLine->addWidget(m_method);
    requestLine->addWidget(m_url, 1);
    requestLine->addWidget(m_send);

    m_requestTabs = new QTabWidget(this);
    m_headers = new HeadersEditor(m_requestTabs);
    m_requestTabs->addTab(m_headers, tr("Headers"));
    m_requestTabs->addTab(buildAuthTab(), tr("Auth"));
    m_requestTabs->addTab(buildBodyTab(), tr("Body"));
    m_runner = new RunnerPanel(m_requestTabs);
    m_requestTabs->addTab(m_runner, tr("Runner"));

    auto *requestPane = new QWidget(this);
    auto *requestLayout = new QVBoxLayout(requestPane);
    requestLayout->setContentsMargins(0, 0, 0, 0);
    requestLayout->addLayout(requestLine);
    requestLayout->addWidget(m_requestTabs, 1);

    m_response = new ResponseView(this);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(requestPane);
    splitter->addWidget(m_response);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);

    auto *main = new QWidget(this);
    auto *mainLayout = new QVBoxLayout(main);
    mainLayout->setContentsMargins(0, 0, 0, 0);
    mainLayout->addWidget(buildToolbar());
    m_environment = new EnvironmentBar(m_service->organisation(), this);
    mainLayout->addWidget(m_environment);
    mainLayout->addWidget(splitter, 1);
    m_sidebar = new ConsoleSidebar(this);
    auto *sides = new QSplitter(Qt::Horizontal, this);
    sides->addWidget(m_sidebar);
    sides->addWidget(main);
    sides->setStretchFactor(0, 0); // extra width goes to the request and response
    sides->setStretchFactor(1, 1);
    sides->setSizes({240, 1000});
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(sides);

    for (const QKeySequence &keys : {QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)}) {
        auto *shortcut = new QShortcut(keys, this);
        shortcut->setContext(Qt::WidgetWithChildrenShortcut);
        connect(shortcut, &QShortcut::activated, this, &ConsolePage::send);
    }
    auto *escape = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    escape->setContext(Qt::WidgetWithChildrenShortcut);
    connect(escape, &QShortcut::activated, this, [this] {
        if (m_sender->isBusy())
            m_sender->cancel();
    });
    connect(m_send, &QPushButton::clicked, this, &ConsolePage::send);
    connect(m_url, &QLineEdit::returnPressed, this, &ConsolePage::send);
    connect(m_sender, &RequestSender::finished, this, &ConsolePage::onFinished);
    connect(m_sidebar, &ConsoleSidebar::openRequest, this, &ConsolePage::setRequest);
    connect(m_sidebar, &ConsoleSidebar::openHistoryEntry, this, [this](const HistoryEntry &entry) {
        setRequest(entry.request);
        m_response->showResponse(entry.response);
    });
    connect(m_sidebar, &ConsoleSidebar::saveCurrentRequested, this, [this] {
        const HttpRequest r = requestWithAuth();
        m_sidebar->saveRequest(QStringLiteral("%1 %2").arg(r.method, r.url), r);
    });
    connect(m_sidebar, &ConsoleSidebar::environmentImported, m_environment, &EnvironmentBar::addEnvironment);
    connect(m_environment, &EnvironmentBar::createKeyRequested, this, &ConsolePage::createKey);
    connect(m_environment, &EnvironmentBar::changed, this, [this] { m_validate->start(); });
    connect(m_sidebar, &ConsoleSidebar::message, m_response, &ResponseView::showMessage);
    connect(m_response, &ResponseView::problemActivated, this, [this](const QString &pointer) {
        // Point into the request body: select the member the pointer names (its last key).
        const QString key = pointer.section(u'/', -1);
        if (key.isEmpty())
            return;
        m_requestTabs->setCurrentIndex(2);
        const QString needle = u'"' + key + u'"';
        if (!m_body->find(needle)) {
            m_body->moveCursor(QTextCursor::Start);
            m_body->find(needle);
        }
        m_body->setFocus();
    });
}

QWidget *ConsolePage::buildToolbar()
{
    auto *bar = new QWidget(this);
    m_newEvent = new QToolButton(bar);
    m_newEvent->setObjectName(QStringLiteral("newEventFor"));
    m_newEvent->setText(tr("New event for…"));
    m_newEvent->setPopupMode(QToolButton::InstantPopup);
    auto *events = new QMenu(m_newEvent);
    m_newEvent->setMenu(events);
    connect(events, &QMenu::aboutToShow, this, [this, events] {
        events->clear();
        const QList<UsageEventDefinition> definitions = m_service->definitions();
        for (const UsageEventDefinition &d : definitions)
            events->addAction(QStringLiteral("%1  (%2)").arg(d.name, d.slug), this, [this, slug = d.slug] { newEventFor(slug); });
        if (definitions.isEmpty())
            events->addAction(tr("No usage events yet (Metering › Usage Events)"))->setEnabled(false);
    });

    auto *import = new QPushButton(tr("Import from cURL…"), bar);
    import->setObjectName(QStringLiteral("importCurl"));
    auto *copy = new QPushButton(tr("Copy as cURL"), bar);
    copy->setObjectName(QStringLiteral("copyCurl"));
    auto *code = new QToolButton(bar);
    code->setObjectName(QStringLiteral("copyCode"));
    code->setText(tr("Copy as code"));
    code->setPopupMode(QToolButton::InstantPopup);
    auto *codeMenu = new QMenu(code);
    codeMenu->addAction(tr("Python (requests)"), this,
                        [this] { QGuiApplication::clipboard()->setText(CodeSnippet::python(resolvedRequest())); });
    codeMenu->addAction(tr("JavaScript (fetch)"), this,
                        [this] { QGuiApplication::clipboard()->setText(CodeSnippet::javaScript(resolvedRequest())); });
    codeMenu->addAction(tr("C++ (Qt Network)"), this,
                        [this] { QGuiApplication::clipboard()->setText(CodeSnippet::cppQt(resolvedRequest())); });
    code->setMenu(codeMenu);

    auto *layout = new QHBoxLayout(bar);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("<h2>REST console</h2>"), bar));
    layout->addStretch();
    layout->addWidget(m_newEvent);
    layout->addWidget(import);
    layout->addWidget(copy);
    layout->addWidget(code);
    connect(import, &QPushButton::clicked, this, &ConsolePage::openCurlImport);
    connect(copy, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(curlCommand()); });
    return bar;
}

QWidget *ConsolePage::buildAuthTab()
{
    auto *tab = new QWidget(this);
    m_authKind = new QComboBox(tab);
    m_authKind->setObjectName(QStringLiteral("authKind"));
    m_authKind->addItems({tr("None"), tr("Bearer token (authorization: Bearer …)"), tr("API key header (x-api-key: …)")});
    m_authValue = new QLineEdit(QStringLiteral("{{apiKey}}"), tab);
    m_authValue->setObjectName(QStringLiteral("authValue"));
    auto *note = new QLabel(tr("Added to the headers when sent, unless the Headers tab already has it. "
                               "Meterdesk accepts both forms, as Zenskar does."), tab);
    note->setWordWrap(true);
    auto *form = new QFormLayout(tab);
    form->addRow(tr("Type"), m_authKind);
    form->addRow(tr("Key"), m_authValue);
    form->addRow(note);
    connect(m_authKind, &QComboBox::currentIndexChanged, this, [this](int index) { m_authValue->setEnabled(index != AuthNone); });
    m_authValue->setEnabled(false);
    return tab;
}

QWidget *ConsolePage::buildBodyTab()
{
    auto *tab = new QWidget(this);
    m_body = new QPlainTextEdit(tab);
    m_body->setObjectName(QStringLiteral("requestBody"));
    m_body->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_body->setTabChangesFocus(false);
    new JsonHighlighter(m_body->document());
    m_bodyStatus = new QLabel(tab);
    m_bodyStatus->setObjectName(QStringLiteral("bodyStatus"));
    auto *pretty = new QPushButton(tr("Pretty-print"), tab);
    pretty->setObjectName(QStringLiteral("prettyPrint"));
    auto *row = new QHBoxLayout;
    row->addWidget(m_bodyStatus, 1);
    row->addWidget(pretty);
    auto *layout = new QVBoxLayout(tab);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_body, 1);
    layout->addLayout(row);

    // Validate shortly after typing stops: big bodies never slow down the keyboard.
    m_validate = new QTimer(this);
    m_validate->setSingleShot(true);
    m_validate->setInterval(150);
    connect(m_validate, &QTimer::timeout, this, &ConsolePage::validateBody);
    connect(m_body, &QPlainTextEdit::textChanged, m_validate, qOverload<>(&QTimer::start));
    connect(pretty, &QPushButton::clicked, this, &ConsolePage::prettyPrintBody);
    return tab;
}

void ConsolePage::validateBody()
{
    const QString text = m_body->toPlainText();
    if (text.trimmed().isEmpty()) {
        m_bodyStatus->clear();
        return;
    }
    // Judge the body as it will be sent: {{variables}} resolved.
    const QByteArray utf8 = HttpRequest::expandVariables(text, environment()).toUtf8();
    const JsonValue::ParseResult parsed = JsonValue::parse(utf8);
    if (parsed.ok) {
        m_bodyStatus->setStyleSheet(QStringLiteral("color: #2e7d32"));
        m_bodyStatus->setText(tr("✓ Valid JSON"));
    } else {
        m_bodyStatus->setStyleSheet(QStringLiteral("color: #c62828"));
        m_bodyStatus->setText(tr("Not valid JSON at %1: %2").arg(position(utf8, parsed.offset), parsed.error));
    }
}

void ConsolePage::prettyPrintBody()
{
    const QByteArray utf8 = m_body->toPlainText().toUtf8();
    if (!JsonValue::parse(utf8).ok) {
        validateBody();
        return;
    }
    m_body->setPlainText(QString::fromUtf8(JsonFormat::indented(utf8)));
}

ConsolePage::~ConsolePage() = default;

void ConsolePage::setStore(std::unique_ptr<ConsoleStore> store)
{
    m_store = std::move(store);
    m_sidebar->setStore(m_store.get());
}

void ConsolePage::setBaseUrl(const QString &url)
{
    m_environment->setLocalBaseUrl(url);
}

void ConsolePage::setApiKey(const QString &key)
{
    m_environment->setApiKey(key);
}

QHash<QString, QString> ConsolePage::environment() const
{
    return m_environment->variables();
}

void ConsolePage::createKey()
{
    QString error;
    const std::optional<CreatedApiKey> created = m_service->createKey(tr("REST console"), &error);
    if (!created) {
        m_response->showMessage(tr("Could not create a key: %1").arg(error));
        return;
    }
    m_environment->setApiKey(created->key);
}

void ConsolePage::newEventFor(const QString &slug)
{
    const std::optional<UsageEventDefinition> definition = m_service->definition(slug);
    if (!definition)
        return;
    HttpRequest r;
    r.method = QStringLiteral("POST");
    r.url = QStringLiteral("{{baseUrl}}/usage/") + definition->slug;
    r.headers = {{QStringLiteral("organisation"), QStringLiteral("{{organisation}}")},
                 {QStringLiteral("Content-Type"), QStringLiteral("application/json")}};
    r.body = QString::fromUtf8(SampleEvent::forDefinition(*definition, QDateTime::currentMSecsSinceEpoch() * 1000));
    setRequest(r);
    m_authKind->setCurrentIndex(AuthBearer);
    m_authValue->setText(QStringLiteral("{{apiKey}}"));
    m_requestTabs->setCurrentIndex(2);
}

void ConsolePage::setRequest(const HttpRequest &request)
{
    m_method->setCurrentText(request.method);
    m_url->setText(request.url);
    m_headers->setHeaders(request.headers);
    m_body->setPlainText(request.body);
    m_authKind->setCurrentIndex(AuthNone); // credentials from an import stay visible in Headers
    validateBody();
}

HttpRequest ConsolePage::request() const
{
    HttpRequest r;
    r.method = m_method->currentText().trimmed().toUpper();
    r.url = m_url->text().trimmed();
    r.headers = m_headers->headers();
    r.body = m_body->toPlainText();
    return r;
}

HttpRequest ConsolePage::requestWithAuth() const
{
    HttpRequest r = request();
    const int kind = m_authKind->currentIndex();
    if (kind == AuthBearer && !r.hasHeader(u"authorization"))
        r.headers.append({QStringLiteral("authorization"), QStringLiteral("Bearer ") + m_authValue->text().trimmed()});
    if (kind == AuthApiKeyHeader && !r.hasHeader(u"x-api-key"))
        r.headers.append({QStringLiteral("x-api-key"), m_authValue->text().trimmed()});
    return r;
}

HttpRequest ConsolePage::resolvedRequest(QStringList *unresolved) const
{
    return requestWithAuth().withVariables(environment(), unresolved);
}

QString ConsolePage::curlCommand() const
{
    return CurlCommand::render(resolvedRequest());
}

void ConsolePage::send()
{
    if (m_sender->isBusy()) {
        m_sender->cancel();
        return;
    }
    QStringList unresolved;
    const HttpRequest r = resolvedRequest(&unresolved);
    if (!checkResolved(unresolved, r))
        return;
    m_inFlight = requestWithAuth();
    m_sentAt = QDateTime::currentDateTimeUtc();
    m_send->setText(tr("Cancel"));
    m_response->showSending(r.method + u' ' + r.url);
    m_sender->send(r);
}

void ConsolePage::setRunner(EventRunner *runner)
{
    m_runner->setRunner(runner);
    connect(m_runner, &RunnerPanel::startRequested, this, [this] {
        QStringList unresolved;
        const HttpRequest r = resolvedRequest(&unresolved);
        if (checkResolved(unresolved, r))
            m_runner->start(r);
    });
}

// False, with the reason in the response pane, when the request cannot go out.
bool ConsolePage::checkResolved(const QStringList &unresolved, const HttpRequest &r)
{
    if (!unresolved.isEmpty()) {
        QStringList names;
        for (const QString &name : std::as_const(unresolved))
            names.append(QStringLiteral("{{%1}}").arg(name));
        m_response->showMessage(tr("No value for %1: fill it in under Environment%2")
                                    .arg(names.join(QStringLiteral(", ")),
                                         unresolved.contains(QLatin1String("apiKey"))
                                             ? tr(" (paste a key or click “Create a key for the console”)")
                                             : QString()));
        return false;
    }
    if (r.url.isEmpty()) {
        m_response->showMessage(tr("Enter a URL, or pick “New event for…”"));
        m_url->setFocus();
        return false;
    }
    return true;
}

void ConsolePage::openCurlImport()
{
    auto *dialog = new CurlImportDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { setRequest(dialog->request()); });
    dialog->open();
}

void ConsolePage::onFinished(const HttpResponse &response)
{
    m_send->setText(tr("Send"));
    m_response->showResponse(response);
    if (!response.cancelled)
        m_sidebar->addHistory({m_sentAt, m_inFlight, response});
    emit responseShown(response);
}

} // namespace meterdesk
