#pragma once

#include "httprequest.h"

#include <QWidget>

class QTableWidget;

namespace meterdesk {

// The request's headers as an editable table: a checkbox per row switches a
// header on or off (name, value), with Add and Remove. Order is kept. GUI thread.
class HeadersEditor : public QWidget
{
    Q_OBJECT
public:
    explicit HeadersEditor(QWidget *parent = nullptr);

    void setHeaders(const QList<HttpHeader> &headers);
    QList<HttpHeader> headers() const; // rows with an empty name are left out
    void addHeader(const HttpHeader &header);
    QTableWidget *table() const { return m_table; }

signals:
    void changed();

private:
    QTableWidget *m_table = nullptr;
};

} // namespace meterdesk
