#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QMetaType>
#include <QString>

namespace meterdesk {

// What the REST console's runner is asked to do.
struct RunConfig
{
    int count = 1000;
    int concurrency = 8;        // connections kept open at once
    int ratePerSecond = 0;      // 0: as fast as the endpoint answers
    int customers = 100;        // customer ids drawn from customer-0 … customer-(n-1)
    int duplicatePercent = 0;   // re-sends of an earlier event (same key, same data)
    int invalidPercent = 0;     // events with a timestamp the endpoint must refuse (422)
    quint64 seed = 1;
};

// One second of a run, for the live chart.
struct RunSecond
{
    int second = 0;
    qint64 completed = 0;  // answers in that second
    double p50Ms = 0;
    double p99Ms = 0;
};

// Progress and, at the end, the summary of a run.
struct RunStats
{
    qint64 sent = 0;
    qint64 completed = 0;
    qint64 networkErrors = 0;
    QMap<int, qint64> byStatus;
    QList<RunSecond> seconds;
    double elapsedS = 0;
    bool finished = false;
    bool stopped = false;
    QString error;  // why the run could not start or broke off

    double eventsPerSecond() const { return elapsedS > 0 ? completed / elapsedS : 0; }
};

// The events of a run, generated on demand from a template body (the console's
// current body): event i gets its own timestamp (start + i ms, so valid events
// never collide), a customer drawn from RunConfig::customers, and is either valid,
// a duplicate of an earlier valid event, or invalid. Deterministic for a seed;
// pure and const, so any thread may ask for any index.
class RunPlan
{
public:
    enum class Kind { Valid, Duplicate, Invalid };

    // nullopt-like: valid() is false and error() says why when the template is
    // not a JSON object with a `data` member.
    RunPlan(const RunConfig &config, const QByteArray &templateBody, qint64 startUs);

    bool isValid() const { return m_error.isEmpty(); }
    QString error() const { return m_error; }
    Kind kind(qsizetype i) const;
    QByteArray body(qsizetype i) const;

private:
    quint64 random(qsizetype i, quint64 salt) const;
    QByteArray validBody(qsizetype i) const;

    RunConfig m_config;
    QByteArray m_data; // the template's `data`, exactly as written (compact)
    qint64 m_startUs = 0;
    QString m_error;
};

} // namespace meterdesk

Q_DECLARE_METATYPE(meterdesk::RunStats)
