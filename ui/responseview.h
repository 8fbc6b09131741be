#pragma once

#include "httpresponse.h"

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTableWidget;
class QTreeWidget;

namespace meterdesk {

class JsonHighlighter;

// The REST console's response pane: status (coloured by class), time, size, and
// tabs Body (pretty-printed JSON, highlighted; bodies over 1 MiB open raw first),
// Headers, and Problems (an RFC 9457 problem's `errors`: pointer and detail).
// GUI thread.
class ResponseView : public QWidget
{
    Q_OBJECT
public:
    explicit ResponseView(QWidget *parent = nullptr);

    void showSending(const QString &what);
    void showMessage(const QString &message); // a local problem (unresolved variable, bad URL)
    void showResponse(const HttpResponse &response);
    const HttpResponse &response() const { return m_response; }

    static constexpr qsizetype RawFirstLimit = qsizetype(1024) * 1024;

signals:
    // A problem row was activated: its JSON pointer ("/data/cpu").
    void problemActivated(const QString &pointer);

private:
    void showBody(bool pretty);

    HttpResponse m_response;
    QLabel *m_status = nullptr;
    QLabel *m_meta = nullptr;
    QTabWidget *m_tabs = nullptr;
    QPlainTextEdit *m_body = nullptr;
    JsonHighlighter *m_highlighter = nullptr;
    QPushButton *m_pretty = nullptr;
    QTableWidget *m_headers = nullptr;
    QTreeWidget *m_problems = nullptr;
    QWidget *m_problemsTab = nullptr;
};

} // namespace meterdesk
