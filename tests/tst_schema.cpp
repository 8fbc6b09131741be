// DataSchema: inference from a sample, JSON Schema round trips and the field rules.
#include "dataschema.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <algorithm>

using namespace meterdesk;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(meterdesk::FieldType)

namespace {

QJsonObject object(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        qFatal("bad test JSON: %s", json.constData());
    return doc.object();
}

QList<SchemaField> sorted(QList<SchemaField> fields)
{
    std::sort(fields.begin(), fields.end(), [](const SchemaField &a, const SchemaField &b) { return a.path < b.path; });
    return fields;
}

QString describe(const Problems &problems)
{
    QStringList lines;
    for (const Problem &p : problems)
        lines.append(p.pointer + u": "_s + p.message);
    return lines.join(u" | "_s);
}

bool anyMentions(const Problems &problems, const QString &text)
{
    return std::any_of(problems.begin(), problems.end(),
                       [&text](const Problem &p) { return p.message.contains(text, Qt::CaseInsensitive); });
}

} // namespace

class TestSchema : public QObject
{
    Q_OBJECT

private slots:
    void fieldTypeNames();
    void columnNames();
    void inferSeedSample();
    void inferSeedEnvelope();
    void inferSeedCurlData();
    void inferTypes_data();
    void inferTypes();
    void inferNested();
    void inferredSchemasAreValid();
    void jsonSchemaShape();
    void jsonSchemaRoundTrip();
    void jsonSchemaRoundTripThroughText();
    void fromJsonSchemaAcceptsNullableAndCustomTypes();
    void fromJsonSchemaReportsProblems_data();
    void fromJsonSchemaReportsProblems();
    void validateAccepts();
    void validateRefusesRootFields();
    void validateRefusesDuplicatesIgnoringCase();
    void validateRefusesValueAndObject();
    void validatePathRefuses_data();
    void validatePathRefuses();
    void validateReportsEveryProblem();
    void validateRefusesTooManyFields();
};

void TestSchema::fieldTypeNames()
{
    const QList<FieldType> all = FieldTypes::all();
    QCOMPARE(all.size(), 9);
    QStringList names;
    for (FieldType t : all) {
        const QString name = FieldTypes::name(t);
        QVERIFY(!name.isEmpty());
        QCOMPARE(FieldTypes::fromName(name), std::optional<FieldType>(t));
        QCOMPARE(FieldTypes::fromName(name.toUpper()), std::optional<FieldType>(t));
        names.append(name);
    }
    QCOMPARE(names, (QStringList{u"string"_s, u"integer"_s, u"float"_s, u"decimal"_s, u"boolean"_s, u"date"_s,
                                 u"datetime"_s, u"uuid"_s, u"array"_s}));
    QVERIFY(!FieldTypes::fromName(u"money"_s));
    QVERIFY(!FieldTypes::fromName(QString()));
}

void TestSchema::columnNames()
{
    const SchemaField f{u"usage.cpu.hours"_s, FieldType::Float, false, {}};
    QCOMPARE(f.columnName(), u"data.usage.cpu.hours"_s);
    QCOMPARE(f.segments(), (QStringList{u"usage"_s, u"cpu"_s, u"hours"_s}));
}

void TestSchema::inferSeedSample()
{
    // The seed's sample data: a number sent as a string.
    const DataSchema schema = DataSchema::infer(object(R"({"cpu_usage_hours_per_day": "5"})"));
    QCOMPARE(schema.fields.size(), 1);
    const SchemaField &f = schema.fields.first();
    QCOMPARE(f.path, u"cpu_usage_hours_per_day"_s);
    QCOMPARE(f.type, FieldType::Float);
    QCOMPARE(f.required, false);
    QVERIFY(f.description.isEmpty());
    QVERIFY(schema.field(u"cpu_usage_hours_per_day"_s));
    QVERIFY(!schema.field(u"cpu"_s));
}

