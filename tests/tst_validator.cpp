// Validator and JsonValue: the one rule for envelopes and `data` (DESIGN.md §1).
#include "dataschema.h"
#include "jsonvalue.h"
#include "validator.h"

#include <QJsonDocument>
#include <QTest>

#include <algorithm>

using namespace meterdesk;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(meterdesk::FieldType)

namespace {

// The seed's curl body and sample, byte for byte (its customer_id is the page's
// mangled "[email protected]", non-ASCII UTF-8 included).
const QByteArray kSeedCustomer = QByteArray("[email\xc2\xac\xe2\x80\xa0protected]");
const QByteArray kSeedCurl = R"({"data":{"cpu_usage_hours_per_day":5},"timestamp":"2023-05-21 09:30:38.731","customer_id":")"
    + kSeedCustomer + R"("})";
const QByteArray kSeedCurl2 = R"({"data":{"cpu_usage_hours_per_month":300},"timestamp":"2023-05-21 09:30:38.731","customer_id":")"
    + kSeedCustomer + R"("})";
const QByteArray kSeedSample = "{\n    \"data\": {\n        \"cpu_usage_hours_per_day\": \"5\"\n    },\n"
                               "    \"timestamp\": \"2023-05-21 09:30:38.731\",\n    \"customer_id\": \""
    + kSeedCustomer + "\"\n}";
constexpr qint64 kSeedMicros = 1684661438731000LL; // 2023-05-21T09:30:38.731Z

DataSchema schemaOf(std::initializer_list<SchemaField> fields)
{
    DataSchema s;
    s.fields = fields;
    return s;
}

QByteArray envelope(const QByteArray &data, const QByteArray &timestamp = "\"2023-05-21 09:30:38.731\"",
                    const QByteArray &customer = "\"c-1\"")
{
    return "{\"data\":" + data + ",\"timestamp\":" + timestamp + ",\"customer_id\":" + customer + "}";
}

QString describe(const Problems &problems)
{
    QStringList lines;
    for (const Problem &p : problems)
        lines.append(u"[%1] %2: %3"_s.arg(int(p.code)).arg(p.pointer, p.message));
    return lines.join(u" | "_s);
}

const Problem *problemAt(const Problems &problems, const QString &pointer)
{
    const auto it = std::find_if(problems.begin(), problems.end(), [&](const Problem &p) { return p.pointer == pointer; });
    return it == problems.end() ? nullptr : &*it;
}

JsonValue parsed(const QByteArray &json)
{
    auto r = JsonValue::parse(json);
    if (!r.ok)
        qFatal("bad test JSON: %s", json.constData());
    return r.value;
}

} // namespace

class TestValidator : public QObject
{
    Q_OBJECT

private slots:
    void seedCurlPayload();
    void seedSamplePayload();
    void seedSecondCurlPayload();
    void timestampAsNumber();
    void accepted_data();
    void accepted();
    void rejected_data();
    void rejected();
    void decimalsNeverPassThroughDouble();
    void numbersPastDoubleRangeAreRefused();
    void everyProblemAtOnce();
    void envelopeProblemsAreMalformed_data();
    void envelopeProblemsAreMalformed();
    void schemaProblemsAreNotMalformed();
    void customerIdLimits();
    void unknownFieldsKept();
    void dataJsonIsCanonical();
    void nestedPaths();
    void requiredAndNull();
    void valuesFollowSchemaOrder();
    void pointerPrefixAndEscaping();
    void malformedJson_data();
    void malformedJson();
    void nestingWithinLimitIsFine();
    void toJsonEscapes();
    void parseKeepsNumbersAndOrder();
};

void TestValidator::seedCurlPayload()
{
    // The schema the seed's sample implies; the curl command sends 5 for it.
    const DataSchema schema = DataSchema::infer(QJsonDocument::fromJson(kSeedSample).object());
    QCOMPARE(schema.fields.size(), 1);
    const Validation v = Validator::validateBytes(schema, kSeedCurl);
    QVERIFY2(v.event, qPrintable(describe(v.problems)));
    QVERIFY(v.problems.isEmpty());
    QCOMPARE(v.event->customerId, QString::fromUtf8(kSeedCustomer));
    QCOMPARE(v.event->timestampUs, kSeedMicros);
    QCOMPARE(v.event->values.size(), 1);
    QCOMPARE(v.event->values.first().metaType(), QMetaType::fromType<double>());
    QCOMPARE(v.event->values.first().toDouble(), 5.0);
    QCOMPARE(v.event->dataJson, QByteArray(R"({"cpu_usage_hours_per_day":5})"));
}

