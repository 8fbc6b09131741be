#pragma once

#include "dataschema.h"

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QTableWidget;
class QTimer;
class QPushButton;

namespace meterdesk {

// Edits a usage event's data schema two ways kept in sync: a field table (path,
// type, required, description; add/remove/reorder) and its JSON Schema text with
// highlighting and inline errors. Plus "infer from sample JSON". GUI thread.
class SchemaEditor : public QWidget
{
    Q_OBJECT
public:
    explicit SchemaEditor(QWidget *parent = nullptr);

    DataSchema schema() const;
    void setSchema(const DataSchema &schema);
    // Problems of the current field list (empty when valid), for the form's save button.
    Problems problems() const;
    // Infers fields from a sample `data` object (or a whole event) and merges them in.
    bool inferFrom(const QString &sampleJson, QString *error);

signals:
    void schemaChanged();

private:
    void addField(const SchemaField &field);
    void moveSelected(int delta);
    void tableEdited();
    void textEdited();
    void showSchemaText();
    SchemaField fieldAt(int row) const;

    QTableWidget *m_table = nullptr;
    QPlainTextEdit *m_text = nullptr;
    QLabel *m_textError = nullptr;
    QLabel *m_tableError = nullptr;
    QPlainTextEdit *m_sample = nullptr;
    QLabel *m_sampleError = nullptr;
    QTimer *m_textDebounce = nullptr;
    bool m_syncing = false;
};

} // namespace meterdesk
