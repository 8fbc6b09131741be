#pragma once

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace meterdesk {

// One request header as the REST console shows it: a row that can be switched off.
struct HttpHeader
{
    QString name;
    QString value;
    bool enabled = true;

    bool operator==(const HttpHeader &) const = default;
};

// A request as the REST console edits it and as a curl command describes it: a
// plain value (no networking). Headers keep their order and may repeat; the body
// is text (what `--data-raw` carries). `{{variables}}` stay unresolved until
// withVariables() is applied just before sending.
struct HttpRequest
{
    QString method = QStringLiteral("GET");
    QString url;
    QList<HttpHeader> headers;
    QString body;

    bool operator==(const HttpRequest &) const = default;

    // The value of the first enabled header of that name (case-insensitive), or a null string.
    QString header(QStringView name) const
    {
        for (const HttpHeader &h : headers)
            if (h.enabled && h.name.compare(name, Qt::CaseInsensitive) == 0)
                return h.value;
        return {};
    }
    bool hasHeader(QStringView name) const { return !header(name).isNull(); }

    // `{{name}}` in the URL, header names and values and the body replaced by
    // variables[name]; names not in `variables` are left as written and listed in *unresolved.
    HttpRequest withVariables(const QHash<QString, QString> &variables, QStringList *unresolved = nullptr) const;
    static QString expandVariables(const QString &text, const QHash<QString, QString> &variables,
                                   QStringList *unresolved = nullptr);
};

} // namespace meterdesk