void TestValidator::seedSamplePayload()
{
    const DataSchema schema = schemaOf({{u"cpu_usage_hours_per_day"_s, FieldType::Float, false, {}}});
    const Validation v = Validator::validateBytes(schema, kSeedSample);
    QVERIFY2(v.event, qPrintable(describe(v.problems)));
    QCOMPARE(v.event->customerId, QString::fromUtf8(kSeedCustomer));
    QCOMPARE(v.event->timestampUs, kSeedMicros);
    QCOMPARE(v.event->values, QVariantList{QVariant(5.0)});
    // Stored typed, while the original text is kept as sent.
    QCOMPARE(v.event->dataJson, QByteArray(R"({"cpu_usage_hours_per_day":"5"})"));

    // The same payload against integer and decimal schemas.
    const Validation asInt = Validator::validateBytes(
        schemaOf({{u"cpu_usage_hours_per_day"_s, FieldType::Integer, true, {}}}), kSeedSample);
    QVERIFY2(asInt.event, qPrintable(describe(asInt.problems)));
    QCOMPARE(asInt.event->values, QVariantList{QVariant(qint64(5))});
    const Validation asDecimal = Validator::validateBytes(
        schemaOf({{u"cpu_usage_hours_per_day"_s, FieldType::Decimal, true, {}}}), kSeedSample);
    QVERIFY2(asDecimal.event, qPrintable(describe(asDecimal.problems)));
    QCOMPARE(asDecimal.event->values, QVariantList{QVariant(u"5"_s)});
}

void TestValidator::seedSecondCurlPayload()
{
    const DataSchema schema = DataSchema::infer(QJsonDocument::fromJson(R"({"cpu_usage_hours_per_month":"300"})").object());
    const Validation v = Validator::validateBytes(schema, kSeedCurl2);
    QVERIFY2(v.event, qPrintable(describe(v.problems)));
    QCOMPARE(v.event->values, QVariantList{QVariant(300.0)});
    QCOMPARE(v.event->dataJson, QByteArray(R"({"cpu_usage_hours_per_month":300})"));
}

void TestValidator::timestampAsNumber()
{
    const DataSchema schema;
    const Validation v = Validator::validateBytes(schema, envelope("{}", "1684661438.731"));
    QVERIFY2(v.event, qPrintable(describe(v.problems)));
    QCOMPARE(v.event->timestampUs, kSeedMicros);

    const Validation ms = Validator::validateBytes(schema, envelope("{}", "1684661438731"));
    QVERIFY(!ms.event);
    QCOMPARE(ms.problems.size(), 1);
    QCOMPARE(ms.problems.first().code, ProblemCode::BadTimestamp);
    QCOMPARE(ms.problems.first().pointer, u"/timestamp"_s);
    QVERIFY(ms.problems.first().message.contains(u"milliseconds"_s));
    QVERIFY(!anyMalformed(ms.problems));
}

void TestValidator::accepted_data()
{
    QTest::addColumn<FieldType>("type");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QVariant>("expected");

    auto row = [](const char *tag, FieldType t, const char *json, const QVariant &expected) {
        QTest::newRow(tag) << t << QByteArray(json) << expected;
    };
    row("integer number", FieldType::Integer, "5", QVariant(qint64(5)));
    row("integer string", FieldType::Integer, "\"5\"", QVariant(qint64(5)));
    row("negative integer string", FieldType::Integer, "\"-42\"", QVariant(qint64(-42)));
    row("integer 1e3", FieldType::Integer, "1e3", QVariant(qint64(1000)));
    row("integer 1.0", FieldType::Integer, "1.0", QVariant(qint64(1)));
    row("integer max", FieldType::Integer, "9223372036854775807", QVariant(qint64(9223372036854775807LL)));
    row("integer min", FieldType::Integer, "\"-9223372036854775808\"", QVariant(std::numeric_limits<qint64>::min()));
    row("float number", FieldType::Float, "5", QVariant(5.0));
    row("float string", FieldType::Float, "\"5\"", QVariant(5.0));
    row("float fraction string", FieldType::Float, "\"2.5\"", QVariant(2.5));
    row("float exponent", FieldType::Float, "-1e-3", QVariant(-0.001));
    row("float largest", FieldType::Float, "1.7976931348623157e308", QVariant(1.7976931348623157e308));
    row("decimal string", FieldType::Decimal, "\"12.50\"", QVariant(u"12.5"_s));
    row("decimal number", FieldType::Decimal, "12.50", QVariant(u"12.5"_s));
    row("decimal 20.9 digits", FieldType::Decimal, "12345678901234567890.123456789",
        QVariant(u"12345678901234567890.123456789"_s));
    row("decimal 20.9 digits as string", FieldType::Decimal, "\"12345678901234567890.123456789\"",
        QVariant(u"12345678901234567890.123456789"_s));
    row("decimal 1e3", FieldType::Decimal, "1e3", QVariant(u"1000"_s));
    row("decimal 0.10", FieldType::Decimal, "0.10", QVariant(u"0.1"_s));
    row("decimal 0.1", FieldType::Decimal, "0.1", QVariant(u"0.1"_s));
    row("decimal -0.0", FieldType::Decimal, "-0.0", QVariant(u"0"_s));
    row("decimal 1.1e-5", FieldType::Decimal, "1.1e-5", QVariant(u"0.000011"_s));
    row("decimal negative", FieldType::Decimal, "\"-0012.3400\"", QVariant(u"-12.34"_s));
    row("decimal 38 digits", FieldType::Decimal, "12345678901234567890123456789012345678",
        QVariant(u"12345678901234567890123456789012345678"_s));
    row("boolean true", FieldType::Boolean, "true", QVariant(true));
    row("boolean false", FieldType::Boolean, "false", QVariant(false));
    row("boolean string", FieldType::Boolean, "\"true\"", QVariant(true));
    row("date", FieldType::Date, "\"2024-02-29\"", QVariant(u"2024-02-29"_s));
    row("datetime text", FieldType::DateTime, "\"2023-05-21 09:30:38.731\"", QVariant(kSeedMicros));
    row("datetime with offset", FieldType::DateTime, "\"2023-05-21T15:00:38.731+05:30\"", QVariant(kSeedMicros));
    row("datetime epoch", FieldType::DateTime, "1684661438.731", QVariant(kSeedMicros));
    row("uuid lower-cased", FieldType::Uuid, "\"23507783-D5B4-4854-B012-2BF4EA922205\"",
        QVariant(u"23507783-d5b4-4854-b012-2bf4ea922205"_s));
    row("array as JSON text", FieldType::Array, "[1, \"a\", {\"b\": 2.50}, [true, null]]",
        QVariant(u"[1,\"a\",{\"b\":2.50},[true,null]]"_s));
    row("empty array", FieldType::Array, "[ ]", QVariant(u"[]"_s));
    row("string", FieldType::String, "\"eu-west-1\"", QVariant(u"eu-west-1"_s));
    row("unicode string", FieldType::String, "\"Über \\u00e9 😀\"", QVariant(u"Über é 😀"_s));
    row("numeric-looking string", FieldType::String, "\"02134\"", QVariant(u"02134"_s));
}

