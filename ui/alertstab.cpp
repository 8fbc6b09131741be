#include "alertstab.h"

#include "workspace.h"
#include "workspaceworker.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTimeZone>
#include <QVBoxLayout>

#include <optional>

namespace meterdesk {

namespace {

enum AlertColumn { AlertName, AlertRule, AlertWebhook, AlertColumns };
enum FiringColumn { FiredAt, FiringCustomer, FiringWindow, FiringValue, FiringWebhook, FiringColumns };

constexpr Aggregate::Function kFunctions[] = {Aggregate::Function::Sum, Aggregate::Function::Count,
                                              Aggregate::Function::Min, Aggregate::Function::Max,
                                              Aggregate::Function::Avg, Aggregate::Function::UniqueCount,
                                              Aggregate::Function::Latest};
constexpr Aggregate::Window kWindows[] = {Aggregate::Window::Month, Aggregate::Window::Day, Aggregate::Window::Hour};

QTableWidget *table(QWidget *parent, const QString &name, const QStringList &headers)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setObjectName(name);
    t->setHorizontalHeaderLabels(headers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

QTableWidgetItem *cell(const QString &text)
{
    auto *item = new QTableWidgetItem(text);
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    return item;
}

} // namespace

AlertsTab::AlertsTab(const QString &workspaceLocation, QWidget *parent)
    : QWidget(parent), m_worker(std::make_unique<WorkspaceWorker>(workspaceLocation, QStringLiteral("alerts-tab")))
{
    m_alerts = table(this, QStringLiteral("alerts"), {tr("Alert (on)"), tr("Rule"), tr("Webhook")});
    m_alerts->horizontalHeader()->setSectionResizeMode(AlertRule, QHeaderView::Stretch);
    auto *add = new QPushButton(tr("New alert"), this);
    add->setObjectName(QStringLiteral("newAlert"));
    m_delete = new QPushButton(tr("Delete…"), this);
    m_delete->setObjectName(QStringLiteral("deleteAlert"));
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("alertsStatus"));
    m_status->setWordWrap(true);
    auto *listButtons = new QHBoxLayout;
    listButtons->addWidget(add);
    listButtons->addWidget(m_delete);
    listButtons->addWidget(m_status, 1);
    auto *list = new QWidget(this);
    auto *listLayout = new QVBoxLayout(list);
    listLayout->setContentsMargins(0, 0, 0, 0);
    listLayout->addWidget(new QLabel(tr("An alert fires once per customer and window when the aggregate of the "
                                        "rows ingested so far crosses its threshold: a desktop notification and, "
                                        "when set, a JSON POST to a webhook."), list));
    listLayout->addWidget(m_alerts, 1);
    listLayout->addLayout(listButtons);

    // The form, each field with its inline message below it.
    auto *form = new QGroupBox(this);
    auto *formLayout = new QFormLayout(form);
    m_formTitle = new QLabel(form);
    formLayout->addRow(m_formTitle);
    const auto row = [this, form, formLayout](const QString &label, QWidget *field, const QString &pointer) {
        field->setObjectName(QStringLiteral("alert_") + pointer);
        auto *message = new QLabel(form);
        message->setObjectName(QStringLiteral("alert_") + pointer + QStringLiteral("_message"));
        message->setStyleSheet(QStringLiteral("color: #c62828"));
        message->setWordWrap(true);
        message->hide();
        m_messages.insert(pointer, message);
        auto *box = new QVBoxLayout;
        box->setSpacing(2);
        box->addWidget(field);
        box->addWidget(message);
        formLayout->addRow(label, box);
    };
    m_name = new QLineEdit(form);
    m_name->setPlaceholderText(tr("e.g. CPU hours over plan"));
    m_field = new QComboBox(form);
    m_function = new QComboBox(form);
    for (Aggregate::Function fn : kFunctions)
        m_function->addItem(Aggregate::functionTitle(fn), int(fn));
    m_window = new QComboBox(form);
    for (Aggregate::Window w : kWindows)
        m_window->addItem(Aggregate::windowName(w), int(w));
    m_zone = new QComboBox(form);
    m_zone->setEditable(true);
    m_zone->addItem(QStringLiteral("UTC"));
    const QString local = QString::fromUtf8(QTimeZone::systemTimeZoneId());
    if (!local.isEmpty() && local != QLatin1String("UTC"))
        m_zone->addItem(local);
    m_comparison = new QComboBox(form);
    m_comparison->addItem(QStringLiteral(">"), int(AlertDefinition::Comparison::Above));
    m_comparison->addItem(QStringLiteral(">="), int(AlertDefinition::Comparison::AtLeast));
    m_threshold = new QLineEdit(form);
    m_threshold->setPlaceholderText(tr("e.g. 300"));
    m_webhook = new QLineEdit(form);
    m_webhook->setPlaceholderText(tr("https://… (optional)"));
    m_enabled = new QCheckBox(tr("Enabled"), form);
    m_enabled->setChecked(true);
    row(tr("Name"), m_name, QStringLiteral("name"));
    row(tr("Field"), m_field, QStringLiteral("field"));
    row(tr("Function"), m_function, QStringLiteral("function"));
    row(tr("Per"), m_window, QStringLiteral("window"));
    row(tr("Time zone"), m_zone, QStringLiteral("timeZone"));
    row(tr("Fires when"), m_comparison, QStringLiteral("comparison"));
    row(tr("Threshold"), m_threshold, QStringLiteral("threshold"));
    row(tr("Webhook URL"), m_webhook, QStringLiteral("webhookUrl"));
    row(QString(), m_enabled, QStringLiteral("enabled"));
    m_save = new QPushButton(tr("Save alert"), form);
    m_save->setObjectName(QStringLiteral("saveAlert"));
    m_save->setDefault(true);
    formLayout->addRow(QString(), m_save);
    auto *formMessage = new QLabel(form);
    formMessage->setStyleSheet(QStringLiteral("color: #c62828"));
    formMessage->setWordWrap(true);
    formMessage->hide();
    m_messages.insert(QString(), formMessage); // problems without a field (the database)
    formLayout->addRow(formMessage);