void TestSchema::inferSeedEnvelope()
{
    // The whole envelope of the seed's example: only `data` becomes the schema.
    const DataSchema schema = DataSchema::infer(object(R"({
        "data": {"cpu_usage_hours_per_day": "5"},
        "timestamp": "2023-05-21 09:30:38.731",
        "customer_id": "[email protected]"})"));
    QCOMPARE(schema.fields.size(), 1);
    QCOMPARE(schema.fields.first(), (SchemaField{u"cpu_usage_hours_per_day"_s, FieldType::Float, false, {}}));
    QVERIFY(schema.validate().isEmpty());
}

void TestSchema::inferSeedCurlData()
{
    const DataSchema a = DataSchema::infer(object(R"({"cpu_usage_hours_per_month": 300})"));
    const DataSchema b = DataSchema::infer(object(R"({"cpu_usage_hours_per_month": "300"})"));
    QCOMPARE(a.fields.size(), 1);
    QCOMPARE(a.fields.first().type, FieldType::Float);
    QCOMPARE(a, b); // "300" and 300 infer the same schema
}

void TestSchema::inferTypes_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<FieldType>("type");

    QTest::newRow("true") << QByteArray("true") << FieldType::Boolean;
    QTest::newRow("false") << QByteArray("false") << FieldType::Boolean;
    QTest::newRow("integer number") << QByteArray("5") << FieldType::Float;
    QTest::newRow("fractional number") << QByteArray("5.25") << FieldType::Float;
    QTest::newRow("negative number") << QByteArray("-3") << FieldType::Float;
    QTest::newRow("numeric string") << QByteArray("\"5\"") << FieldType::Float;
    QTest::newRow("numeric string with fraction") << QByteArray("\"-12.50\"") << FieldType::Float;
    QTest::newRow("zero string") << QByteArray("\"0\"") << FieldType::Float;
    QTest::newRow("zero point five string") << QByteArray("\"0.5\"") << FieldType::Float;
    QTest::newRow("leading zero stays string (zip code)") << QByteArray("\"02134\"") << FieldType::String;
    QTest::newRow("leading zeros with fraction stay string") << QByteArray("\"00.5\"") << FieldType::String;
    QTest::newRow("number with spaces stays string") << QByteArray("\" 5\"") << FieldType::String;
    QTest::newRow("phone-like") << QByteArray("\"+14155550100\"") << FieldType::String;
    QTest::newRow("plain string") << QByteArray("\"eu-west-1\"") << FieldType::String;
    QTest::newRow("empty string") << QByteArray("\"\"") << FieldType::String;
    QTest::newRow("uuid lower") << QByteArray("\"23507783-d5b4-4854-b012-2bf4ea922205\"") << FieldType::Uuid;
    QTest::newRow("uuid upper") << QByteArray("\"23507783-D5B4-4854-B012-2BF4EA922205\"") << FieldType::Uuid;
    QTest::newRow("uuid without dashes is a string") << QByteArray("\"23507783d5b44854b0122bf4ea922205\"")
                                                     << FieldType::String;
    QTest::newRow("date") << QByteArray("\"2023-05-21\"") << FieldType::Date;
    QTest::newRow("not a calendar date") << QByteArray("\"2023-02-29\"") << FieldType::String;
    QTest::newRow("seed datetime") << QByteArray("\"2023-05-21 09:30:38.731\"") << FieldType::DateTime;
    QTest::newRow("RFC 3339 datetime") << QByteArray("\"2023-05-21T09:30:38+05:30\"") << FieldType::DateTime;
    QTest::newRow("array of numbers") << QByteArray("[1, 2, 3]") << FieldType::Array;
    QTest::newRow("empty array") << QByteArray("[]") << FieldType::Array;
    QTest::newRow("array of objects") << QByteArray("[{\"a\": 1}]") << FieldType::Array;
    QTest::newRow("null") << QByteArray("null") << FieldType::String;
}

void TestSchema::inferTypes()
{
    QFETCH(QByteArray, value);
    QFETCH(FieldType, type);
    const DataSchema schema = DataSchema::infer(object("{\"v\": " + value + "}"));
    QCOMPARE(schema.fields.size(), 1);
    QCOMPARE(schema.fields.first().path, u"v"_s);
    QCOMPARE(FieldTypes::name(schema.fields.first().type), FieldTypes::name(type));
}

