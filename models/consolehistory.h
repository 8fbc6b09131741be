#pragma once

#include "httprequest.h"
#include "httpresponse.h"

#include <QDateTime>
#include <QList>

#include <optional>

namespace meterdesk {

// One request sent from the REST console and what came back. The request is kept
// as edited ({{variables}} unresolved), so a stored entry never holds the key the
// environment supplied.
struct HistoryEntry
{
    QDateTime sentAt;
    HttpRequest request;
    HttpResponse response;
};

// The REST console's history: newest first, at most MaxEntries, response bodies
// cut at MaxBodyBytes (marked truncated). Searchable by URL; JSON for the file it
// lives in. A plain value: any thread.
class ConsoleHistory
{
public:
    static constexpr qsizetype MaxEntries = 100;
    static constexpr qsizetype MaxBodyBytes = qsizetype(64) * 1024;

    void add(HistoryEntry entry);
    const QList<HistoryEntry> &entries() const { return m_entries; }
    // Positions of the entries whose URL contains `text` (case-insensitive); all for "".
    QList<qsizetype> search(const QString &text) const;
    void clear() { m_entries.clear(); }

    QByteArray toJson() const;
    static std::optional<ConsoleHistory> fromJson(const QByteArray &json, QString *error);

private:
    QList<HistoryEntry> m_entries;
};

} // namespace meterdesk
