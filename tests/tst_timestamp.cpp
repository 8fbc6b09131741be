// Timestamp: the one time rule (DESIGN.md §1). Expected values are computed here
// independently, with QDateTime, never with the code under test.
#include "timestamp.h"

#include <QDateTime>
#include <QRandomGenerator>
#include <QTest>
#include <QTimeZone>

using namespace meterdesk;
using namespace Qt::StringLiterals;

namespace {

// Microseconds since the epoch of a wall-clock time at a fixed UTC offset, via QDateTime.
qint64 micros(int y, int mo, int d, int h, int mi, int s, int us = 0, int offsetSeconds = 0)
{
    const QDate date(y, mo, d);
    const QTime time(h, mi, s);
    Q_ASSERT(date.isValid() && time.isValid());
    const QTimeZone zone = offsetSeconds == 0 ? QTimeZone::utc() : QTimeZone(offsetSeconds);
    return QDateTime(date, time, zone).toMSecsSinceEpoch() * 1000 + us;
}

const qint64 kSeed = micros(2023, 5, 21, 9, 30, 38, 731000);

} // namespace

class TestTimestamp : public QObject
{
    Q_OBJECT

private slots:
    void fromUserInput_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<qint64>("expected"); // -1: refused
        QTest::newRow("date is midnight UTC") << QStringLiteral("2023-05-21") << qint64(1684627200000000);
        QTest::newRow("seed form") << QStringLiteral("2023-05-21 09:30:38.731") << qint64(1684661438731000);
        QTest::newRow("rfc3339 offset") << QStringLiteral("2023-05-21T15:00:38.731+05:30") << qint64(1684661438731000);
        QTest::newRow("epoch seconds") << QStringLiteral("1684661438.731") << qint64(1684661438731000);
        QTest::newRow("negative epoch") << QStringLiteral("-1") << qint64(-1000000);
        QTest::newRow("spaces around") << QStringLiteral("  2023-05-21  ") << qint64(1684627200000000);
        QTest::newRow("not a date") << QStringLiteral("2023-02-30") << qint64(-1);
        QTest::newRow("words") << QStringLiteral("yesterday") << qint64(-1);
        QTest::newRow("empty") << QString() << qint64(-1);
    }
    void fromUserInput()
    {
        QFETCH(QString, input);
        QFETCH(qint64, expected);
        const Timestamp::Parsed p = Timestamp::fromUserInput(input);
        if (expected == -1) {
            QVERIFY(!p.micros);
            QVERIFY(!p.error.isEmpty());
        } else {
            QVERIFY2(p.micros, qPrintable(p.error));
            QCOMPARE(*p.micros, expected);
        }
    }

    void seedConstantIsRight();
    void fromText_data();
    void fromText();
    void fromEpochSeconds_data();
    void fromEpochSeconds();
    void errorsNameAcceptedForms();
    void toIso_data();
    void toIso();
    void toIsoRoundTrip();
    void toIsoAgreesWithQDateTime();
    void daysFromDateText_data();
    void daysFromDateText();
};

void TestTimestamp::seedConstantIsRight()
{
    // Hand-computed: 2023-05-21 is day 19498 since 1970-01-01.
    QCOMPARE(kSeed, (19498LL * 86400 + 9LL * 3600 + 30LL * 60 + 38) * 1000000 + 731000);
    QCOMPARE(kSeed, 1684661438731000LL);
    QCOMPARE(Timestamp::MinMicros, micros(1, 1, 1, 0, 0, 0));
    QCOMPARE(Timestamp::MaxMicros, micros(9999, 12, 31, 23, 59, 59, 999999));
}