void TestSchema::inferNested()
{
    const DataSchema schema = DataSchema::infer(object(R"({
        "region": "eu",
        "usage": {"cpu": 1.5, "memory": {"gb": "2", "peak": true}, "tags": ["a", "b"]},
        "meta": {"customer_id": "x"}})"));
    const QList<SchemaField> expected = {
        {u"meta.customer_id"_s, FieldType::String, false, {}},
        {u"region"_s, FieldType::String, false, {}},
        {u"usage.cpu"_s, FieldType::Float, false, {}},
        {u"usage.memory.gb"_s, FieldType::Float, false, {}},
        {u"usage.memory.peak"_s, FieldType::Boolean, false, {}},
        {u"usage.tags"_s, FieldType::Array, false, {}},
    };
    QCOMPARE(sorted(schema.fields), expected);
    QCOMPARE(schema.field(u"usage.memory.gb"_s)->columnName(), u"data.usage.memory.gb"_s);
    // A nested customer_id is not the root field: the schema is valid.
    QVERIFY2(schema.validate().isEmpty(), qPrintable(describe(schema.validate())));
}

void TestSchema::inferredSchemasAreValid()
{
    const DataSchema schema = DataSchema::infer(object(R"({
        "a": 1, "b": "x", "c": true, "d": [1], "e": "2023-05-21", "f": "2023-05-21 09:30:38",
        "g": "23507783-d5b4-4854-b012-2bf4ea922205", "h": {"i": {"j": "7"}}})"));
    QCOMPARE(schema.fields.size(), 8);
    QVERIFY2(schema.validate().isEmpty(), qPrintable(describe(schema.validate())));
}

void TestSchema::jsonSchemaShape()
{
    DataSchema schema;
    schema.fields = {
        {u"cpu"_s, FieldType::Float, true, u"CPU hours"_s},
        {u"amount"_s, FieldType::Decimal, false, {}},
        {u"usage.gb"_s, FieldType::Integer, true, {}},
    };
    const QJsonObject js = schema.toJsonSchema();
    QCOMPARE(js.value(u"type"_s).toString(), u"object"_s);
    const QJsonObject props = js.value(u"properties"_s).toObject();
    QCOMPARE(props.value(u"cpu"_s).toObject().value(u"type"_s).toString(), u"number"_s);
    QCOMPARE(props.value(u"cpu"_s).toObject().value(u"description"_s).toString(), u"CPU hours"_s);
    QCOMPARE(props.value(u"amount"_s).toObject().value(u"format"_s).toString(), u"decimal"_s);
    const QJsonObject usage = props.value(u"usage"_s).toObject();
    QCOMPARE(usage.value(u"type"_s).toString(), u"object"_s);
    QCOMPARE(usage.value(u"properties"_s).toObject().value(u"gb"_s).toObject().value(u"type"_s).toString(),
             u"integer"_s);
    // `required` lives on the object that holds the field.
    QCOMPARE(js.value(u"required"_s).toArray(), (QJsonArray{u"cpu"_s}));
    QCOMPARE(usage.value(u"required"_s).toArray(), (QJsonArray{u"gb"_s}));
}

namespace {
DataSchema everyType()
{
    DataSchema schema;
    int i = 0;
    for (FieldType t : FieldTypes::all()) {
        const QString name = FieldTypes::name(t);
        // Each type appears top-level and nested, required and not, with and without a description.
        schema.fields.append({u"f_"_s + name, t, i % 2 == 0, i % 3 == 0 ? QString() : u"The "_s + name + u" field"_s});
        schema.fields.append({u"nested.deeper.n_"_s + name, t, i % 2 == 1, u"Nested “"_s + name + u"” ✓"_s});
        ++i;
    }
    return schema;
}
} // namespace

void TestSchema::jsonSchemaRoundTrip()
{
    const DataSchema original = everyType();
    QCOMPARE(original.fields.size(), 18);
    QVERIFY(original.validate().isEmpty());
    Problems problems;
    const auto back = DataSchema::fromJsonSchema(original.toJsonSchema(), &problems);
    QVERIFY2(back, qPrintable(describe(problems)));
    QVERIFY(problems.isEmpty());
    // fromJsonSchema returns fields in JSON key order: compare as sorted lists.
    QCOMPARE(sorted(back->fields), sorted(original.fields));
}

