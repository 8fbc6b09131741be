#pragma once

#include "usageevent.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;
class QUndoStack;
class QHBoxLayout;

namespace meterdesk {

class RowsModel;

// The Rows tab: one usage event's stored rows, live, lazily paged, filterable
// (customer, time range, DB4S-style per-column filters), editable with undo and an
// audit trail, rows deletable (undoable), cells copyable as TSV or JSON. GUI thread.
class RowsView : public QWidget
{
    Q_OBJECT
public:
    RowsView(const QString &workspaceLocation, QWidget *parent = nullptr);
    ~RowsView() override;

    void showDefinition(const UsageEventDefinition &definition);
    RowsModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QUndoStack *undoStack() const { return m_undo; }

public slots:
    void rowsCommitted(); // the endpoint stored rows for this usage event
    void applyFilters();
    void copySelection(bool asJson);
    void deleteSelected();
    void openImport(); // the ImportDialog; the rows reload when an import ends
    void openExport(); // the ExportDialog for the current filter

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void rebuildColumnFilters();
    void placeColumnFilters();
    void showHistory();

    RowsModel *m_model = nullptr;
    QTableView *m_view = nullptr;
    QUndoStack *m_undo = nullptr;
    QLineEdit *m_customer = nullptr;
    QLineEdit *m_from = nullptr;
    QLineEdit *m_to = nullptr;
    QCheckBox *m_localTime = nullptr;
    QLabel *m_count = nullptr;
    QLabel *m_error = nullptr;
    QPushButton *m_newRows = nullptr;
    QWidget *m_filterStrip = nullptr;
    QList<QLineEdit *> m_columnFilters;
    int m_pendingNew = 0;
    bool m_sized = false;
    UsageEventDefinition m_definition;
    QString m_location; // for the import and export workers' own connections
};

} // namespace meterdesk
