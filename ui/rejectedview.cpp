#include "rejectedview.h"

#include "deadlettersmodel.h"
#include "jsonhighlighter.h"
#include "workspaceservice.h"

#include <QAction>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace meterdesk {

namespace {
QString pretty(const QByteArray &json)
{
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    return doc.isNull() ? QString::fromUtf8(json) : QString::fromUtf8(doc.toJson(QJsonDocument::Indented));
}

QPlainTextEdit *jsonPane(QWidget *parent, const QString &name)
{
    auto *e = new QPlainTextEdit(parent);
    e->setObjectName(name);
    e->setReadOnly(true);
    e->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    new JsonHighlighter(e->document());
    return e;
}
} // namespace

RejectedView::RejectedView(WorkspaceService *service, QWidget *parent)
    : QWidget(parent), m_service(service), m_model(new DeadLettersModel(this))
{
    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("deadLetters"));
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setSectionResizeMode(DeadLettersModel::Problem, QHeaderView::Stretch);
    m_view->horizontalHeader()->setSectionResizeMode(DeadLettersModel::Time, QHeaderView::ResizeToContents);

    auto *details = new QTabWidget(this);
    m_problem = jsonPane(details, QStringLiteral("problemBody"));
    m_body = jsonPane(details, QStringLiteral("requestBody"));
    m_headers = jsonPane(details, QStringLiteral("requestHeaders"));
    details->addTab(m_problem, tr("Problem"));
    details->addTab(m_body, tr("Request body"));
    details->addTab(m_headers, tr("Headers (credentials removed)"));

    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_view);
    split->addWidget(details);

    m_empty = new QLabel(tr("No rejected requests. Requests this endpoint refuses (bad JSON, schema errors, "
                            "wrong keys, conflicts) are kept here with the answer they got."),
                         this);
    m_empty->setWordWrap(true);
    auto *resend = new QPushButton(tr("Fix and re-send…"), this);
    resend->setObjectName(QStringLiteral("resend"));
    resend->setToolTip(tr("Open the request body in the REST console, fix it, send it again"));
    auto *refresh = new QPushButton(tr("Refresh"), this);
    refresh->setShortcut(QKeySequence::Refresh);
    auto *remove = new QPushButton(tr("Delete"), this);
    remove->setObjectName(QStringLiteral("deleteLetter"));
    auto *clear = new QPushButton(tr("Clear all…"), this);
    clear->setObjectName(QStringLiteral("clearLetters"));
    auto *buttons = new QHBoxLayout;
    for (QPushButton *b : {resend, refresh, remove, clear})
        buttons->addWidget(b);
    buttons->addStretch();

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_empty);
    layout->addLayout(buttons);
    layout->addWidget(split, 1);

    auto *del = new QAction(this);
    del->setShortcut(QKeySequence::Delete);
    del->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_view->addAction(del);
    connect(del, &QAction::triggered, this, &RejectedView::deleteSelected);
    connect(remove, &QPushButton::clicked, this, &RejectedView::deleteSelected);
    connect(clear, &QPushButton::clicked, this, &RejectedView::clearAll);
    connect(refresh, &QPushButton::clicked, this, &RejectedView::reload);
    connect(resend, &QPushButton::clicked, this, [this] {
        if (const DeadLetterRecord *l = m_model->letterAt(m_view->currentIndex().row()))
            emit resendRequested(m_slug, QString::fromUtf8(l->body));
    });
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &RejectedView::showDetail);
    // Dead letters are written by the endpoint's writer; while the tab is visible,
    // look for new ones every 2 s (a bounded, indexed table: a cheap query).
    m_poll = new QTimer(this);
    m_poll->setInterval(2000);
    connect(m_poll, &QTimer::timeout, this, [this] {
        if (m_service->deadLetters(m_slug).size() != m_model->rowCount())
            reload();
    });
}

void RejectedView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    m_poll->start();
}

void RejectedView::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_poll->stop();
}

void RejectedView::showSlug(const QString &slug)
{
    m_slug = slug;
    reload();
}

void RejectedView::reload()
{
    const QList<DeadLetterRecord> letters = m_service->deadLetters(m_slug);
    m_model->setLetters(letters);
    m_empty->setVisible(letters.isEmpty());
    if (!letters.isEmpty())
        m_view->setCurrentIndex(m_model->index(0, 0));
    showDetail();
}

void RejectedView::showDetail()
{
    const DeadLetterRecord *l = m_model->letterAt(m_view->currentIndex().row());
    m_problem->setPlainText(l ? pretty(l->problem) : QString());
    m_body->setPlainText(l ? pretty(l->body) : QString());
    m_headers->setPlainText(l ? pretty(l->headers) : QString());
}

void RejectedView::deleteSelected()
{
    QList<qint64> ids;
    for (const QModelIndex &i : m_view->selectionModel()->selectedRows())
        ids.append(m_model->data(i, DeadLettersModel::IdRole).toLongLong());
    if (ids.isEmpty())
        return;
    QString error;
    if (!m_service->removeDeadLetters(ids, &error))
        QMessageBox::warning(this, tr("Not deleted"), error);
    reload();
}

void RejectedView::clearAll()
{
    auto *box = new QMessageBox(QMessageBox::Question, tr("Clear rejected requests"),
                                tr("Delete all %1 rejected requests of “%2”?").arg(m_model->rowCount()).arg(m_slug),
                                QMessageBox::Yes | QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("clearConfirm"));
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this](int result) {
        if (result != QMessageBox::Yes)
            return;
        QString error;
        if (!m_service->clearDeadLetters(m_slug, &error))
            QMessageBox::warning(this, tr("Not cleared"), error);
        reload();
    });
    box->open();
}

} // namespace meterdesk