void TestSchema::jsonSchemaRoundTripThroughText()
{
    const DataSchema original = everyType();
    const QByteArray text = QJsonDocument(original.toJsonSchema()).toJson();
    Problems problems;
    const auto back = DataSchema::fromJsonSchema(QJsonDocument::fromJson(text).object(), &problems);
    QVERIFY2(back, qPrintable(describe(problems)));
    QCOMPARE(sorted(back->fields), sorted(original.fields));
    // And a second trip is stable.
    const auto again = DataSchema::fromJsonSchema(back->toJsonSchema(), nullptr);
    QVERIFY(again);
    QCOMPARE(again->fields, back->fields);
}

void TestSchema::fromJsonSchemaAcceptsNullableAndCustomTypes()
{
    Problems problems;
    const auto schema = DataSchema::fromJsonSchema(object(R"({
        "type": "object",
        "required": ["count"],
        "properties": {
            "count": {"type": ["integer", "null"]},
            "price": {"type": "string", "x-meterdesk-type": "decimal"},
            "price2": {"type": "string", "format": "decimal"},
            "when": {"type": "string", "format": "date-time", "description": "event time"},
            "id": {"type": "string", "format": "uuid"},
            "raw": {"type": "object", "x-meterdesk-type": "array"}
        }})"), &problems);
    QVERIFY2(schema, qPrintable(describe(problems)));
    const QList<SchemaField> expected = {
        {u"count"_s, FieldType::Integer, true, {}},
        {u"id"_s, FieldType::Uuid, false, {}},
        {u"price"_s, FieldType::Decimal, false, {}},
        {u"price2"_s, FieldType::Decimal, false, {}},
        {u"raw"_s, FieldType::Array, false, {}},
        {u"when"_s, FieldType::DateTime, false, u"event time"_s},
    };
    QCOMPARE(sorted(schema->fields), expected);

    // No "type" at the root means an object; an empty schema is an empty field list.
    const auto empty = DataSchema::fromJsonSchema(QJsonObject(), &problems);
    QVERIFY(empty);
    QVERIFY(empty->fields.isEmpty());
}

void TestSchema::fromJsonSchemaReportsProblems_data()
{
    QTest::addColumn<QByteArray>("schema");
    QTest::addColumn<QString>("pointer"); // where the problem is reported
    QTest::addColumn<QString>("mentions");

    QTest::newRow("root is an array") << QByteArray(R"({"type": "array"})") << u"/type"_s << u"object"_s;
    QTest::newRow("type null") << QByteArray(R"({"properties": {"x": {"type": "null"}}})") << u"/properties/x"_s
                               << u"not supported"_s;
    QTest::newRow("type objekt (typo)") << QByteArray(R"({"properties": {"x": {"type": "objekt"}}})")
                                        << u"/properties/x"_s << u"objekt"_s;
    QTest::newRow("no type") << QByteArray(R"({"properties": {"x": {"description": "?"}}})") << u"/properties/x"_s
                             << u"type"_s;
    QTest::newRow("two types") << QByteArray(R"({"properties": {"x": {"type": ["string", "integer"]}}})")
                               << u"/properties/x"_s << u"one \"type\""_s;
    QTest::newRow("unknown x-meterdesk-type") << QByteArray(R"({"properties": {"x": {"x-meterdesk-type": "money"}}})")
                                              << u"/properties/x"_s << u"money"_s;
    QTest::newRow("nested unsupported") << QByteArray(R"({"properties": {"a": {"type": "object", "properties":
                                                         {"b": {"type": "tuple"}}}}})")
                                        << u"/properties/a/properties/b"_s << u"a.b"_s;
    QTest::newRow("root field in schema") << QByteArray(R"({"properties": {"customer_id": {"type": "string"}}})")
                                          << u"/fields/0"_s << u"root field"_s;
    QTest::newRow("bad field name") << QByteArray(R"({"properties": {"a b": {"type": "string"}}})")
                                    << u"/fields/0"_s << u"letters, digits"_s;
    QTest::newRow("names differing in case")
        << QByteArray(R"({"properties": {"Cpu": {"type": "number"}, "cpu": {"type": "number"}}})") << u"/fields/1"_s
        << u"twice"_s;
}