    m_firings = table(this, QStringLiteral("firings"), {tr("Fired at"), tr("Customer"), tr("Window"), tr("Value"), tr("Webhook")});
    auto *history = new QWidget(this);
    auto *historyLayout = new QVBoxLayout(history);
    historyLayout->setContentsMargins(0, 0, 0, 0);
    historyLayout->addWidget(new QLabel(tr("<b>History</b> of the selected alert (newest first)"), history));
    historyLayout->addWidget(m_firings, 1);

    auto *top = new QSplitter(Qt::Horizontal, this);
    top->addWidget(list);
    top->addWidget(form);
    top->setStretchFactor(0, 3);
    top->setStretchFactor(1, 2);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    split->addWidget(history);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);

    connect(add, &QPushButton::clicked, this, &AlertsTab::newAlert);
    connect(m_save, &QPushButton::clicked, this, &AlertsTab::save);
    connect(m_delete, &QPushButton::clicked, this, [this] {
        const qint64 id = selectedAlertId();
        if (id == 0)
            return;
        if (QMessageBox::question(this, tr("Delete alert"), tr("Delete this alert and its firing history?"))
            == QMessageBox::Yes)
            deleteSelected();
    });
    connect(m_alerts, &QTableWidget::itemSelectionChanged, this, [this] {
        const qint64 id = selectedAlertId();
        for (const AlertDefinition &a : std::as_const(m_list))
            if (a.id == id)
                loadForm(a);
        reloadFirings();
    });
    connect(m_alerts, &QTableWidget::itemChanged, this, [this](QTableWidgetItem *item) {
        if (m_filling || item->column() != AlertName)
            return;
        const qint64 id = item->data(Qt::UserRole).toLongLong();
        const bool on = item->checkState() == Qt::Checked;
        const QString name = item->text();
        m_worker->run(this, [id, on](WorkspaceWorker::Session &s) {
            QString error = s.openError();
            if (s.workspace() && !Alerts::setEnabled(*s.workspace(), id, on, &error))
                s.drop();
            return error;
        }, [this, id, on, name](const QString &error) {
            if (!error.isEmpty()) {
                m_status->setText(tr("Cannot change the alert: %1").arg(error));
                reload(); // the list as stored: the box goes back
                return;
            }
            for (AlertDefinition &a : m_list)
                if (a.id == id)
                    a.enabled = on;
            if (id == m_editingId)
                m_enabled->setChecked(on);
            m_status->setText(on ? tr("“%1” enabled.").arg(name) : tr("“%1” disabled.").arg(name));
        });
    });
    connect(m_field, &QComboBox::currentIndexChanged, this, &AlertsTab::checkInline);
    connect(m_function, &QComboBox::currentIndexChanged, this, &AlertsTab::checkInline);
    connect(m_threshold, &QLineEdit::textEdited, this, &AlertsTab::checkInline);
    connect(m_webhook, &QLineEdit::textEdited, this, &AlertsTab::checkInline);
    newAlert();
}

AlertsTab::~AlertsTab()
{
    m_worker.reset(); // first: no answer may arrive while the widgets go
}

void AlertsTab::showDefinition(const UsageEventDefinition &definition)
{
    const bool other = definition.slug != m_definition.slug;
    m_definition = definition;
    fillFields();
    if (other)
        newAlert();
    if (isVisible())
        reload();
    else
        m_stale = true;
}

void AlertsTab::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_stale)
        reload();
}

void AlertsTab::firingsChanged()
{
    if (isVisible())
        reloadFirings();
    else
        m_stale = true;
}