void TestTimestamp::fromText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<qint64>("expected");
    QTest::addColumn<QString>("mentions"); // for refusals: text the error must contain

    auto good = [](const char *tag, const QString &text, qint64 expected) {
        QTest::newRow(tag) << text << true << expected << QString();
    };
    auto bad = [](const char *tag, const QString &text, const QString &mentions = {}) {
        QTest::newRow(tag) << text << false << qint64(0) << mentions;
    };

    // The seed's form and the ISO 8601 / RFC 3339 variants.
    good("seed (space, UTC)", u"2023-05-21 09:30:38.731"_s, kSeed);
    good("T separator", u"2023-05-21T09:30:38.731"_s, kSeed);
    good("lowercase t separator", u"2023-05-21t09:30:38.731"_s, kSeed);
    good("Z", u"2023-05-21T09:30:38.731Z"_s, kSeed);
    good("lowercase z", u"2023-05-21T09:30:38.731z"_s, kSeed);
    good("space and Z", u"2023-05-21 09:30:38.731Z"_s, kSeed);
    good("+05:30", u"2023-05-21T09:30:38.731+05:30"_s, micros(2023, 5, 21, 9, 30, 38, 731000, 5 * 3600 + 1800));
    good("-0800", u"2023-05-21T09:30:38-0800"_s, micros(2023, 5, 21, 9, 30, 38, 0, -8 * 3600));
    good("+01", u"2023-05-21T09:30:38+01"_s, micros(2023, 5, 21, 9, 30, 38, 0, 3600));
    good("+00:00", u"2023-05-21 09:30:38.731+00:00"_s, kSeed);
    good("-00:00", u"2023-05-21 09:30:38.731-00:00"_s, kSeed);
    good("-09:30 crosses midnight", u"2023-05-21T20:00:00-09:30"_s, micros(2023, 5, 22, 5, 30, 0));
    good("+14:00", u"2023-05-21T09:30:38+14:00"_s, micros(2023, 5, 20, 19, 30, 38));
    good("offset lands on a leap day", u"2024-03-01T00:30:00+01:00"_s, micros(2024, 2, 29, 23, 30, 0));

    // 0..9 fraction digits; 7..9 round to the nearest microsecond.
    good("0 fraction digits", u"2023-05-21 09:30:38"_s, micros(2023, 5, 21, 9, 30, 38));
    good("1 fraction digit", u"2023-05-21 09:30:38.7"_s, micros(2023, 5, 21, 9, 30, 38, 700000));
    good("2 fraction digits", u"2023-05-21 09:30:38.73"_s, micros(2023, 5, 21, 9, 30, 38, 730000));
    good("3 fraction digits", u"2023-05-21 09:30:38.731"_s, micros(2023, 5, 21, 9, 30, 38, 731000));
    good("4 fraction digits", u"2023-05-21 09:30:38.7312"_s, micros(2023, 5, 21, 9, 30, 38, 731200));
    good("5 fraction digits", u"2023-05-21 09:30:38.73123"_s, micros(2023, 5, 21, 9, 30, 38, 731230));
    good("6 fraction digits", u"2023-05-21 09:30:38.731234"_s, micros(2023, 5, 21, 9, 30, 38, 731234));
    good("7 digits round down", u"2023-05-21 09:30:38.7312344"_s, micros(2023, 5, 21, 9, 30, 38, 731234));
    good("7 digits round half up", u"2023-05-21 09:30:38.7312345"_s, micros(2023, 5, 21, 9, 30, 38, 731235));
    good("8 digits round down", u"2023-05-21 09:30:38.73123449"_s, micros(2023, 5, 21, 9, 30, 38, 731234));
    good("8 digits round up", u"2023-05-21 09:30:38.73123451"_s, micros(2023, 5, 21, 9, 30, 38, 731235));
    good("9 digits round up", u"2023-05-21 09:30:38.731234567"_s, micros(2023, 5, 21, 9, 30, 38, 731235));
    good("9 digits round down", u"2023-05-21 09:30:38.000000499"_s, micros(2023, 5, 21, 9, 30, 38, 0));
    good("9 digits carry into next second", u"2023-05-21 09:30:38.999999999"_s, micros(2023, 5, 21, 9, 30, 39));
    good("rounding carries into next year", u"2023-12-31 23:59:59.9999995Z"_s, micros(2024, 1, 1, 0, 0, 0));
    good("fraction with offset", u"2023-05-21T09:30:38.123456-0800"_s,
         micros(2023, 5, 21, 9, 30, 38, 123456, -8 * 3600));

    // Calendar edges.
    good("leap day 2024-02-29", u"2024-02-29 12:00:00"_s, micros(2024, 2, 29, 12, 0, 0));
    good("leap day 2000-02-29 (divisible by 400)", u"2000-02-29T00:00:00Z"_s, micros(2000, 2, 29, 0, 0, 0));
    good("epoch", u"1970-01-01 00:00:00"_s, 0);
    good("half a second before the epoch", u"1969-12-31 23:59:59.5"_s, -500000);
    good("year 0001 (minimum)", u"0001-01-01 00:00:00"_s, Timestamp::MinMicros);
    good("year 9999 (maximum)", u"9999-12-31T23:59:59.999999Z"_s, Timestamp::MaxMicros);
    good("23:59:59", u"2023-06-30 23:59:59"_s, micros(2023, 6, 30, 23, 59, 59));

    bad("2023-02-29 (not a leap year)", u"2023-02-29 00:00:00"_s, u"not a date"_s);
    bad("2100-02-29 (century, not a leap year)", u"2100-02-29 00:00:00"_s, u"not a date"_s);
    bad("1900-02-29", u"1900-02-29T12:00:00Z"_s, u"not a date"_s);
    bad("April 31", u"2023-04-31 00:00:00"_s, u"not a date"_s);
    bad("month 13", u"2023-13-01 00:00:00"_s, u"not a date"_s);
    bad("month 00", u"2023-00-10 00:00:00"_s, u"not a date"_s);
    bad("day 00", u"2023-05-00 00:00:00"_s, u"not a date"_s);
    bad("day 32", u"2023-05-32 00:00:00"_s, u"not a date"_s);
    bad("year 0000", u"0000-01-01 00:00:00"_s, u"not a date"_s);
    bad("hour 24", u"2023-05-21 24:00:00"_s, u"not a time"_s);
    bad("minute 60", u"2023-05-21 09:60:00"_s, u"not a time"_s);
    bad("second 60 (leap second)", u"2016-12-31 23:59:60"_s, u"not a time"_s);
    bad("past year 9999 after offset", u"9999-12-31T23:59:59-01:00"_s, u"9999"_s);
    bad("before year 0001 after offset", u"0001-01-01T00:00:00+01:00"_s, u"0001"_s);

    // Shapes that are not timestamps.
    bad("empty", QString());
    bad("garbage", u"yesterday at noon"_s);
    bad("date only", u"2023-05-21"_s);
    bad("trailing text", u"2023-05-21 09:30:38.731 UTC"_s, u"Unexpected"_s);
    bad("trailing text after Z", u"2023-05-21T09:30:38Zjunk"_s, u"Unexpected"_s);
    bad("trailing space", u"2023-05-21 09:30:38 "_s, u"Unexpected"_s);
    bad("leading space", u" 2023-05-21 09:30:38"_s, u"YYYY-MM-DD"_s);
    bad("slashes", u"2023/05/21 09:30:38"_s, u"YYYY-MM-DD"_s);
    bad("underscore separator", u"2023-05-21_09:30:38"_s, u"separated"_s);
    bad("one-digit hour", u"2023-05-21 9:30:38.731"_s, u"HH:MM:SS"_s);
    bad("dot without digits", u"2023-05-21 09:30:38."_s, u"fraction"_s);
    bad("10 fraction digits", u"2023-05-21 09:30:38.1234567890"_s, u"fraction"_s);
    bad("offset +5:30", u"2023-05-21T09:30:38+5:30"_s, u"offset"_s);
    bad("offset +24:00", u"2023-05-21T09:30:38+24:00"_s, u"offset"_s);
    bad("offset +05:60", u"2023-05-21T09:30:38+05:60"_s, u"offset"_s);
    bad("offset +053", u"2023-05-21T09:30:38+053"_s, u"offset"_s);
    bad("full-width digits", u"２０２３-05-21 09:30:38"_s);
    bad("Arabic-Indic fraction digits", u"2023-05-21 09:30:38.٧٣١"_s);
    bad("epoch seconds as text", u"1684661438"_s);
    bad("RFC 2822", u"Sun, 21 May 2023 09:30:38 GMT"_s);
}