void TestValidator::accepted()
{
    QFETCH(FieldType, type);
    QFETCH(QByteArray, json);
    QFETCH(QVariant, expected);

    const DataSchema schema = schemaOf({{u"x"_s, type, true, {}}});
    const Validation v = Validator::validateBytes(schema, envelope("{\"x\":" + json + "}"));
    QVERIFY2(v.event, qPrintable(describe(v.problems)));
    QCOMPARE(v.event->values.size(), 1);
    const QVariant actual = v.event->values.first();
    QCOMPARE(actual.metaType(), expected.metaType());
    QCOMPARE(actual, expected);

    // The direct entry point agrees.
    QString why;
    const auto converted = Validator::convert(type, parsed(json), &why);
    QVERIFY2(converted, qPrintable(why));
    QCOMPARE(*converted, expected);
}

void TestValidator::rejected_data()
{
    QTest::addColumn<FieldType>("type");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("mentions");

    auto row = [](const char *tag, FieldType t, const char *json, const QString &mentions) {
        QTest::newRow(tag) << t << QByteArray(json) << mentions;
    };
    row("integer overflow", FieldType::Integer, "9223372036854775808", u"64-bit"_s);
    row("integer overflow string", FieldType::Integer, "\"9223372036854775808\"", u"64-bit"_s);
    row("integer underflow", FieldType::Integer, "-9223372036854775809", u"64-bit"_s);
    row("integer 1e19", FieldType::Integer, "1e19", u"64-bit"_s);
    row("integer fraction", FieldType::Integer, "1.5", u"integer"_s);
    row("integer text", FieldType::Integer, "\"abc\"", u"integer"_s);
    row("integer with spaces", FieldType::Integer, "\" 5\"", u"integer"_s);
    row("integer boolean", FieldType::Integer, "true", u"boolean"_s);
    row("integer 50 digits", FieldType::Integer, "12345678901234567890123456789012345678901234567890", u"integer"_s);
    row("float abc", FieldType::Float, "\"abc\"", u"\"abc\""_s);
    row("float empty string", FieldType::Float, "\"\"", u"number"_s);
    row("float NaN string", FieldType::Float, "\"nan\"", u"finite"_s);
    row("float Infinity string", FieldType::Float, "\"inf\"", u"finite"_s);
    row("float \"1e400\" (past double)", FieldType::Float, "\"1e400\"", u"1e400"_s);
    row("float array", FieldType::Float, "[1]", u"an array"_s);
    row("float object", FieldType::Float, "{\"v\":1}", u"an object"_s);
    row("decimal abc", FieldType::Decimal, "\"abc\"", u"decimal"_s);
    row("decimal 39 digits", FieldType::Decimal, "123456789012345678901234567890123456789", u"38"_s);
    row("decimal huge exponent", FieldType::Decimal, "\"1e99999\"", u"decimal"_s);
    row("decimal 1e38", FieldType::Decimal, "1e38", u"38"_s);
    row("decimal hex", FieldType::Decimal, "\"0x10\"", u"decimal"_s);
    row("decimal comma", FieldType::Decimal, "\"1,5\"", u"decimal"_s);
    row("decimal spaces", FieldType::Decimal, "\" 1.5 \"", u"decimal"_s);
    row("decimal boolean", FieldType::Decimal, "false", u"decimal"_s);
    row("boolean 1", FieldType::Boolean, "1", u"true or false"_s);
    row("boolean yes", FieldType::Boolean, "\"yes\"", u"true or false"_s);
    row("boolean True", FieldType::Boolean, "\"True\"", u"true or false"_s);
    row("date not in calendar", FieldType::Date, "\"2023-02-29\"", u"YYYY-MM-DD"_s);
    row("date with time", FieldType::Date, "\"2023-05-21 09:30:38\"", u"YYYY-MM-DD"_s);
    row("date number", FieldType::Date, "20230521", u"YYYY-MM-DD"_s);
    row("datetime garbage", FieldType::DateTime, "\"yesterday\"", u"Accepted forms"_s);
    row("datetime milliseconds", FieldType::DateTime, "1684661438731", u"milliseconds"_s);
    row("datetime boolean", FieldType::DateTime, "true", u"Accepted forms"_s);
    row("uuid garbage", FieldType::Uuid, "\"not-a-uuid\"", u"UUID"_s);
    row("uuid with g", FieldType::Uuid, "\"23507783-d5b4-4854-b012-2bf4ea92220g\"", u"UUID"_s);
    row("uuid braces", FieldType::Uuid, "\"{23507783-d5b4-4854-b012-2bf4ea922205}\"", u"UUID"_s);
    row("uuid number", FieldType::Uuid, "5", u"UUID"_s);
    row("array as string", FieldType::Array, "\"[1,2]\"", u"array"_s);
    row("array object", FieldType::Array, "{}", u"array"_s);
    row("string number", FieldType::String, "5", u"string"_s);
    row("string object", FieldType::String, "{\"a\":1}", u"string"_s);
}

