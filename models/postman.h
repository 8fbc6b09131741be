#pragma once

#include "httprequest.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

namespace meterdesk {

// A named request in a collection.
struct SavedRequest
{
    QString name;
    HttpRequest request;
    bool operator==(const SavedRequest &) const = default;
};

// A named list of requests, as the REST console saves them. Folders of an
// imported collection are flattened into names ("Folder / Request").
struct RequestCollection
{
    QString name;
    QList<SavedRequest> requests;
    QList<QPair<QString, QString>> variables; // collection variables ({{key}} -> value)
    bool operator==(const RequestCollection &) const = default;
};

// Postman Collection Format v2.1 and Postman environment files, read and written.
// Reading turns auth blocks (bearer, apikey in header, basic; inherited from the
// collection) into headers, raw and urlencoded bodies into text, and a URL given
// as an object into its `raw` form. Pure QtCore, any thread.
namespace Postman {

std::optional<RequestCollection> readCollection(const QByteArray &json, QString *error);
QByteArray writeCollection(const RequestCollection &collection);

// {"name": …, "values": [{"key", "value", "enabled"}]}: enabled values only.
std::optional<QList<QPair<QString, QString>>> readEnvironment(const QByteArray &json, QString *name, QString *error);
QByteArray writeEnvironment(const QString &name, const QList<QPair<QString, QString>> &values);

} // namespace Postman

} // namespace meterdesk
