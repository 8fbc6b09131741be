#include "usageeventform.h"

#include "schemaeditor.h"
#include "slug.h"
#include "workspaceservice.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace meterdesk {

UsageEventForm::UsageEventForm(WorkspaceService *service, const QString &baseUrl,
                               std::optional<UsageEventDefinition> existing, QWidget *parent)
    : QDialog(parent), m_service(service), m_baseUrl(baseUrl), m_existing(std::move(existing))
{
    setWindowTitle(m_existing ? tr("Edit usage event") : tr("Add usage event"));
    resize(760, 680);
    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);

    m_name = new QLineEdit(this);
    m_name->setObjectName(QStringLiteral("name"));
    m_name->setPlaceholderText(tr("e.g. CPU usage per day"));
    form->addRow(tr("Usage event &name"), m_name);

    m_slug = new QLineEdit(this);
    m_slug->setObjectName(QStringLiteral("slug"));
    m_resetSlug = new QToolButton(this);
    m_resetSlug->setObjectName(QStringLiteral("resetSlug"));
    m_resetSlug->setText(tr("Reset to derived"));
    m_resetSlug->setToolTip(tr("Derive the slug from the name again"));
    auto *slugRow = new QHBoxLayout;
    slugRow->addWidget(m_slug);
    slugRow->addWidget(m_resetSlug);
    m_slugError = new QLabel(this);
    m_slugError->setObjectName(QStringLiteral("slugError"));
    m_slugError->setWordWrap(true);
    m_slugError->setStyleSheet(QStringLiteral("color: #d32f2f"));
    m_endpoint = new QLabel(this);
    m_endpoint->setObjectName(QStringLiteral("endpointPreview"));
    m_endpoint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *slugBox = new QVBoxLayout;
    slugBox->addLayout(slugRow);
    slugBox->addWidget(m_slugError);
    slugBox->addWidget(m_endpoint);
    auto *slugLabel = new QLabel(tr("API &slug endpoint"), this);
    slugLabel->setBuddy(m_slug);
    form->addRow(slugLabel, slugBox);

    auto *root = new QLabel(tr("<code>customer_id</code>, <code>timestamp</code> (read-only, mandatory; "
                               "together they identify an event)"),
                            this);
    root->setWordWrap(true);
    form->addRow(tr("Root fields"), root);

    m_schema = new SchemaEditor(this);
    auto *schemaLabel = new QLabel(tr("Your data schema"), this);
    schemaLabel->setAlignment(Qt::AlignTop);
    form->addRow(schemaLabel, m_schema);

    m_policy = new QComboBox(this);
    m_policy->setObjectName(QStringLiteral("policy"));
    m_policy->addItem(tr("Reject (409) — stored billing data never changes silently"), int(DuplicatePolicy::Reject));
    m_policy->addItem(tr("Overwrite — replace the row, keep the old data in the audit log"), int(DuplicatePolicy::Overwrite));
    form->addRow(tr("Same customer_id and timestamp, other data"), m_policy);
    form->addRow(tr("Order by"), new QLabel(tr("timestamp"), this));

    m_reason = new QLabel(this);
    m_reason->setObjectName(QStringLiteral("saveBlocker"));
    m_reason->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_save = buttons->addButton(m_existing ? tr("SAVE CHANGES") : tr("ADD USAGE EVENT"), QDialogButtonBox::AcceptRole);
    m_save->setObjectName(QStringLiteral("save"));
    m_save->setDefault(true);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form, 1);
    layout->addWidget(m_reason);
    layout->addWidget(buttons);

    connect(m_name, &QLineEdit::textEdited, this, &UsageEventForm::nameEdited);
    connect(m_slug, &QLineEdit::textChanged, this, &UsageEventForm::slugEdited);
    connect(m_resetSlug, &QToolButton::clicked, this, [this] {
        m_slugTouched = false;
        nameEdited(m_name->text());
    });
    connect(m_schema, &SchemaEditor::schemaChanged, this, &UsageEventForm::validate);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_save, &QPushButton::clicked, this, &UsageEventForm::save);

    if (m_existing) {
        m_name->setText(m_existing->name);
        m_settingSlug = true;
        m_slug->setText(m_existing->slug);
        m_settingSlug = false;
        m_slug->setReadOnly(true); // its URL is in use
        m_resetSlug->setEnabled(false);
        m_slugTouched = true;
        m_schema->setSchema(m_existing->schema);
        m_policy->setCurrentIndex(m_policy->findData(int(m_existing->policy)));
    }
    validate();
}