void TestValidator::rejected()
{
    QFETCH(FieldType, type);
    QFETCH(QByteArray, json);
    QFETCH(QString, mentions);

    const DataSchema schema = schemaOf({{u"x"_s, type, false, {}}});
    const Validation v = Validator::validateBytes(schema, envelope("{\"x\":" + json + "}"));
    QVERIFY(!v.event);
    QCOMPARE(v.problems.size(), 1);
    const Problem &p = v.problems.first();
    QCOMPARE(p.code, ProblemCode::TypeMismatch);
    QCOMPARE(p.pointer, u"/data/x"_s);
    QVERIFY(p.message.startsWith(u"x: "_s));
    QVERIFY2(p.message.contains(mentions, Qt::CaseInsensitive), qPrintable(p.message));
    QVERIFY(!anyMalformed(v.problems));
}

void TestValidator::decimalsNeverPassThroughDouble()
{
    // 0.1 + 0.2 style values and more digits than a double holds survive byte for byte.
    const DataSchema schema = schemaOf({{u"a"_s, FieldType::Decimal, true, {}}, {u"b"_s, FieldType::Decimal, true, {}}});
    const Validation v = Validator::validateBytes(
        schema, envelope(R"({"a":0.3000000000000000444089209850062616169452,"b":"9007199254740993"})"));
    // 40 significant digits is past MaxDigits: refused, not rounded.
    QVERIFY(!v.event);
    QCOMPARE(v.problems.size(), 1);
    QCOMPARE(v.problems.first().pointer, u"/data/a"_s);

    const Validation ok = Validator::validateBytes(schema, envelope(R"({"a":0.3000000000000000444,"b":9007199254740993})"));
    QVERIFY2(ok.event, qPrintable(describe(ok.problems)));
    QCOMPARE(ok.event->values[0], QVariant(u"0.3000000000000000444"_s));
    QCOMPARE(ok.event->values[1], QVariant(u"9007199254740993"_s)); // 2^53 + 1: a double would say ...992
    QCOMPARE(ok.event->dataJson, QByteArray(R"({"a":0.3000000000000000444,"b":9007199254740993})"));
}

void TestValidator::numbersPastDoubleRangeAreRefused()
{
    // RFC 8259 §9 lets a parser limit number range; RapidJSON stops at double's. Such a
    // body is refused whole (never stored as a wrong value), and nothing crashes.
    const DataSchema schema = schemaOf({{u"x"_s, FieldType::Decimal, false, {}}});
    for (const QByteArray &number : {QByteArray("1e400"), QByteArray("-1e99999"), QByteArray(400, '9')}) {
        const Validation v = Validator::validateBytes(schema, envelope("{\"x\":" + number + "}"));
        QVERIFY(!v.event);
        QCOMPARE(v.problems.size(), 1);
        QVERIFY(!v.problems.first().message.isEmpty());
    }
    // The same magnitudes as strings are a type problem of the field.
    const Validation v = Validator::validateBytes(schema, envelope("{\"x\":\"1e400\"}"));
    QVERIFY(!v.event);
    QCOMPARE(v.problems.first().code, ProblemCode::TypeMismatch);
    QCOMPARE(v.problems.first().pointer, u"/data/x"_s);
}

void TestValidator::everyProblemAtOnce()
{
    const DataSchema schema = schemaOf({
        {u"x"_s, FieldType::Integer, false, {}},
        {u"y"_s, FieldType::String, true, {}},
        {u"z"_s, FieldType::Uuid, false, {}},
        {u"ok"_s, FieldType::Float, true, {}},
    });
    const Validation v = Validator::validateBytes(
        schema, R"({"customer_id": 42, "timestamp": "yesterday", "data": {"x": "abc", "z": "nope", "ok": 1}})");
    QVERIFY(!v.event);
    QCOMPARE(v.problems.size(), 5);
    const QStringList expected = {u"/customer_id"_s, u"/timestamp"_s, u"/data/x"_s, u"/data/y"_s, u"/data/z"_s};
    for (const QString &pointer : expected)
        QVERIFY2(problemAt(v.problems, pointer), qPrintable(pointer + u" missing in "_s + describe(v.problems)));
    QCOMPARE(problemAt(v.problems, u"/customer_id"_s)->code, ProblemCode::WrongKind);
    QCOMPARE(problemAt(v.problems, u"/timestamp"_s)->code, ProblemCode::BadTimestamp);
    QCOMPARE(problemAt(v.problems, u"/data/x"_s)->code, ProblemCode::TypeMismatch);
    QCOMPARE(problemAt(v.problems, u"/data/y"_s)->code, ProblemCode::RequiredField);
    QCOMPARE(problemAt(v.problems, u"/data/z"_s)->code, ProblemCode::TypeMismatch);
    QVERIFY(anyMalformed(v.problems)); // customer_id of the wrong kind breaks the envelope
    for (const Problem &p : v.problems)
        QVERIFY(!p.message.isEmpty());
}