void TestTimestamp::fromText()
{
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(qint64, expected);
    QFETCH(QString, mentions);

    const Timestamp::Parsed parsed = Timestamp::fromText(text);
    if (ok) {
        QVERIFY2(parsed.micros.has_value(), qPrintable(parsed.error));
        QCOMPARE(*parsed.micros, expected);
        QVERIFY(parsed.error.isEmpty());
    } else {
        QVERIFY2(!parsed.micros.has_value(), qPrintable(Timestamp::toIso(parsed.micros.value_or(0))));
        QVERIFY(!parsed.error.isEmpty());
        QVERIFY2(parsed.error.contains(Timestamp::acceptedForms()), qPrintable(parsed.error));
        if (!mentions.isEmpty())
            QVERIFY2(parsed.error.contains(mentions, Qt::CaseInsensitive), qPrintable(parsed.error));
    }
}

void TestTimestamp::fromEpochSeconds_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<qint64>("expected");
    QTest::addColumn<QString>("mentions");

    auto good = [](const char *token, qint64 expected) {
        QTest::newRow(token) << QByteArray(token) << true << expected << QString();
    };
    auto bad = [](const char *tag, const char *token, const QString &mentions = {}) {
        QTest::newRow(tag) << QByteArray(token) << false << qint64(0) << mentions;
    };

    good("1684661438", micros(2023, 5, 21, 9, 30, 38));
    good("1684661438.731", kSeed);
    good("1.684661438731e9", kSeed);
    good("1.684661438731E+9", kSeed);
    good("1684661438731e-3", kSeed);
    good("168466143.8731e1", kSeed);
    good("1684661438.731000000000000000000000", kSeed);
    good("0001684661438.731", kSeed);
    good("1e9", micros(2001, 9, 9, 1, 46, 40));
    good("1e0000001", 10 * 1000000LL); // leading zeros in the exponent do not drop digits
    good("1e-0000001", 100000);
    good("1e-9999999999", 0);
    good("0e999999999", 0);
    good("12e-1", 1200000);
    good("0.1e1", 1000000);
    good("-1", micros(1969, 12, 31, 23, 59, 59));
    good("-1.5", -1500000);
    good("0", 0);
    good("-0", 0);
    good("0.0", 0);
    good("0e5", 0);
    good("0.000001", 1);
    good("0.0000005", 1);  // half rounds away from zero
    good("0.0000004", 0);
    good("0.00000005", 0);
    good("-0.0000005", -1);
    good("1684661438.1234565", micros(2023, 5, 21, 9, 30, 38, 123457));
    good("1684661438.7314999", micros(2023, 5, 21, 9, 30, 38, 731500));
    good("1684661438.9999996", micros(2023, 5, 21, 9, 30, 39));
    good("253402300799.999999", Timestamp::MaxMicros);
    good("-62135596800", Timestamp::MinMicros);
    good("951782400", micros(2000, 2, 29, 0, 0, 0));

    bad("milliseconds as seconds", "1684661438731", u"milliseconds"_s);
    bad("milliseconds with fraction", "1684661438731.5", u"milliseconds"_s);
    bad("microseconds as seconds", "1684661438731000", u"milliseconds"_s);
    bad("past year 9999", "253402300800", u"9999"_s);
    bad("before year 0001", "-62135596801", u"0001"_s);
    bad("huge exponent", "1e999999999", u"9999"_s);
    bad("empty", "");
    bad("minus only", "-");
    bad("plus sign", "+1");
    bad("leading dot", ".5");
    bad("letters", "abc");
    bad("two dots", "1.2.3");
    bad("hex", "0x10");
    bad("double minus", "--1");
    bad("trailing letters", "1e5x");
    bad("NaN", "NaN");
    bad("Infinity", "Infinity");
    bad("space inside", "1684661438 ");
}

