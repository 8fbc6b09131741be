#include "headerseditor.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace meterdesk {

HeadersEditor::HeadersEditor(QWidget *parent) : QWidget(parent)
{
    m_table = new QTableWidget(0, 2, this);
    m_table->setObjectName(QStringLiteral("requestHeaders"));
    m_table->setHorizontalHeaderLabels({tr("Header"), tr("Value")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Interactive);
    m_table->setColumnWidth(0, 200);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setToolTip(tr("Untick a header to leave it out without deleting it"));

    auto *add = new QPushButton(tr("Add header"), this);
    add->setObjectName(QStringLiteral("addHeader"));
    auto *remove = new QPushButton(tr("Remove"), this);
    remove->setObjectName(QStringLiteral("removeHeader"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(add);
    buttons->addWidget(remove);
    buttons->addStretch();
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_table, 1);
    layout->addLayout(buttons);

    connect(add, &QPushButton::clicked, this, [this] {
        addHeader({});
        m_table->setCurrentCell(m_table->rowCount() - 1, 0);
        m_table->editItem(m_table->item(m_table->rowCount() - 1, 0));
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        const int row = m_table->currentRow();
        if (row >= 0) {
            m_table->removeRow(row);
            emit changed();
        }
    });
    connect(m_table, &QTableWidget::itemChanged, this, &HeadersEditor::changed);
}

void HeadersEditor::addHeader(const HttpHeader &header)
{
    const QSignalBlocker block(m_table);
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    auto *name = new QTableWidgetItem(header.name);
    name->setFlags(name->flags() | Qt::ItemIsUserCheckable);
    name->setCheckState(header.enabled ? Qt::Checked : Qt::Unchecked);
    m_table->setItem(row, 0, name);
    m_table->setItem(row, 1, new QTableWidgetItem(header.value));
    emit changed();
}

void HeadersEditor::setHeaders(const QList<HttpHeader> &headers)
{
    {
        const QSignalBlocker block(m_table);
        m_table->setRowCount(0);
    }
    for (const HttpHeader &h : headers)
        addHeader(h);
    emit changed();
}

QList<HttpHeader> HeadersEditor::headers() const
{
    QList<HttpHeader> out;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        const QTableWidgetItem *name = m_table->item(row, 0);
        const QTableWidgetItem *value = m_table->item(row, 1);
        if (!name || name->text().trimmed().isEmpty())
            continue;
        out.append({name->text().trimmed(), value ? value->text() : QString(), name->checkState() == Qt::Checked});
    }
    return out;
}

} // namespace meterdesk