void TestSchema::fromJsonSchemaReportsProblems()
{
    QFETCH(QByteArray, schema);
    QFETCH(QString, pointer);
    QFETCH(QString, mentions);
    Problems problems;
    const auto result = DataSchema::fromJsonSchema(object(schema), &problems);
    QVERIFY(!result);
    QVERIFY(!problems.isEmpty());
    const bool found = std::any_of(problems.begin(), problems.end(), [&](const Problem &p) {
        return p.pointer == pointer && p.message.contains(mentions, Qt::CaseInsensitive);
    });
    QVERIFY2(found, qPrintable(describe(problems)));
    // And nullptr for problems is allowed.
    QVERIFY(!DataSchema::fromJsonSchema(object(schema), nullptr));
}

void TestSchema::validateAccepts()
{
    DataSchema schema;
    schema.fields = {
        {u"cpu_usage_hours_per_day"_s, FieldType::Float, false, {}},
        {u"a-b"_s, FieldType::String, false, {}},
        {u"usage.cpu"_s, FieldType::Float, false, {}},
        {u"usage.mem"_s, FieldType::Integer, false, {}},
        {u"meta.customer_id"_s, FieldType::String, false, {}},
        {u"meta.timestamp"_s, FieldType::DateTime, false, {}},
        {u"customer"_s, FieldType::String, false, {}},
        {u"timestamps"_s, FieldType::Array, false, {}},
        {QString(DataSchema::MaxPathLength, u'x'), FieldType::String, false, {}},
        {u"ab"_s, FieldType::String, false, {}},
        {u"abc"_s, FieldType::String, false, {}}, // "ab" is not a prefix object of "abc"
    };
    QVERIFY2(schema.validate().isEmpty(), qPrintable(describe(schema.validate())));
}

void TestSchema::validateRefusesRootFields()
{
    for (const QString &root : {u"customer_id"_s, u"timestamp"_s, u"customer_id.x"_s, u"timestamp.y"_s}) {
        DataSchema schema;
        schema.fields = {{u"ok"_s, FieldType::String, false, {}}, {root, FieldType::String, false, {}}};
        const Problems problems = schema.validate();
        QCOMPARE(problems.size(), 1);
        QCOMPARE(problems.first().code, ProblemCode::InvalidName);
        QCOMPARE(problems.first().pointer, u"/fields/1"_s);
        QVERIFY2(problems.first().message.contains(u"root field"_s), qPrintable(problems.first().message));
        QVERIFY(problems.first().message.contains(root.section(u'.', 0, 0)));
    }
}

void TestSchema::validateRefusesDuplicatesIgnoringCase()
{
    DataSchema schema;
    schema.fields = {
        {u"cpu"_s, FieldType::Float, false, {}},
        {u"CPU"_s, FieldType::Integer, false, {}},
        {u"usage.Mem"_s, FieldType::Float, false, {}},
        {u"usage.mem"_s, FieldType::Float, false, {}},
    };
    const Problems problems = schema.validate();
    QCOMPARE(problems.size(), 2);
    QCOMPARE(problems[0].code, ProblemCode::Duplicate);
    QCOMPARE(problems[0].pointer, u"/fields/1"_s);
    QVERIFY(problems[0].message.contains(u"CPU"_s));
    QCOMPARE(problems[1].code, ProblemCode::Duplicate);
    QCOMPARE(problems[1].pointer, u"/fields/3"_s);
}

void TestSchema::validateRefusesValueAndObject()
{
    for (const auto &[a, b] : {std::pair{u"a"_s, u"a.b"_s}, std::pair{u"a.b.c"_s, u"a.b"_s},
                               std::pair{u"A"_s, u"a.b.c"_s}, std::pair{u"usage"_s, u"usage.cpu"_s}}) {
        DataSchema schema;
        schema.fields = {{a, FieldType::Float, false, {}}, {b, FieldType::Float, false, {}}};
        const Problems problems = schema.validate();
        QVERIFY2(!problems.isEmpty(), qPrintable(a + u" + "_s + b));
        QCOMPARE(problems.first().code, ProblemCode::InvalidName);
        QVERIFY2(problems.first().message.contains(a.size() > b.size() ? a : b), qPrintable(describe(problems)));
    }
}