void AlertsTab::fillFields()
{
    const QString current = m_field->currentData().toString();
    m_filling = true;
    m_field->clear();
    m_field->addItem(tr("(rows: COUNT only)"), QString());
    for (const SchemaField &f : m_definition.schema.fields)
        m_field->addItem(QStringLiteral("%1 (%2)").arg(f.path, FieldTypes::name(f.type)), f.path);
    m_field->setCurrentIndex(qMax(0, m_field->findData(current)));
    m_filling = false;
}

void AlertsTab::reload()
{
    m_stale = false;
    if (m_definition.slug.isEmpty())
        return;
    const QString slug = m_definition.slug;
    if (m_list.isEmpty())
        m_status->setText(tr("Reading the alerts…"));
    struct Listed
    {
        QList<AlertDefinition> list;
        QString error;
    };
    m_worker->run(this, [slug](WorkspaceWorker::Session &s) {
        Listed r;
        bool ok = false;
        if (s.workspace())
            r.list = Alerts::list(*s.workspace(), slug, &ok);
        if (!ok) {
            r.error = s.workspace() ? tr("Cannot read the alerts.") : tr("Cannot open the workspace: %1").arg(s.openError());
            s.drop();
        }
        return r;
    }, [this, slug](const Listed &r) {
        if (slug != m_definition.slug)
            return; // another usage event is shown by now
        if (!r.error.isEmpty()) {
            m_status->setText(r.error);
            return;
        }
        fillList(r.list, selectedAlertId());
    });
}

void AlertsTab::fillList(const QList<AlertDefinition> &list, qint64 select)
{
    m_list = list;
    m_filling = true;
    m_alerts->setRowCount(int(m_list.size()));
    int selectRow = -1;
    for (int r = 0; r < m_list.size(); ++r) {
        const AlertDefinition &a = m_list[r];
        auto *name = new QTableWidgetItem(a.name);
        name->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
        name->setCheckState(a.enabled ? Qt::Checked : Qt::Unchecked);
        name->setData(Qt::UserRole, a.id);
        m_alerts->setItem(r, AlertName, name);
        m_alerts->setItem(r, AlertRule, cell(a.ruleText()));
        m_alerts->setItem(r, AlertWebhook, cell(a.webhookUrl.isEmpty() ? tr("—") : a.webhookUrl));
        if (a.id == select)
            selectRow = r;
    }
    m_alerts->resizeColumnToContents(AlertName);
    m_filling = false;
    m_status->setText(m_list.isEmpty() ? tr("No alerts yet: fill in the form and save.") : QString());
    if (selectRow >= 0)
        m_alerts->selectRow(selectRow);
    reloadFirings();
}

void AlertsTab::reloadFirings()
{
    const qint64 id = selectedAlertId();
    std::optional<AlertDefinition> alert;
    for (const AlertDefinition &a : std::as_const(m_list))
        if (a.id == id)
            alert = a;
    const quint64 asked = ++m_firingsAsked;
    if (!alert) {
        m_firings->setRowCount(0);
        return;
    }
    m_worker->run(this, [id](WorkspaceWorker::Session &s) {
        return s.workspace() ? Alerts::firings(*s.workspace(), id) : QList<AlertFiring>();
    }, [this, asked, alert = *alert](const QList<AlertFiring> &firings) {
        if (asked != m_firingsAsked)
            return; // another alert was selected meanwhile
        m_firings->setRowCount(int(firings.size()));
        for (int r = 0; r < firings.size(); ++r) {
            const AlertFiring &f = firings[r];
            m_firings->setItem(r, FiredAt, cell(QDateTime::fromMSecsSinceEpoch(f.firedAtUs / 1000).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))));
            m_firings->setItem(r, FiringCustomer, cell(f.customerId));
            m_firings->setItem(r, FiringWindow, cell(Alerts::windowLabel(alert, f.windowStartUs)));
            auto *value = cell(f.value);
            value->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_firings->setItem(r, FiringValue, value);
            m_firings->setItem(r, FiringWebhook, cell(Alerts::webhookStatusText(f.webhookStatus)));
        }
        m_firings->resizeColumnToContents(FiredAt);
    });
}

qint64 AlertsTab::selectedAlertId() const
{
    const QList<QTableWidgetItem *> items = m_alerts->selectedItems();
    for (QTableWidgetItem *item : items)
        if (QTableWidgetItem *name = m_alerts->item(item->row(), AlertName))
            return name->data(Qt::UserRole).toLongLong();
    return 0;
}

QString AlertsTab::fieldMessage(const QString &pointer) const
{
    const QLabel *label = m_messages.value(pointer);
    return label && !label->isHidden() ? label->text() : QString();
}

void AlertsTab::newAlert()
{
    AlertDefinition blank;
    blank.slug = m_definition.slug;
    m_alerts->clearSelection();
    loadForm(blank);
}

