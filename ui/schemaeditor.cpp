#include "schemaeditor.h"

#include "jsonhighlighter.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace meterdesk {

namespace {
enum Column { PathColumn, TypeColumn, RequiredColumn, DescriptionColumn };

QLabel *errorLabel(QWidget *parent, const QString &name)
{
    auto *label = new QLabel(parent);
    label->setObjectName(name);
    label->setWordWrap(true);
    label->setStyleSheet(QStringLiteral("color: #d32f2f"));
    label->hide();
    return label;
}

void showError(QLabel *label, const QString &text)
{
    label->setText(text);
    label->setVisible(!text.isEmpty());
}
} // namespace

SchemaEditor::SchemaEditor(QWidget *parent) : QWidget(parent)
{
    auto *tabs = new QTabWidget(this);

    // Fields table.
    auto *fieldsPage = new QWidget(tabs);
    m_table = new QTableWidget(0, 4, fieldsPage);
    m_table->setObjectName(QStringLiteral("schemaFields"));
    m_table->setHorizontalHeaderLabels({tr("Field (dots for nesting)"), tr("Type"), tr("Required"), tr("Description")});
    m_table->horizontalHeader()->setSectionResizeMode(DescriptionColumn, QHeaderView::Stretch);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->verticalHeader()->hide();
    auto *add = new QPushButton(tr("&Add field"), fieldsPage);
    add->setObjectName(QStringLiteral("addField"));
    auto *remove = new QPushButton(tr("Remove"), fieldsPage);
    remove->setObjectName(QStringLiteral("removeField"));
    auto *up = new QPushButton(tr("Move up"), fieldsPage);
    auto *down = new QPushButton(tr("Move down"), fieldsPage);
    m_tableError = errorLabel(fieldsPage, QStringLiteral("schemaError"));
    auto *buttons = new QHBoxLayout;
    for (QPushButton *b : {add, remove, up, down})
        buttons->addWidget(b);
    buttons->addStretch();
    auto *fieldsLayout = new QVBoxLayout(fieldsPage);
    fieldsLayout->addWidget(m_table);
    fieldsLayout->addLayout(buttons);
    fieldsLayout->addWidget(m_tableError);
    tabs->addTab(fieldsPage, tr("Fields"));

    // JSON Schema text, both ways.
    auto *textPage = new QWidget(tabs);
    m_text = new QPlainTextEdit(textPage);
    m_text->setObjectName(QStringLiteral("schemaText"));
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    new JsonHighlighter(m_text->document());
    m_textError = errorLabel(textPage, QStringLiteral("schemaTextError"));
    auto *textLayout = new QVBoxLayout(textPage);
    textLayout->addWidget(m_text);
    textLayout->addWidget(m_textError);
    tabs->addTab(textPage, tr("JSON Schema"));

    // Inference from a sample.
    auto *samplePage = new QWidget(tabs);
    m_sample = new QPlainTextEdit(samplePage);
    m_sample->setObjectName(QStringLiteral("sampleJson"));
    m_sample->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_sample->setPlaceholderText(QStringLiteral("{\"cpu_usage_hours_per_day\": \"5\"}"));
    new JsonHighlighter(m_sample->document());
    auto *infer = new QPushButton(tr("&Infer fields from this sample"), samplePage);
    infer->setObjectName(QStringLiteral("inferButton"));
    m_sampleError = errorLabel(samplePage, QStringLiteral("sampleError"));
    auto *sampleLayout = new QVBoxLayout(samplePage);
    sampleLayout->addWidget(new QLabel(tr("Paste a sample <code>data</code> object, or a whole event:"), samplePage));
    sampleLayout->addWidget(m_sample);
    sampleLayout->addWidget(infer);
    sampleLayout->addWidget(m_sampleError);
    tabs->addTab(samplePage, tr("Infer from sample JSON…"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(tabs);

    m_textDebounce = new QTimer(this);
    m_textDebounce->setSingleShot(true);
    m_textDebounce->setInterval(300);
    connect(m_textDebounce, &QTimer::timeout, this, &SchemaEditor::textEdited);
    connect(m_text, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_syncing)
            m_textDebounce->start();
    });
    connect(add, &QPushButton::clicked, this, [this] {
        addField({QStringLiteral("field_%1").arg(m_table->rowCount() + 1), FieldType::Float, false, {}});
        m_table->setCurrentCell(m_table->rowCount() - 1, PathColumn);
        m_table->editItem(m_table->item(m_table->rowCount() - 1, PathColumn));
        tableEdited();
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        const int row = m_table->currentRow();
        if (row >= 0) {
            m_table->removeRow(row);
            tableEdited();
        }
    });
    connect(up, &QPushButton::clicked, this, [this] { moveSelected(-1); });
    connect(down, &QPushButton::clicked, this, [this] { moveSelected(1); });
    connect(m_table, &QTableWidget::itemChanged, this, [this] {
        if (!m_syncing)
            tableEdited();
    });
    connect(infer, &QPushButton::clicked, this, [this, tabs] {
        QString error;
        if (inferFrom(m_sample->toPlainText(), &error))
            tabs->setCurrentIndex(0);
        showError(m_sampleError, error);
    });
    showSchemaText();
}