void TestSchema::validatePathRefuses_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("mentions");

    QTest::newRow("empty") << QString() << u"needs a name"_s;
    QTest::newRow("space") << u"a b"_s << u"letters, digits"_s;
    QTest::newRow("semicolon") << u"a;b"_s << u"letters, digits"_s;
    QTest::newRow("double quote") << u"a\"b"_s << u"letters, digits"_s;
    QTest::newRow("single quote") << u"a'b"_s << u"letters, digits"_s;
    QTest::newRow("sql injection") << u"x\"; DROP TABLE definitions; --"_s << u"letters, digits"_s;
    QTest::newRow("accented") << u"café"_s << u"letters, digits"_s;
    QTest::newRow("cyrillic") << u"цпу"_s << u"letters, digits"_s;
    QTest::newRow("emoji") << u"cpu🔥"_s << u"letters, digits"_s;
    QTest::newRow("slash") << u"a/b"_s << u"letters, digits"_s;
    QTest::newRow("NUL") << QStringView(u"a\0b", 3).toString() << u"letters, digits"_s;
    QTest::newRow("double dot") << u"a..b"_s << u"dot"_s;
    QTest::newRow("leading dot") << u".a"_s << u"dot"_s;
    QTest::newRow("trailing dot") << u"a."_s << u"dot"_s;
    QTest::newRow("59 chars") << QString(DataSchema::MaxPathLength + 1, u'x') << u"59"_s;
    QTest::newRow("59 chars nested") << QString(29, u'x') + u"."_s + QString(29, u'y') << u"58"_s;
    QTest::newRow("10 KB") << QString(10240, u'x') << u"10240"_s;
    QTest::newRow("customer_id") << u"customer_id"_s << u"root field"_s;
    QTest::newRow("timestamp") << u"timestamp"_s << u"root field"_s;
}

void TestSchema::validatePathRefuses()
{
    QFETCH(QString, path);
    QFETCH(QString, mentions);
    const auto problem = DataSchema::validatePath(path, u"/fields/7"_s);
    QVERIFY(problem);
    QCOMPARE(problem->code, ProblemCode::InvalidName);
    QCOMPARE(problem->pointer, u"/fields/7"_s);
    QVERIFY2(problem->message.contains(mentions, Qt::CaseInsensitive), qPrintable(problem->message));
    QVERIFY(problem->message.size() < 400);

    DataSchema schema;
    schema.fields = {{path, FieldType::String, false, {}}};
    QVERIFY(!schema.validate().isEmpty());
}

void TestSchema::validateReportsEveryProblem()
{
    DataSchema schema;
    schema.fields = {
        {u"customer_id"_s, FieldType::String, false, {}},
        {u"bad name"_s, FieldType::String, false, {}},
        {u"ok"_s, FieldType::String, false, {}},
        {u"OK"_s, FieldType::String, false, {}},
        {QString(80, u'z'), FieldType::String, false, {}},
    };
    const Problems problems = schema.validate();
    QCOMPARE(problems.size(), 4);
    QStringList pointers;
    for (const Problem &p : problems)
        pointers.append(p.pointer);
    QCOMPARE(pointers, (QStringList{u"/fields/0"_s, u"/fields/1"_s, u"/fields/3"_s, u"/fields/4"_s}));
    QVERIFY(anyMentions(problems, u"root field"_s));
    QVERIFY(anyMentions(problems, u"twice"_s));
}

void TestSchema::validateRefusesTooManyFields()
{
    DataSchema schema;
    for (int i = 0; i < DataSchema::MaxFields; ++i)
        schema.fields.append({u"f%1"_s.arg(i), FieldType::Integer, false, {}});
    QVERIFY(schema.validate().isEmpty());
    schema.fields.append({u"one_more"_s, FieldType::Integer, false, {}});
    const Problems problems = schema.validate();
    QCOMPARE(problems.size(), 1);
    QCOMPARE(problems.first().code, ProblemCode::OutOfRange);
    QVERIFY(problems.first().message.contains(QString::number(DataSchema::MaxFields)));
}

QTEST_GUILESS_MAIN(TestSchema)
#include "tst_schema.moc"