void TestTimestamp::fromEpochSeconds()
{
    QFETCH(QByteArray, token);
    QFETCH(bool, ok);
    QFETCH(qint64, expected);
    QFETCH(QString, mentions);

    const Timestamp::Parsed parsed = Timestamp::fromEpochSeconds(token);
    if (ok) {
        QVERIFY2(parsed.micros.has_value(), qPrintable(parsed.error));
        QCOMPARE(*parsed.micros, expected);
    } else {
        QVERIFY2(!parsed.micros.has_value(), qPrintable(Timestamp::toIso(parsed.micros.value_or(0))));
        QVERIFY(!parsed.error.isEmpty());
        QVERIFY2(parsed.error.contains(Timestamp::acceptedForms()), qPrintable(parsed.error));
        if (!mentions.isEmpty())
            QVERIFY2(parsed.error.contains(mentions, Qt::CaseInsensitive), qPrintable(parsed.error));
    }
}

void TestTimestamp::errorsNameAcceptedForms()
{
    const QString forms = Timestamp::acceptedForms();
    QVERIFY(forms.contains(u"YYYY-MM-DD HH:MM:SS"_s));
    QVERIFY(forms.contains(u"RFC 3339"_s));
    QVERIFY(forms.contains(u"Unix seconds"_s));
    // A 10 KB garbage input must not be echoed back whole.
    const Timestamp::Parsed parsed = Timestamp::fromText(QString(10240, u'x'));
    QVERIFY(!parsed.micros);
    QVERIFY(parsed.error.size() < 1024);
    const Timestamp::Parsed epoch = Timestamp::fromEpochSeconds(QByteArray(10240, '9'));
    QVERIFY(!epoch.micros);
    QVERIFY(epoch.error.size() < 1024);
}