void TestValidator::envelopeProblemsAreMalformed_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("pointer");
    QTest::addColumn<ProblemCode>("code");

    QTest::newRow("no customer_id") << QByteArray(R"({"data":{},"timestamp":"2023-05-21 09:30:38"})")
                                    << u"/customer_id"_s << ProblemCode::MissingField;
    QTest::newRow("no timestamp") << QByteArray(R"({"data":{},"customer_id":"c"})") << u"/timestamp"_s
                                  << ProblemCode::MissingField;
    QTest::newRow("no data") << QByteArray(R"({"timestamp":"2023-05-21 09:30:38","customer_id":"c"})") << u"/data"_s
                             << ProblemCode::MissingField;
    QTest::newRow("data is an array") << envelope("[1]") << u"/data"_s << ProblemCode::WrongKind;
    QTest::newRow("data is a string") << envelope("\"{}\"") << u"/data"_s << ProblemCode::WrongKind;
    QTest::newRow("data is null") << envelope("null") << u"/data"_s << ProblemCode::WrongKind;
    QTest::newRow("customer_id number") << envelope("{}", "\"2023-05-21 09:30:38\"", "7") << u"/customer_id"_s
                                        << ProblemCode::WrongKind;
    QTest::newRow("customer_id null") << envelope("{}", "\"2023-05-21 09:30:38\"", "null") << u"/customer_id"_s
                                      << ProblemCode::WrongKind;
    QTest::newRow("timestamp boolean") << envelope("{}", "true") << u"/timestamp"_s << ProblemCode::WrongKind;
    QTest::newRow("timestamp object") << envelope("{}", "{}") << u"/timestamp"_s << ProblemCode::WrongKind;
    QTest::newRow("body is an array") << QByteArray("[]") << QString() << ProblemCode::NotAnObject;
    QTest::newRow("body is a string") << QByteArray("\"event\"") << QString() << ProblemCode::NotAnObject;
    QTest::newRow("body is a number") << QByteArray("5") << QString() << ProblemCode::NotAnObject;
    QTest::newRow("empty object") << QByteArray("{}") << u"/data"_s << ProblemCode::MissingField;
}

void TestValidator::envelopeProblemsAreMalformed()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, pointer);
    QFETCH(ProblemCode, code);
    const DataSchema schema = schemaOf({{u"x"_s, FieldType::Integer, false, {}}});
    const Validation v = Validator::validateBytes(schema, body);
    QVERIFY(!v.event);
    QVERIFY(anyMalformed(v.problems));
    const Problem *p = problemAt(v.problems, pointer);
    QVERIFY2(p, qPrintable(describe(v.problems)));
    QCOMPARE(p->code, code);
    QVERIFY(isMalformed(p->code));
    QVERIFY(!p->message.isEmpty());
}

void TestValidator::schemaProblemsAreNotMalformed()
{
    const DataSchema schema = schemaOf({{u"x"_s, FieldType::Integer, true, {}}, {u"y"_s, FieldType::Boolean, false, {}}});
    const Validation v = Validator::validateBytes(schema, envelope(R"({"y":"maybe"})", "\"2023-13-01 00:00:00\"", "\"\""));
    QVERIFY(!v.event);
    QCOMPARE(v.problems.size(), 4);
    QVERIFY(!anyMalformed(v.problems));
    QCOMPARE(problemAt(v.problems, u"/customer_id"_s)->code, ProblemCode::TypeMismatch); // empty
    QCOMPARE(problemAt(v.problems, u"/timestamp"_s)->code, ProblemCode::BadTimestamp);
    QCOMPARE(problemAt(v.problems, u"/data/x"_s)->code, ProblemCode::RequiredField);
    QCOMPARE(problemAt(v.problems, u"/data/y"_s)->code, ProblemCode::TypeMismatch);
    QVERIFY(problemAt(v.problems, u"/timestamp"_s)->message.contains(u"Accepted forms"_s));
}

void TestValidator::customerIdLimits()
{
    const DataSchema schema;
    const QByteArray longest(Validator::MaxCustomerIdLength, 'c');
    const Validation ok = Validator::validateBytes(schema, envelope("{}", "0", "\"" + longest + "\""));
    QVERIFY2(ok.event, qPrintable(describe(ok.problems)));
    QCOMPARE(ok.event->customerId.toUtf8(), longest);

    const Validation tooLong = Validator::validateBytes(schema, envelope("{}", "0", "\"" + longest + "x\""));
    QVERIFY(!tooLong.event);
    QCOMPARE(tooLong.problems.size(), 1);
    QCOMPARE(tooLong.problems.first().code, ProblemCode::OutOfRange);
    QCOMPARE(tooLong.problems.first().pointer, u"/customer_id"_s);
    QVERIFY(tooLong.problems.first().message.contains(QString::number(Validator::MaxCustomerIdLength)));

    // Escapes are decoded: the stored id is the text, not the JSON spelling.
    const Validation escaped = Validator::validateBytes(schema, envelope("{}", "0", "\"a\\\"b\\\\c\\u00e9\""));
    QVERIFY(escaped.event);
    QCOMPARE(escaped.event->customerId, u"a\"b\\cé"_s);
}

