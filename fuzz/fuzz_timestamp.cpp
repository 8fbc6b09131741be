// Timestamp parsing (models/timestamp.h): every reader of outside time text.
// Properties: an accepted value lies in 0001..9999, its canonical form (toIso)
// parses back to the same microsecond through each reader, and the same instant
// written as Unix seconds parses to it too.
#include "fuzz_common.h"
#include "timestamp.h"

#include <QByteArray>
#include <QString>

using namespace meterdesk;

namespace {

void checkInstant(qint64 micros)
{
    FUZZ_CHECK(micros >= Timestamp::MinMicros && micros <= Timestamp::MaxMicros);
    const QString iso = Timestamp::toIso(micros);
    const Timestamp::Parsed again = Timestamp::fromText(iso);
    FUZZ_CHECK(again.micros && *again.micros == micros);
    const Timestamp::Parsed typed = Timestamp::fromUserInput(iso);
    FUZZ_CHECK(typed.micros && *typed.micros == micros);
    // The same instant as a seconds token with six fraction digits.
    const qint64 seconds = micros >= 0 ? micros / 1000000 : -((-micros) / 1000000);
    const qint64 rest = micros >= 0 ? micros % 1000000 : (-micros) % 1000000;
    QByteArray token = micros < 0 ? QByteArray("-") : QByteArray();
    token += QByteArray::number(micros >= 0 ? seconds : -seconds) + '.' + QByteArray::number(rest).rightJustified(6, '0');
    const Timestamp::Parsed epoch = Timestamp::fromEpochSeconds(token);
    FUZZ_CHECK(epoch.micros && *epoch.micros == micros);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QString text = QString::fromUtf8(bytes);

    const Timestamp::Parsed parsed = Timestamp::fromText(text);
    FUZZ_CHECK(parsed.micros.has_value() == parsed.error.isEmpty());
    if (parsed.micros)
        checkInstant(*parsed.micros);

    const Timestamp::Parsed epoch = Timestamp::fromEpochSeconds(bytes);
    FUZZ_CHECK(epoch.micros.has_value() == epoch.error.isEmpty());
    if (epoch.micros)
        checkInstant(*epoch.micros);

    const Timestamp::Parsed user = Timestamp::fromUserInput(text);
    FUZZ_CHECK(user.micros.has_value() == user.error.isEmpty());
    if (user.micros)
        checkInstant(*user.micros);
    // Whatever fromText accepts, a person may type too, with the same meaning.
    if (parsed.micros)
        FUZZ_CHECK(user.micros && *user.micros == *parsed.micros);

    if (const auto days = Timestamp::daysFromDateText(text)) {
        // A calendar date: its midnight prints as the same date.
        const qint64 midnight = *days * 86400LL * 1000000;
        checkInstant(midnight);
        FUZZ_CHECK(Timestamp::toIso(midnight).left(10) == text);
    }
    return 0;
}