void SchemaEditor::addField(const SchemaField &f)
{
    const bool wasSyncing = m_syncing;
    m_syncing = true;
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    m_table->setItem(row, PathColumn, new QTableWidgetItem(f.path));
    auto *type = new QComboBox(m_table);
    for (FieldType t : FieldTypes::all())
        type->addItem(FieldTypes::name(t), int(t));
    type->setCurrentIndex(type->findData(int(f.type)));
    connect(type, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_syncing)
            tableEdited();
    });
    m_table->setCellWidget(row, TypeColumn, type);
    auto *required = new QTableWidgetItem;
    required->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    required->setCheckState(f.required ? Qt::Checked : Qt::Unchecked);
    m_table->setItem(row, RequiredColumn, required);
    m_table->setItem(row, DescriptionColumn, new QTableWidgetItem(f.description));
    m_syncing = wasSyncing;
}

SchemaField SchemaEditor::fieldAt(int row) const
{
    SchemaField f;
    f.path = m_table->item(row, PathColumn) ? m_table->item(row, PathColumn)->text().trimmed() : QString();
    if (auto *combo = qobject_cast<QComboBox *>(m_table->cellWidget(row, TypeColumn)))
        f.type = FieldType(combo->currentData().toInt());
    f.required = m_table->item(row, RequiredColumn) && m_table->item(row, RequiredColumn)->checkState() == Qt::Checked;
    f.description = m_table->item(row, DescriptionColumn) ? m_table->item(row, DescriptionColumn)->text() : QString();
    return f;
}

void SchemaEditor::moveSelected(int delta)
{
    const int row = m_table->currentRow();
    const int target = row + delta;
    if (row < 0 || target < 0 || target >= m_table->rowCount())
        return;
    DataSchema s = schema();
    s.fields.move(row, target);
    setSchema(s);
    m_table->setCurrentCell(target, PathColumn);
    emit schemaChanged();
}

DataSchema SchemaEditor::schema() const
{
    DataSchema s;
    for (int row = 0; row < m_table->rowCount(); ++row)
        s.fields.append(fieldAt(row));
    return s;
}

Problems SchemaEditor::problems() const
{
    return schema().validate();
}

void SchemaEditor::setSchema(const DataSchema &s)
{
    m_syncing = true;
    m_table->setRowCount(0);
    for (const SchemaField &f : s.fields)
        addField(f);
    m_syncing = false;
    showSchemaText();
    const Problems p = problems();
    showError(m_tableError, p.isEmpty() ? QString() : p.first().message);
}

void SchemaEditor::showSchemaText()
{
    m_syncing = true;
    m_text->setPlainText(QString::fromUtf8(QJsonDocument(schema().toJsonSchema()).toJson(QJsonDocument::Indented)));
    m_syncing = false;
    showError(m_textError, {});
}

void SchemaEditor::tableEdited()
{
    const Problems p = problems();
    showError(m_tableError, p.isEmpty() ? QString() : p.first().message);
    showSchemaText();
    emit schemaChanged();
}

void SchemaEditor::textEdited()
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(m_text->toPlainText().toUtf8(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        showError(m_textError, pe.error != QJsonParseError::NoError
                                   ? tr("Not JSON: %1 (at character %2).").arg(pe.errorString()).arg(pe.offset)
                                   : tr("A JSON Schema is an object."));
        return;
    }
    Problems problems;
    const auto parsed = DataSchema::fromJsonSchema(doc.object(), &problems);
    if (!parsed) {
        showError(m_textError, problems.isEmpty() ? tr("This schema cannot be used.")
                                                  : problems.first().pointer + QStringLiteral(": ") + problems.first().message);
        return;
    }
    // Keep the table's order for fields that stay; new ones go last.
    DataSchema merged;
    const DataSchema current = schema();
    for (const SchemaField &f : current.fields)
        if (const SchemaField *n = parsed->field(f.path))
            merged.fields.append(*n);
    for (const SchemaField &f : parsed->fields)
        if (!merged.field(f.path))
            merged.fields.append(f);
    m_syncing = true;
    m_table->setRowCount(0);
    for (const SchemaField &f : std::as_const(merged.fields))
        addField(f);
    m_syncing = false;
    showError(m_textError, {});
    showError(m_tableError, {});
    emit schemaChanged();
}

bool SchemaEditor::inferFrom(const QString &sampleJson, QString *error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(sampleJson.toUtf8(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        *error = pe.error != QJsonParseError::NoError
            ? tr("The sample is not JSON: %1 (at character %2).").arg(pe.errorString()).arg(pe.offset)
            : tr("The sample must be a JSON object, like {\"cpu_usage_hours_per_day\": \"5\"}.");
        return false;
    }
    const DataSchema inferred = DataSchema::infer(doc.object());
    if (inferred.fields.isEmpty()) {
        *error = tr("The sample has no fields to infer.");
        return false;
    }
    DataSchema s = schema();
    for (const SchemaField &f : inferred.fields) {
        if (SchemaField *existing = [&]() -> SchemaField * {
                for (SchemaField &e : s.fields)
                    if (e.path == f.path)
                        return &e;
                return nullptr;
            }())
            existing->type = f.type;
        else
            s.fields.append(f);
    }
    setSchema(s);
    error->clear();
    emit schemaChanged();
    return true;
}

} // namespace meterdesk
