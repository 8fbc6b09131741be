#include "validator.h"

#include "decimal.h"
#include "timestamp.h"

#include <cmath>

namespace meterdesk::Validator {

namespace {

QString pointerEscape(const QString &segment)
{
    QString s = segment;
    s.replace(u'~', QStringLiteral("~0"));
    s.replace(u'/', QStringLiteral("~1"));
    return s;
}

bool isUuidText(QByteArrayView s)
{
    if (s.size() != 36)
        return false;
    for (qsizetype i = 0; i < 36; ++i) {
        const char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

// Numbers may arrive as JSON numbers or as numeric strings ("5" in the seed).
std::optional<QByteArray> numericText(const JsonValue &v)
{
    if (v.isNumber() || v.isString())
        return Decimal::canonical(v.text());
    return std::nullopt;
}

QString shown(const JsonValue &v)
{
    if (v.isString() || v.isNumber()) {
        QString s = v.toString();
        if (s.size() > 40)
            s = s.left(40) + QStringLiteral("…");
        return v.isString() ? QStringLiteral("\"%1\"").arg(s) : s;
    }
    return JsonValue::typeName(v.type());
}

} // namespace

std::optional<QVariant> convert(FieldType type, const JsonValue &v, QString *why)
{
    switch (type) {
    case FieldType::String:
        if (v.isString())
            return QVariant(v.toString());
        *why = QStringLiteral("expected a string, got %1").arg(shown(v));
        return std::nullopt;
    case FieldType::Integer: {
        const auto text = numericText(v);
        if (text) {
            if (auto i = Decimal::toInt64(*text))
                return QVariant(*i);
            if (!text->contains('.')) {
                *why = QStringLiteral("%1 does not fit a 64-bit integer").arg(shown(v));
                return std::nullopt;
            }
        }
        *why = QStringLiteral("expected an integer (a number or a numeric string), got %1").arg(shown(v));
        return std::nullopt;
    }
    case FieldType::Float: {
        if (v.isNumber() || v.isString()) {
            bool ok = false;
            const double d = v.text().toDouble(&ok);
            if (ok && std::isfinite(d))
                return QVariant(d);
            if (ok) {
                *why = QStringLiteral("%1 is not a finite float").arg(shown(v));
                return std::nullopt;
            }
        }
        *why = QStringLiteral("expected a number (or a numeric string), got %1").arg(shown(v));
        return std::nullopt;
    }
    case FieldType::Decimal:
        if (const auto text = numericText(v))
            return QVariant(QString::fromLatin1(*text));
        *why = QStringLiteral("expected a decimal number (up to %1 digits, as a number or a string), got %2")
                   .arg(Decimal::MaxDigits)
                   .arg(shown(v));
        return std::nullopt;
    case FieldType::Boolean:
        if (v.isBool())
            return QVariant(v.toBool());
        if (v.isString() && (v.text() == "true" || v.text() == "false"))
            return QVariant(v.text() == "true");
        *why = QStringLiteral("expected true or false, got %1").arg(shown(v));
        return std::nullopt;
    case FieldType::Date:
        if (v.isString() && Timestamp::daysFromDateText(v.toString()))
            return QVariant(v.toString());
        *why = QStringLiteral("expected a date \"YYYY-MM-DD\", got %1").arg(shown(v));
        return std::nullopt;
    case FieldType::DateTime: {
        Timestamp::Parsed p;
        if (v.isString())
            p = Timestamp::fromText(v.toString());
        else if (v.isNumber())
            p = Timestamp::fromEpochSeconds(v.text());
        else
            p.error = QStringLiteral("expected a date-time, got %1. %2").arg(shown(v), Timestamp::acceptedForms());
        if (p.micros)
            return QVariant(*p.micros);
        *why = p.error;
        return std::nullopt;
    }
    case FieldType::Uuid:
        if (v.isString() && isUuidText(v.text()))
            return QVariant(v.toString().toLower());
        *why = QStringLiteral("expected a UUID (8-4-4-4-12 hex digits), got %1").arg(shown(v));
        return std::nullopt;
    case FieldType::Array:
        if (v.isArray())
            return QVariant(QString::fromUtf8(v.toJson()));
        *why = QStringLiteral("expected an array, got %1").arg(shown(v));
        return std::nullopt;
    }
    return std::nullopt;
}

PreparedSchema prepare(const DataSchema &schema)
{
    PreparedSchema prepared;
    prepared.schema = &schema;
    prepared.segments.reserve(size_t(schema.fields.size()));
    for (const SchemaField &f : schema.fields) {
        std::vector<QByteArray> segments;
        for (const QString &segment : f.segments())
            segments.push_back(segment.toUtf8());
        prepared.segments.push_back(std::move(segments));
    }
    return prepared;
}

Validation validateEvent(const DataSchema &schema, const JsonValue &body, const QString &prefix)
{
    return validateEvent(prepare(schema), body, prefix);
}

Validation validateEvent(const PreparedSchema &schema, const JsonValue &body, const QString &prefix)
{
    Validation result;
    Problems &problems = result.problems;
    if (!body.isObject()) {
        problems.append({ProblemCode::NotAnObject, prefix.isEmpty() ? QStringLiteral("") : prefix,
                         QStringLiteral("An event is a JSON object with data, timestamp and customer_id; got %1.")
                             .arg(JsonValue::typeName(body.type()))});
        return result;
    }
    ValidatedEvent event;

    const JsonValue *customer = body.member("customer_id");
    if (!customer)
        problems.append({ProblemCode::MissingField, prefix + QStringLiteral("/customer_id"),
                         QStringLiteral("customer_id is missing; every event names its customer.")});
    else if (!customer->isString())
        problems.append({ProblemCode::WrongKind, prefix + QStringLiteral("/customer_id"),
                         QStringLiteral("customer_id must be a string, got %1.").arg(JsonValue::typeName(customer->type()))});
    else if (customer->text().isEmpty())
        problems.append({ProblemCode::TypeMismatch, prefix + QStringLiteral("/customer_id"),
                         QStringLiteral("customer_id is empty.")});
    else if (customer->text().size() > MaxCustomerIdLength)
        problems.append({ProblemCode::OutOfRange, prefix + QStringLiteral("/customer_id"),
                         QStringLiteral("customer_id is longer than %1 bytes.").arg(MaxCustomerIdLength)});
    else
        event.customerId = customer->toString();

    const JsonValue *ts = body.member("timestamp");
    if (!ts) {
        problems.append({ProblemCode::MissingField, prefix + QStringLiteral("/timestamp"),
                         QStringLiteral("timestamp is missing. %1").arg(Timestamp::acceptedForms())});
    } else if (!ts->isString() && !ts->isNumber()) {
        problems.append({ProblemCode::WrongKind, prefix + QStringLiteral("/timestamp"),
                         QStringLiteral("timestamp must be a string or a number, got %1. %2")
                             .arg(JsonValue::typeName(ts->type()), Timestamp::acceptedForms())});
    } else {
        const Timestamp::Parsed parsed = ts->isString() ? Timestamp::fromText(ts->toString())
                                                        : Timestamp::fromEpochSeconds(ts->text());
        if (parsed.micros)
            event.timestampUs = *parsed.micros;
        else
            problems.append({ProblemCode::BadTimestamp, prefix + QStringLiteral("/timestamp"), parsed.error});
    }

    const JsonValue *data = body.member("data");
    if (!data) {
        problems.append({ProblemCode::MissingField, prefix + QStringLiteral("/data"),
                         QStringLiteral("data is missing; send the usage as an object, e.g. \"data\": {…}.")});
        return result;
    }
    if (!data->isObject()) {
        problems.append({ProblemCode::WrongKind, prefix + QStringLiteral("/data"),
                         QStringLiteral("data must be an object, got %1.").arg(JsonValue::typeName(data->type()))});
        return result;
    }

    event.values.reserve(schema.schema->fields.size());
    for (size_t i = 0; i < schema.segments.size(); ++i) {
        const SchemaField &field = schema.schema->fields[qsizetype(i)];
        const JsonValue *value = data;
        for (const QByteArray &segment : schema.segments[i])
            value = value ? value->member(segment) : nullptr;
        // The JSON pointer is built only when there is something to report.
        auto pointer = [&] {
            QString p = prefix + QStringLiteral("/data");
            for (const QString &segment : field.segments())
                p += u'/' + pointerEscape(segment);
            return p;
        };
        if (!value || value->isNull()) {
            if (field.required)
                problems.append({ProblemCode::RequiredField, pointer(),
                                 QStringLiteral("%1 is required (%2).").arg(field.path, FieldTypes::name(field.type))});
            event.values.append(QVariant());
            continue;
        }
        QString why;
        if (auto typed = convert(field.type, *value, &why)) {
            event.values.append(*typed);
        } else {
            problems.append({ProblemCode::TypeMismatch, pointer(), QStringLiteral("%1: %2.").arg(field.path, why)});
            event.values.append(QVariant());
        }
    }
    if (problems.isEmpty()) {
        event.dataJson = data->toJson(/*sortKeys=*/true);
        result.event = std::move(event);
    }
    return result;
}

Validation validateBytes(const DataSchema &schema, QByteArrayView bytes)
{
    const JsonValue::ParseResult parsed = JsonValue::parse(bytes);
    if (!parsed.ok) {
        Validation v;
        v.problems.append({ProblemCode::MalformedJson, QString(),
                           QStringLiteral("The body is not valid JSON: %1").arg(parsed.error)});
        return v;
    }
    return validateEvent(schema, parsed.value);
}

} // namespace meterdesk::Validator