void TestValidator::unknownFieldsKept()
{
    const DataSchema schema = schemaOf({{u"cpu"_s, FieldType::Float, false, {}}});
    const Validation v = Validator::validateBytes(
        schema, envelope(R"({"region":"eu","cpu":1.5,"extra":{"z":1,"a":[3,{"k":"v","b":null}]}})"));
    QVERIFY2(v.event, qPrintable(describe(v.problems)));
    QCOMPARE(v.event->values, QVariantList{QVariant(1.5)});
    QCOMPARE(v.event->dataJson, QByteArray(R"({"cpu":1.5,"extra":{"a":[3,{"b":null,"k":"v"}],"z":1},"region":"eu"})"));
    // The canonical text is itself valid JSON with the same content.
    const auto reparsed = JsonValue::parse(v.event->dataJson);
    QVERIFY(reparsed.ok);
    QCOMPARE(reparsed.value.toJson(true), v.event->dataJson);
}

void TestValidator::dataJsonIsCanonical()
{
    const DataSchema schema = schemaOf({{u"a"_s, FieldType::Decimal, false, {}}});
    const Validation one = Validator::validateBytes(
        schema, envelope("{ \"b\" : 1.50 ,\n \"a\": 1e3, \"c\": \"x y\", \"d\": [ 2 , 1 ] }"));
    const Validation two = Validator::validateBytes(
        schema, R"({"customer_id":"c-1","data":{"d":[2,1],"c":"x y","a":1e3,"b":1.50},"timestamp":"2023-05-21T09:30:38.731Z"})");
    QVERIFY(one.event);
    QVERIFY(two.event);
    // Sorted keys, no whitespace, numbers exactly as sent (1.50 stays 1.50, 1e3 stays 1e3), arrays in order.
    QCOMPARE(one.event->dataJson, QByteArray(R"({"a":1e3,"b":1.50,"c":"x y","d":[2,1]})"));
    QCOMPARE(two.event->dataJson, one.event->dataJson);
    QCOMPARE(one.event->values, QVariantList{QVariant(u"1000"_s)});
    QCOMPARE(one.event->timestampUs, two.event->timestampUs);
}

void TestValidator::nestedPaths()
{
    const DataSchema schema = schemaOf({
        {u"usage.cpu"_s, FieldType::Float, false, {}},
        {u"usage.mem.gb"_s, FieldType::Integer, false, {}},
        {u"region"_s, FieldType::String, false, {}},
    });
    const Validation v = Validator::validateBytes(schema, envelope(R"({"usage":{"cpu":"3.5","mem":{"gb":8}},"region":"eu"})"));
    QVERIFY2(v.event, qPrintable(describe(v.problems)));
    QCOMPARE(v.event->values, (QVariantList{QVariant(3.5), QVariant(qint64(8)), QVariant(u"eu"_s)}));

    const Validation bad = Validator::validateBytes(schema, envelope(R"({"usage":{"cpu":true,"mem":{"gb":"x"}}})"));
    QVERIFY(!bad.event);
    QCOMPARE(bad.problems.size(), 2);
    QVERIFY(problemAt(bad.problems, u"/data/usage/cpu"_s));
    QVERIFY(problemAt(bad.problems, u"/data/usage/mem/gb"_s));
    QVERIFY(problemAt(bad.problems, u"/data/usage/mem/gb"_s)->message.startsWith(u"usage.mem.gb: "_s));

    // A missing or non-object parent means the nested optional field is absent.
    const Validation absent = Validator::validateBytes(schema, envelope(R"({"usage":5})"));
    QVERIFY2(absent.event, qPrintable(describe(absent.problems)));
    QVERIFY(absent.event->values[0].isNull());
    QVERIFY(absent.event->values[1].isNull());
    QCOMPARE(absent.event->dataJson, QByteArray(R"({"usage":5})"));

    // A dotted key is not a nested path.
    const Validation dotted = Validator::validateBytes(schema, envelope(R"({"usage.cpu":2})"));
    QVERIFY(dotted.event);
    QVERIFY(dotted.event->values[0].isNull());
}