void TestTimestamp::toIso_data()
{
    QTest::addColumn<qint64>("value");
    QTest::addColumn<QString>("iso");

    QTest::newRow("epoch") << qint64(0) << u"1970-01-01T00:00:00.000Z"_s;
    QTest::newRow("seed: 3 digits") << kSeed << u"2023-05-21T09:30:38.731Z"_s;
    QTest::newRow("whole second: 3 digits") << micros(2023, 5, 21, 9, 30, 38) << u"2023-05-21T09:30:38.000Z"_s;
    QTest::newRow("microseconds: 6 digits") << kSeed + 234 << u"2023-05-21T09:30:38.731234Z"_s;
    QTest::newRow("one microsecond") << qint64(1) << u"1970-01-01T00:00:00.000001Z"_s;
    QTest::newRow("before epoch") << qint64(-1) << u"1969-12-31T23:59:59.999999Z"_s;
    QTest::newRow("before epoch, ms") << qint64(-1000) << u"1969-12-31T23:59:59.999Z"_s;
    QTest::newRow("leap day") << micros(2024, 2, 29, 23, 59, 59, 500000) << u"2024-02-29T23:59:59.500Z"_s;
    QTest::newRow("minimum") << Timestamp::MinMicros << u"0001-01-01T00:00:00.000Z"_s;
    QTest::newRow("maximum") << Timestamp::MaxMicros << u"9999-12-31T23:59:59.999999Z"_s;
}

void TestTimestamp::toIso()
{
    QFETCH(qint64, value);
    QFETCH(QString, iso);
    QCOMPARE(Timestamp::toIso(value), iso);
    const auto back = Timestamp::fromText(iso);
    QVERIFY2(back.micros, qPrintable(back.error));
    QCOMPARE(*back.micros, value);
}

void TestTimestamp::toIsoRoundTrip()
{
    QRandomGenerator rng(20230521); // fixed seed: reproducible
    for (int i = 0; i < 20000; ++i) {
        qint64 v = rng.bounded(Timestamp::MinMicros, Timestamp::MaxMicros);
        if (i % 2)
            v -= v % 1000; // half of them with millisecond precision: the 3-digit form
        const QString iso = Timestamp::toIso(v);
        QCOMPARE(iso.size(), v % 1000 == 0 ? 24 : 27);
        const auto back = Timestamp::fromText(iso);
        QVERIFY2(back.micros, qPrintable(iso));
        QCOMPARE(*back.micros, v);
    }
}

void TestTimestamp::toIsoAgreesWithQDateTime()
{
    QRandomGenerator rng(42);
    for (int i = 0; i < 5000; ++i) {
        // QDateTime's ISO form is exact for years 0001..9999 at millisecond precision.
        const qint64 ms = rng.bounded(Timestamp::MinMicros / 1000, Timestamp::MaxMicros / 1000);
        const QString expected = QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
        QCOMPARE(Timestamp::toIso(ms * 1000), expected);
    }
}

void TestTimestamp::daysFromDateText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<qint64>("days");

    const QDate epoch(1970, 1, 1);
    auto good = [&epoch](const char *tag, const QString &text, QDate date) {
        QTest::newRow(tag) << text << true << epoch.daysTo(date);
    };
    good("epoch", u"1970-01-01"_s, QDate(1970, 1, 1));
    good("seed date", u"2023-05-21"_s, QDate(2023, 5, 21));
    good("leap day 2024", u"2024-02-29"_s, QDate(2024, 2, 29));
    good("leap day 2000", u"2000-02-29"_s, QDate(2000, 2, 29));
    good("before epoch", u"1969-12-31"_s, QDate(1969, 12, 31));
    good("year 0001", u"0001-01-01"_s, QDate(1, 1, 1));
    good("year 9999", u"9999-12-31"_s, QDate(9999, 12, 31));
    QTest::newRow("hand-computed seed date") << u"2023-05-21"_s << true << qint64(19498);

    auto bad = [](const char *tag, const QString &text) { QTest::newRow(tag) << text << false << qint64(0); };
    bad("2023-02-29", u"2023-02-29"_s);
    bad("2100-02-29", u"2100-02-29"_s);
    bad("month 13", u"2023-13-01"_s);
    bad("year 0000", u"0000-06-01"_s);
    bad("single-digit month", u"2023-5-21"_s);
    bad("with a time", u"2023-05-21 09:30:38"_s);
    bad("trailing space", u"2023-05-21 "_s);
    bad("empty", QString());
    bad("garbage", u"not a date"_s);
}

void TestTimestamp::daysFromDateText()
{
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(qint64, days);
    const auto result = Timestamp::daysFromDateText(text);
    QCOMPARE(result.has_value(), ok);
    if (ok)
        QCOMPARE(*result, days);
}

QTEST_GUILESS_MAIN(TestTimestamp)
#include "tst_timestamp.moc"