void AlertsTab::loadForm(const AlertDefinition &a)
{
    m_editingId = a.id;
    m_formTitle->setText(a.id == 0 ? tr("<b>New alert</b>") : tr("<b>Edit “%1”</b>").arg(a.name.toHtmlEscaped()));
    m_name->setText(a.name);
    m_field->setCurrentIndex(qMax(0, m_field->findData(a.field)));
    m_function->setCurrentIndex(qMax(0, m_function->findData(int(a.function))));
    m_window->setCurrentIndex(qMax(0, m_window->findData(int(a.window))));
    m_zone->setCurrentText(a.timeZone);
    m_comparison->setCurrentIndex(qMax(0, m_comparison->findData(int(a.comparison))));
    m_threshold->setText(a.threshold);
    m_webhook->setText(a.webhookUrl);
    m_enabled->setChecked(a.enabled);
    m_delete->setEnabled(a.id != 0);
    showProblems({});
}

AlertDefinition AlertsTab::formAlert() const
{
    AlertDefinition a;
    a.id = m_editingId;
    a.slug = m_definition.slug;
    a.name = m_name->text();
    a.field = m_field->currentData().toString();
    a.function = Aggregate::Function(m_function->currentData().toInt());
    a.window = Aggregate::Window(m_window->currentData().toInt());
    a.timeZone = m_zone->currentText().trimmed();
    a.comparison = AlertDefinition::Comparison(m_comparison->currentData().toInt());
    a.threshold = m_threshold->text();
    a.webhookUrl = m_webhook->text();
    a.enabled = m_enabled->isChecked();
    return a;
}

void AlertsTab::showProblems(const Problems &problems)
{
    for (QLabel *label : std::as_const(m_messages)) {
        label->clear();
        label->hide();
    }
    for (const Problem &p : problems) {
        QLabel *label = m_messages.value(p.pointer, m_messages.value(QString()));
        label->setText(label->text().isEmpty() ? p.message : label->text() + u'\n' + p.message);
        label->show();
    }
}

// While the user picks: what the choice of field and function, the threshold and
// the webhook already say (not "give a name", which can wait for Save).
void AlertsTab::checkInline()
{
    if (m_filling)
        return;
    Problems shown;
    for (const Problem &p : Alerts::validate(formAlert(), m_definition)) {
        if (p.pointer == QLatin1String("function") || p.pointer == QLatin1String("field")
            || (p.pointer == QLatin1String("threshold") && !m_threshold->text().trimmed().isEmpty())
            || p.pointer == QLatin1String("webhookUrl"))
            shown.append(p);
    }
    showProblems(shown);
}

bool AlertsTab::save()
{
    AlertDefinition a = formAlert();
    const Problems problems = Alerts::validate(a, m_definition);
    showProblems(problems);
    if (!problems.isEmpty())
        return false;
    m_save->setEnabled(false); // one save at a time: a second click would store it twice
    m_status->setText(tr("Saving “%1”…").arg(a.name));
    struct Saved
    {
        AlertDefinition alert;
        Problems problems;
        QList<AlertDefinition> list; // the event's alerts after the save
    };
    m_worker->run(this, [a](WorkspaceWorker::Session &s) mutable {
        Saved r;
        if (!s.workspace()) {
            r.problems.append({ProblemCode::InvalidName, QString(), tr("Cannot open the workspace: %1").arg(s.openError())});
            return r;
        }
        r.problems = a.id == 0 ? Alerts::create(*s.workspace(), a) : Alerts::update(*s.workspace(), a);
        r.alert = a;
        if (r.problems.isEmpty())
            r.list = Alerts::list(*s.workspace(), a.slug);
        return r;
    }, [this](const Saved &r) {
        m_save->setEnabled(true);
        showProblems(r.problems);
        if (!r.problems.isEmpty()) {
            m_status->clear();
            return;
        }
        if (r.alert.slug == m_definition.slug) {
            fillList(r.list, r.alert.id);
            m_status->setText(tr("Saved “%1”.").arg(r.alert.name));
        }
        emit saved(r.alert.id);
    });
    return true;
}

bool AlertsTab::deleteSelected()
{
    const qint64 id = selectedAlertId();
    if (id == 0)
        return false;
    m_worker->run(this, [id](WorkspaceWorker::Session &s) {
        QString error = s.openError();
        if (s.workspace() && !Alerts::remove(*s.workspace(), id, &error))
            s.drop();
        return error;
    }, [this, id](const QString &error) {
        if (!error.isEmpty()) {
            m_status->setText(tr("Cannot delete the alert: %1").arg(error));
            return;
        }
        if (m_editingId == id)
            newAlert();
        reload();
        emit removed(id);
    });
    return true;
}

} // namespace meterdesk