void UsageEventForm::nameEdited(const QString &name)
{
    if (m_slugTouched)
        return;
    m_settingSlug = true;
    m_slug->setText(Slug::derive(name));
    m_settingSlug = false;
    validate();
}

void UsageEventForm::slugEdited()
{
    if (!m_settingSlug && !m_existing)
        m_slugTouched = true;
    validate();
}

UsageEventDefinition UsageEventForm::definition() const
{
    UsageEventDefinition d = m_existing.value_or(UsageEventDefinition{});
    d.name = m_name->text().trimmed();
    d.slug = m_slug->text();
    d.schema = m_schema->schema();
    d.policy = DuplicatePolicy(m_policy->currentData().toInt());
    return d;
}

void UsageEventForm::validate()
{
    const QString slug = m_slug->text();
    QString slugProblem;
    if (auto p = Slug::validate(slug))
        slugProblem = p->message;
    else if (!m_existing && m_service->slugTaken(slug))
        slugProblem = tr("The slug “%1” is already used by another usage event.").arg(slug);
    m_slugError->setText(slugProblem);
    m_slugError->setVisible(!slugProblem.isEmpty());
    m_resetSlug->setEnabled(!m_existing && m_slugTouched);
    m_endpoint->setText(slugProblem.isEmpty() ? tr("POST %1/usage/%2").arg(m_baseUrl, slug) : QString());

    m_blocker.clear();
    if (m_name->text().trimmed().isEmpty())
        m_blocker = tr("Give the usage event a name.");
    else if (!slugProblem.isEmpty())
        m_blocker = tr("Fix the API slug: %1").arg(slugProblem);
    else if (const Problems p = m_schema->problems(); !p.isEmpty())
        m_blocker = tr("Fix the data schema: %1").arg(p.first().message);
    m_save->setEnabled(m_blocker.isEmpty());
    m_save->setToolTip(m_blocker);
    m_reason->setText(m_blocker);
    m_reason->setStyleSheet(QString());
}

void UsageEventForm::save()
{
    const UsageEventDefinition d = definition();
    if (!m_existing)
        return apply(d);
    // Removing or retyping fields: say what happens to stored rows first.
    QStringList touched;
    for (const SchemaField &old : m_existing->schema.fields) {
        const SchemaField *now = d.schema.field(old.path);
        if (!now || now->type != old.type)
            touched.append(old.path);
    }
    if (touched.isEmpty())
        return apply(d);
    m_save->setEnabled(false);
    m_reason->setText(tr("Counting stored values…"));
    m_service->countValues(*m_existing, touched, [this, d, touched](const QHash<QString, qint64> &counts) {
        QStringList lines;
        for (const QString &path : touched) {
            const qint64 n = counts.value(path);
            const bool removed = d.schema.field(path) == nullptr;
            lines.append(removed ? tr("• %1 removed: %2 stored rows keep their value in the table (nothing is deleted).")
                                       .arg(path).arg(n)
                                 : n > 0 ? tr("• %1 retyped: %2 stored rows hold a value, so the type cannot change "
                                              "(add a new field instead).").arg(path).arg(n)
                                         : tr("• %1 retyped: no stored row holds a value; safe.").arg(path));
        }
        const auto answer = QMessageBox::question(this, tr("Change the schema?"),
                                                  tr("What happens to stored rows:\n%1\n\nApply the change?")
                                                      .arg(lines.join(u'\n')));
        validate();
        if (answer == QMessageBox::Yes)
            apply(d);
    });
}

void UsageEventForm::apply(const UsageEventDefinition &d)
{
    UsageEventDefinition copy = d;
    const Problems problems = m_existing ? m_service->updateDefinition(m_existing->slug, copy)
                                         : m_service->createDefinition(copy);
    if (problems.isEmpty()) {
        accept();
        return;
    }
    QStringList lines;
    for (const Problem &p : problems)
        lines.append(p.message);
    m_reason->setText(lines.join(u'\n'));
    m_reason->setStyleSheet(QStringLiteral("color: #d32f2f"));
}

} // namespace meterdesk