void TestValidator::requiredAndNull()
{
    const DataSchema schema = schemaOf({
        {u"need"_s, FieldType::Integer, true, {}},
        {u"maybe"_s, FieldType::Integer, false, {}},
        {u"flag"_s, FieldType::Boolean, false, {}},
    });
    const Validation missing = Validator::validateBytes(schema, envelope(R"({"maybe":1})"));
    QVERIFY(!missing.event);
    QCOMPARE(missing.problems.size(), 1);
    QCOMPARE(missing.problems.first().code, ProblemCode::RequiredField);
    QCOMPARE(missing.problems.first().pointer, u"/data/need"_s);
    QVERIFY(missing.problems.first().message.contains(u"required"_s));
    QVERIFY(missing.problems.first().message.contains(u"integer"_s));

    const Validation nullRequired = Validator::validateBytes(schema, envelope(R"({"need":null})"));
    QVERIFY(!nullRequired.event);
    QCOMPARE(nullRequired.problems.first().code, ProblemCode::RequiredField);

    const Validation nullOptional = Validator::validateBytes(schema, envelope(R"({"need":0,"maybe":null,"flag":false})"));
    QVERIFY2(nullOptional.event, qPrintable(describe(nullOptional.problems)));
    QCOMPARE(nullOptional.event->values.size(), 3);
    QCOMPARE(nullOptional.event->values[0], QVariant(qint64(0)));
    QVERIFY(nullOptional.event->values[1].isNull());
    QCOMPARE(nullOptional.event->values[2], QVariant(false));
    QCOMPARE(nullOptional.event->dataJson, QByteArray(R"({"flag":false,"maybe":null,"need":0})"));
}

void TestValidator::valuesFollowSchemaOrder()
{
    const DataSchema schema = schemaOf({
        {u"z"_s, FieldType::String, false, {}},
        {u"a"_s, FieldType::Integer, false, {}},
        {u"m"_s, FieldType::Boolean, false, {}},
        {u"id"_s, FieldType::Uuid, false, {}},
    });
    const Validation v = Validator::validateBytes(
        schema, envelope(R"({"id":"ABCDEF01-2345-6789-ABCD-EF0123456789","m":true,"a":"7","z":"last"})"));
    QVERIFY2(v.event, qPrintable(describe(v.problems)));
    QCOMPARE(v.event->values, (QVariantList{QVariant(u"last"_s), QVariant(qint64(7)), QVariant(true),
                                            QVariant(u"abcdef01-2345-6789-abcd-ef0123456789"_s)}));
}

void TestValidator::pointerPrefixAndEscaping()
{
    const DataSchema schema = schemaOf({{u"x"_s, FieldType::Integer, true, {}}});
    const Validation v = Validator::validateEvent(schema, parsed(R"({"data":{"x":"no"}})"), u"/17"_s);
    QVERIFY(!v.event);
    QVERIFY2(problemAt(v.problems, u"/17/data/x"_s), qPrintable(describe(v.problems)));
    QVERIFY(problemAt(v.problems, u"/17/timestamp"_s));
    QVERIFY(problemAt(v.problems, u"/17/customer_id"_s));

    const Validation notObject = Validator::validateEvent(schema, parsed("[1]"), u"/3"_s);
    QCOMPARE(notObject.problems.size(), 1);
    QCOMPARE(notObject.problems.first().pointer, u"/3"_s);
    QCOMPARE(notObject.problems.first().code, ProblemCode::NotAnObject);
}

void TestValidator::malformedJson_data()
{
    QTest::addColumn<QByteArray>("body");

    const QByteArray valid = envelope(R"({"x":1})");
    QTest::newRow("broken") << QByteArray("{\"data\": {\"x\": 1}, \"timestamp\": ");
    QTest::newRow("only a brace") << QByteArray("{");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("whitespace only") << QByteArray(" \n\t ");
    QTest::newRow("trailing garbage") << valid + " x";
    QTest::newRow("two documents") << valid + valid;
    QTest::newRow("trailing comma") << QByteArray(R"({"data":{"x":1,},"timestamp":0,"customer_id":"c"})");
    QTest::newRow("single quotes") << QByteArray("{'data':{}}");
    QTest::newRow("comment") << QByteArray("{/* c */\"data\":{}}");
    QTest::newRow("NaN") << envelope(R"({"x":NaN})");
    QTest::newRow("Infinity") << envelope(R"({"x":Infinity})");
    QTest::newRow("-Infinity") << envelope(R"({"x":-Infinity})");
    QTest::newRow("leading plus") << envelope(R"({"x":+1})");
    QTest::newRow("leading zero") << envelope(R"({"x":01})");
    QTest::newRow("hex number") << envelope(R"({"x":0x10})");
    QTest::newRow("duplicate envelope keys") << QByteArray(R"({"data":{},"timestamp":0,"customer_id":"a","customer_id":"b"})");
    QTest::newRow("duplicate data keys") << envelope(R"({"x":1,"x":2})");
    QTest::newRow("duplicate keys deep") << envelope(R"({"a":[{"k":1,"j":2,"k":3}]})");
    QTest::newRow("invalid UTF-8 byte") << envelope("{\"s\":\"\xff\"}");
    QTest::newRow("overlong UTF-8") << envelope("{\"s\":\"\xc0\xaf\"}");
    QTest::newRow("truncated UTF-8") << envelope("{\"s\":\"\xe2\x82\"}");
    QTest::newRow("UTF-16 surrogate as UTF-8") << envelope("{\"s\":\"\xed\xa0\x80\"}");
    QTest::newRow("lone escaped surrogate") << envelope(R"({"s":"\ud800"})");
    QTest::newRow("lone escaped low surrogate") << envelope(R"({"s":"\u1d83d\ude00"})"); // found by fuzz_validator
    QTest::newRow("low surrogate first") << envelope(R"({"s":"\udc00\ud800"})");
    QTest::newRow("lone low surrogate in a key") << envelope(R"({"\udfff":1})");
    QTest::newRow("raw control character") << envelope("{\"s\":\"a\x01z\"}");
    QTest::newRow("unterminated string") << QByteArray(R"({"data":{"s":"abc)");
    QTest::newRow("bad escape") << envelope(R"({"s":"\q"})");
    QTest::newRow("100,000 nested arrays") << QByteArray(100000, '[') + QByteArray(100000, ']');
    QByteArray objects;
    for (int i = 0; i < 100000; ++i)
        objects += "{\"a\":";
    objects += "1" + QByteArray(100000, '}');
    QTest::newRow("100,000 nested objects") << objects;
    QTest::newRow("100,000 nested in data") << envelope(QByteArray(100000, '[') + QByteArray(100000, ']'));
    QTest::newRow("100,000 unclosed") << QByteArray(100000, '[');
}

