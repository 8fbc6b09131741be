#include "responseview.h"

#include "jsonformat.h"
#include "jsonhighlighter.h"
#include "jsonvalue.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace meterdesk {

namespace {
QString statusColour(int status)
{
    if (status >= 200 && status < 300)
        return QStringLiteral("#2e7d32");
    if (status >= 300 && status < 400)
        return QStringLiteral("#1565c0");
    if (status >= 400 && status < 500)
        return QStringLiteral("#ef6c00");
    return QStringLiteral("#c62828");
}
} // namespace

ResponseView::ResponseView(QWidget *parent) : QWidget(parent)
{
    m_status = new QLabel(tr("No request sent yet. Ctrl+Enter sends."), this);
    m_status->setObjectName(QStringLiteral("responseStatus"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_meta = new QLabel(this);
    m_meta->setObjectName(QStringLiteral("responseMeta"));
    auto *top = new QHBoxLayout;
    top->addWidget(m_status, 1);
    top->addWidget(m_meta);

    m_tabs = new QTabWidget(this);
    auto *bodyTab = new QWidget(m_tabs);
    m_body = new QPlainTextEdit(bodyTab);
    m_body->setObjectName(QStringLiteral("responseBody"));
    m_body->setReadOnly(true);
    m_body->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_highlighter = new JsonHighlighter(m_body->document());
    m_pretty = new QPushButton(tr("Pretty-print"), bodyTab);
    m_pretty->setObjectName(QStringLiteral("responsePretty"));
    m_pretty->hide();
    auto *bodyLayout = new QVBoxLayout(bodyTab);
    bodyLayout->setContentsMargins(0, 0, 0, 0);
    bodyLayout->addWidget(m_body, 1);
    bodyLayout->addWidget(m_pretty, 0, Qt::AlignLeft);
    m_tabs->addTab(bodyTab, tr("Body"));

    m_headers = new QTableWidget(0, 2, m_tabs);
    m_headers->setObjectName(QStringLiteral("responseHeaders"));
    m_headers->setHorizontalHeaderLabels({tr("Header"), tr("Value")});
    m_headers->horizontalHeader()->setStretchLastSection(true);
    m_headers->verticalHeader()->hide();
    m_headers->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_tabs->addTab(m_headers, tr("Headers"));

    m_problemsTab = new QWidget(m_tabs);
    m_problems = new QTreeWidget(m_problemsTab);
    m_problems->setObjectName(QStringLiteral("responseProblems"));
    m_problems->setHeaderLabels({tr("Pointer"), tr("Problem")});
    m_problems->setRootIsDecorated(false);
    m_problems->setColumnWidth(0, 220);
    auto *problemsLayout = new QVBoxLayout(m_problemsTab);
    problemsLayout->setContentsMargins(0, 0, 0, 0);
    problemsLayout->addWidget(m_problems);
    m_tabs->addTab(m_problemsTab, tr("Problems"));
    m_tabs->setTabVisible(2, false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_tabs, 1);

    connect(m_pretty, &QPushButton::clicked, this, [this] { showBody(true); });
    connect(m_problems, &QTreeWidget::itemActivated, this,
            [this](QTreeWidgetItem *item) { emit problemActivated(item->text(0)); });
}

void ResponseView::showSending(const QString &what)
{
    m_status->setStyleSheet({});
    m_status->setText(tr("Sending %1 … (Esc or Cancel stops it)").arg(what));
    m_meta->clear();
}

void ResponseView::showMessage(const QString &message)
{
    m_status->setStyleSheet(QStringLiteral("color: #c62828"));
    m_status->setText(message);
    m_meta->clear();
}

void ResponseView::showResponse(const HttpResponse &response)
{
    m_response = response;
    if (response.status == 0) {
        m_status->setStyleSheet(QStringLiteral("color: #c62828; font-weight: bold"));
        m_status->setText(response.cancelled ? tr("Cancelled") : tr("No response: %1").arg(response.error));
    } else {
        m_status->setStyleSheet(QStringLiteral("color: %1; font-weight: bold").arg(statusColour(response.status)));
        m_status->setText(QStringLiteral("%1 %2").arg(response.status).arg(response.reason));
    }
    m_meta->setText(tr("%1 ms · %2").arg(response.elapsedMs).arg(QLocale().formattedDataSize(response.body.size())));

    m_headers->setRowCount(int(response.headers.size()));
    for (int i = 0; i < response.headers.size(); ++i) {
        m_headers->setItem(i, 0, new QTableWidgetItem(QString::fromUtf8(response.headers[i].first)));
        m_headers->setItem(i, 1, new QTableWidgetItem(QString::fromUtf8(response.headers[i].second)));
    }

    m_problems->clear();
    const QList<HttpResponse::Problem> problems = response.problems();
    for (const HttpResponse::Problem &p : problems)
        (new QTreeWidgetItem(m_problems, {p.pointer, p.detail}))->setToolTip(1, p.detail);
    if (problems.isEmpty() && response.isProblem() && !response.problemDetail().isEmpty())
        new QTreeWidgetItem(m_problems, {QString(), response.problemDetail()});
    const bool anyProblem = m_problems->topLevelItemCount() > 0;
    m_tabs->setTabVisible(2, anyProblem);
    m_tabs->setTabText(2, tr("Problems (%1)").arg(m_problems->topLevelItemCount()));

    showBody(response.body.size() <= RawFirstLimit);
    m_tabs->setCurrentIndex(anyProblem ? 2 : 0);
}

void ResponseView::showBody(bool pretty)
{
    const QByteArray &body = m_response.body;
    m_pretty->setVisible(!pretty);
    // Big bodies: no colouring (regexes over every block) and no wrapping (laying
    // out one wrapped megabyte-long line takes tens of seconds; unwrapped, well under one).
    const bool big = body.size() > RawFirstLimit;
    m_highlighter->setDocument(big ? nullptr : m_body->document());
    m_body->setLineWrapMode(big ? QPlainTextEdit::NoWrap : QPlainTextEdit::WidgetWidth);
    if (pretty) {
        // Exact numbers and member order: the body as the server wrote it, only re-indented.
        if (!body.trimmed().isEmpty() && JsonValue::parse(body).ok) {
            m_body->setPlainText(QString::fromUtf8(JsonFormat::indented(body)));
            return;
        }
    }
    m_body->setPlainText(QString::fromUtf8(body));
}

} // namespace meterdesk
