#include "runplan.h"

#include "jsonvalue.h"
#include "timestamp.h"

namespace meterdesk {

RunPlan::RunPlan(const RunConfig &config, const QByteArray &templateBody, qint64 startUs)
    : m_config(config), m_startUs(startUs)
{
    const JsonValue::ParseResult parsed = JsonValue::parse(templateBody);
    if (!parsed.ok || !parsed.value.isObject()) {
        m_error = QStringLiteral("the body is not a JSON object: %1").arg(parsed.error);
        return;
    }
    const JsonValue *data = parsed.value.member("data");
    if (!data) {
        m_error = QStringLiteral("the body has no \"data\" member to send");
        return;
    }
    m_data = data->toJson();
    m_config.customers = qMax(1, m_config.customers);
}

quint64 RunPlan::random(qsizetype i, quint64 salt) const
{
    // splitmix64 of (seed, index, salt): stateless, so any index from any thread.
    quint64 z = m_config.seed * 0x9E3779B97F4A7C15ULL + quint64(i) * 0xBF58476D1CE4E5B9ULL + salt;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

RunPlan::Kind RunPlan::kind(qsizetype i) const
{
    const int roll = int(random(i, 1) % 100);
    if (roll < m_config.invalidPercent)
        return Kind::Invalid;
    // The first event has nothing earlier to duplicate.
    if (i > 0 && roll < m_config.invalidPercent + m_config.duplicatePercent)
        return Kind::Duplicate;
    return Kind::Valid;
}

QByteArray RunPlan::validBody(qsizetype i) const
{
    QByteArray out = "{\"data\":" + m_data + ",\"timestamp\":\"";
    out += Timestamp::toIso(m_startUs + qint64(i) * 1000).toUtf8();
    out += "\",\"customer_id\":\"customer-" + QByteArray::number(random(i, 2) % quint64(m_config.customers)) + "\"}";
    return out;
}

QByteArray RunPlan::body(qsizetype i) const
{
    switch (kind(i)) {
    case Kind::Invalid:
        return "{\"data\":" + m_data + ",\"timestamp\":\"not a timestamp\",\"customer_id\":\"customer-invalid\"}";
    case Kind::Duplicate: {
        // The nearest valid event at or before a random earlier index.
        qsizetype j = qsizetype(random(i, 3) % quint64(i));
        while (j > 0 && kind(j) != Kind::Valid)
            --j;
        if (kind(j) == Kind::Valid)
            return validBody(j);
        return validBody(i); // nothing valid before: this one is sent as new
    }
    case Kind::Valid:
        break;
    }
    return validBody(i);
}

} // namespace meterdesk