void TestValidator::malformedJson()
{
    QFETCH(QByteArray, body);
    const DataSchema schema = schemaOf({{u"x"_s, FieldType::Integer, false, {}}});
    const Validation v = Validator::validateBytes(schema, body);
    QVERIFY(!v.event);
    QCOMPARE(v.problems.size(), 1);
    QCOMPARE(v.problems.first().code, ProblemCode::MalformedJson);
    QVERIFY(anyMalformed(v.problems));
    QVERIFY(!v.problems.first().message.isEmpty());
    QVERIFY(v.problems.first().message.size() < 500);

    const auto result = JsonValue::parse(body);
    QVERIFY(!result.ok);
    QVERIFY(!result.error.isEmpty());
    QVERIFY(result.offset >= 0 && result.offset <= body.size());
}

void TestValidator::nestingWithinLimitIsFine()
{
    // 60 levels inside data: envelope + data + 60 arrays stays under the 64 limit.
    const QByteArray deep = QByteArray(60, '[') + "1" + QByteArray(60, ']');
    const Validation v = Validator::validateBytes(DataSchema(), envelope("{\"deep\":" + deep + "}"));
    QVERIFY2(v.event, qPrintable(describe(v.problems)));
    QCOMPARE(v.event->dataJson, "{\"deep\":" + deep + "}");

    // A deep document that is over the limit reports the limit.
    const auto tooDeep = JsonValue::parse(QByteArray(QByteArray(65, '[') + QByteArray(65, ']')));
    QVERIFY(!tooDeep.ok);
    QVERIFY2(tooDeep.error.contains(u"64"_s), qPrintable(tooDeep.error));
    QVERIFY(JsonValue::parse(QByteArray(QByteArray(64, '[') + QByteArray(64, ']'))).ok);
}

void TestValidator::toJsonEscapes()
{
    const JsonValue s = JsonValue::makeString(QByteArray("q\"b\\s/n\nr\rt\tc\x01\x1f\x7f", 16) + QByteArray(1, '\0') + "é");
    QCOMPARE(s.toJson(), QByteArray("\"q\\\"b\\\\s/n\\nr\\rt\\tc\\u0001\\u001f\x7f\\u0000é\""));
    // What toJson writes parses back to the same text.
    const auto back = JsonValue::parse(s.toJson());
    QVERIFY2(back.ok, qPrintable(back.error));
    QVERIFY(back.value.isString());
    QCOMPARE(back.value.text(), s.text());

    // Keys are escaped as well as values, and control characters never appear raw.
    const auto obj = JsonValue::parse("{\"k\\\"ey\\n\":\"v\\u0000\\u0008\\f\",\"a\":[\"\\\"x\\\"\"]}");
    QVERIFY(obj.ok);
    const QByteArray json = obj.value.toJson(true);
    QCOMPARE(json, QByteArray("{\"a\":[\"\\\"x\\\"\"],\"k\\\"ey\\n\":\"v\\u0000\\u0008\\u000c\"}"));
    for (const char c : json)
        QVERIFY(static_cast<unsigned char>(c) >= 0x20);

    QByteArray out;
    appendJsonString(out, "say \"hi\"\n");
    QCOMPARE(out, QByteArray("\"say \\\"hi\\\"\\n\""));
}

void TestValidator::parseKeepsNumbersAndOrder()
{
    const auto r = JsonValue::parse(R"({"b":1.50,"a":-0.0,"c":12345678901234567890123,"d":1E+3,"e":"\u00e9\ud83d\ude00"})");
    QVERIFY(r.ok);
    QCOMPARE(r.value.size(), 5);
    QCOMPARE(r.value.keyAt(0), QByteArray("b"));
    QCOMPARE(r.value.member("b")->text(), QByteArray("1.50"));
    QCOMPARE(r.value.member("a")->text(), QByteArray("-0.0"));
    QCOMPARE(r.value.member("c")->text(), QByteArray("12345678901234567890123"));
    QCOMPARE(r.value.member("d")->text(), QByteArray("1E+3"));
    QCOMPARE(r.value.member("e")->toString(), u"é😀"_s);
    QVERIFY(!r.value.member("z"));
    QCOMPARE(r.value.toJson(), QByteArray(R"({"b":1.50,"a":-0.0,"c":12345678901234567890123,"d":1E+3,"e":"é😀"})"));
}

QTEST_GUILESS_MAIN(TestValidator)
#include "tst_validator.moc"
