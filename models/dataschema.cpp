#include "dataschema.h"

#include "timestamp.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>

namespace meterdesk {

namespace FieldTypes {

QList<FieldType> all()
{
    return {FieldType::String, FieldType::Integer, FieldType::Float,    FieldType::Decimal, FieldType::Boolean,
            FieldType::Date,   FieldType::DateTime, FieldType::Uuid, FieldType::Array};
}

QString name(FieldType type)
{
    switch (type) {
    case FieldType::String: return QStringLiteral("string");
    case FieldType::Integer: return QStringLiteral("integer");
    case FieldType::Float: return QStringLiteral("float");
    case FieldType::Decimal: return QStringLiteral("decimal");
    case FieldType::Boolean: return QStringLiteral("boolean");
    case FieldType::Date: return QStringLiteral("date");
    case FieldType::DateTime: return QStringLiteral("datetime");
    case FieldType::Uuid: return QStringLiteral("uuid");
    case FieldType::Array: return QStringLiteral("array");
    }
    return {};
}

std::optional<FieldType> fromName(QStringView n)
{
    for (FieldType t : all())
        if (n.compare(name(t), Qt::CaseInsensitive) == 0)
            return t;
    return std::nullopt;
}

} // namespace FieldTypes

const SchemaField *DataSchema::field(const QString &path) const
{
    for (const SchemaField &f : fields)
        if (f.path == path)
            return &f;
    return nullptr;
}

std::optional<Problem> DataSchema::validatePath(const QString &path, const QString &pointer)
{
    auto refuse = [&](const QString &message) {
        return Problem{ProblemCode::InvalidName, pointer, message};
    };
    if (path.isEmpty())
        return refuse(QStringLiteral("A field needs a name."));
    if (path.size() > MaxPathLength)
        return refuse(QStringLiteral("The field name is %1 characters long; at most %2 are allowed.")
                          .arg(path.size()).arg(MaxPathLength));
    for (const QString &segment : path.split(u'.')) {
        if (segment.isEmpty())
            return refuse(QStringLiteral("“%1”: a dot must separate two names (nested objects are written a.b).")
                              .arg(path));
        for (const QChar c : segment) {
            const char16_t u = c.unicode();
            const bool ok = (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9')
                || u == u'_' || u == u'-';
            if (!ok)
                return refuse(QStringLiteral("“%1”: field names may contain only letters, digits, underscores "
                                             "and dashes (dots separate nested names).")
                                  .arg(path.left(64)));
        }
    }
    const QString top = path.section(u'.', 0, 0);
    if (top == QLatin1String("customer_id") || top == QLatin1String("timestamp"))
        return refuse(QStringLiteral("“%1” is a root field of every usage event; it cannot be part of the data schema.")
                          .arg(top));
    return std::nullopt;
}

Problems DataSchema::validate() const
{
    Problems problems;
    if (fields.size() > MaxFields)
        problems.append({ProblemCode::OutOfRange, QStringLiteral("/fields"),
                         QStringLiteral("A schema holds at most %1 fields.").arg(MaxFields)});
    QSet<QString> seen;
    for (qsizetype i = 0; i < fields.size(); ++i) {
        const QString pointer = QStringLiteral("/fields/%1").arg(i);
        if (auto p = validatePath(fields[i].path, pointer)) {
            problems.append(*p);
            continue;
        }
        const QString key = fields[i].path.toLower();
        if (seen.contains(key))
            problems.append({ProblemCode::Duplicate, pointer,
                             QStringLiteral("The field “%1” is defined twice (names are compared ignoring case).")
                                 .arg(fields[i].path)});
        seen.insert(key);
    }
    // "a" and "a.b" cannot both be fields: a would be a value and an object at once.
    for (const SchemaField &f : fields) {
        QString prefix;
        const QStringList segs = f.path.toLower().split(u'.');
        for (qsizetype s = 0; s + 1 < segs.size(); ++s) {
            prefix += (s ? QStringLiteral(".") : QString()) + segs[s];
            if (seen.contains(prefix))
                problems.append({ProblemCode::InvalidName, QStringLiteral("/fields"),
                                 QStringLiteral("“%1” is a field, so it cannot also hold “%2”.").arg(prefix, f.path)});
        }
    }
    return problems;
}

namespace {

QJsonObject propertyFor(const SchemaField &f)
{
    QJsonObject p;
    switch (f.type) {
    case FieldType::String: p[u"type"] = QStringLiteral("string"); break;
    case FieldType::Integer: p[u"type"] = QStringLiteral("integer"); break;
    case FieldType::Float: p[u"type"] = QStringLiteral("number"); break;
    case FieldType::Decimal:
        p[u"type"] = QJsonArray{QStringLiteral("number"), QStringLiteral("string")};
        p[u"format"] = QStringLiteral("decimal");
        break;
    case FieldType::Boolean: p[u"type"] = QStringLiteral("boolean"); break;
    case FieldType::Date:
        p[u"type"] = QStringLiteral("string");
        p[u"format"] = QStringLiteral("date");
        break;
    case FieldType::DateTime:
        p[u"type"] = QStringLiteral("string");
        p[u"format"] = QStringLiteral("date-time");
        break;
    case FieldType::Uuid:
        p[u"type"] = QStringLiteral("string");
        p[u"format"] = QStringLiteral("uuid");
        break;
    case FieldType::Array: p[u"type"] = QStringLiteral("array"); break;
    }
    if (!f.description.isEmpty())
        p[u"description"] = f.description;
    return p;
}

// Inserts `property` at the nested position of `segments` inside `object`.
void insertNested(QJsonObject &object, const QStringList &segments, qsizetype index, const QJsonObject &property,
                  bool required)
{
    QJsonObject props = object.value(u"properties").toObject();
    const QString &name = segments[index];
    if (index + 1 == segments.size()) {
        props[name] = property;
    } else {
        QJsonObject child = props.value(name).toObject();
        if (child.isEmpty())
            child[u"type"] = QStringLiteral("object");
        insertNested(child, segments, index + 1, property, required);
        props[name] = child;
    }
    object[u"properties"] = props;
    if (required && index + 1 == segments.size()) {
        QJsonArray req = object.value(u"required").toArray();
        req.append(name);
        object[u"required"] = req;
    }
}

std::optional<FieldType> typeOf(const QJsonObject &p, QString *why)
{
    const QString format = p.value(u"format").toString();
    if (const QString custom = p.value(u"x-meterdesk-type").toString(); !custom.isEmpty()) {
        if (auto t = FieldTypes::fromName(custom))
            return t;
        *why = QStringLiteral("unknown x-meterdesk-type “%1”").arg(custom);
        return std::nullopt;
    }
    QStringList types;
    const QJsonValue t = p.value(u"type");
    if (t.isArray()) {
        for (const QJsonValue &v : t.toArray())
            if (v.toString() != QLatin1String("null"))
                types.append(v.toString());
    } else {
        types.append(t.toString());
    }
    if (format == QLatin1String("decimal"))
        return FieldType::Decimal;
    if (types.size() != 1) {
        *why = QStringLiteral("give one \"type\" (string, integer, number, boolean, array, object)");
        return std::nullopt;
    }
    const QString &type = types.first();
    if (type == QLatin1String("string")) {
        if (format == QLatin1String("date"))
            return FieldType::Date;
        if (format == QLatin1String("date-time"))
            return FieldType::DateTime;
        if (format == QLatin1String("uuid"))
            return FieldType::Uuid;
        return FieldType::String;
    }
    if (type == QLatin1String("integer"))
        return FieldType::Integer;
    if (type == QLatin1String("number"))
        return FieldType::Float;
    if (type == QLatin1String("boolean"))
        return FieldType::Boolean;
    if (type == QLatin1String("array"))
        return FieldType::Array;
    *why = QStringLiteral("\"type\": \"%1\" is not supported").arg(type);
    return std::nullopt;
}

void readProperties(const QJsonObject &object, const QString &prefix, const QString &pointer, DataSchema &schema,
                    Problems &problems, int depth)
{
    if (depth > 16) {
        problems.append({ProblemCode::OutOfRange, pointer, QStringLiteral("Objects nest deeper than 16 levels.")});
        return;
    }
    QSet<QString> required;
    for (const QJsonValue &r : object.value(u"required").toArray())
        required.insert(r.toString());
    const QJsonObject props = object.value(u"properties").toObject();
    for (auto it = props.begin(); it != props.end(); ++it) {
        const QString path = prefix.isEmpty() ? it.key() : prefix + u'.' + it.key();
        const QString here = pointer + QStringLiteral("/properties/") + it.key();
        const QJsonObject p = it.value().toObject();
        if (p.value(u"type").toString() == QLatin1String("object") && !p.contains(u"x-meterdesk-type")) {
            readProperties(p, path, here, schema, problems, depth + 1);
            continue;
        }
        QString why;
        const auto type = typeOf(p, &why);
        if (!type) {
            problems.append({ProblemCode::TypeMismatch, here, QStringLiteral("“%1”: %2.").arg(path, why)});
            continue;
        }
        schema.fields.append({path, *type, required.contains(it.key()), p.value(u"description").toString()});
    }
}

bool isPlainNumber(const QString &s)
{
    static const QRegularExpression re(QStringLiteral("^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$"));
    return re.match(s).hasMatch();
}

bool isUuid(const QString &s)
{
    static const QRegularExpression re(
        QStringLiteral("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"));
    return re.match(s).hasMatch();
}

void inferObject(const QJsonObject &object, const QString &prefix, DataSchema &schema, int depth)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        const QString path = prefix.isEmpty() ? it.key() : prefix + u'.' + it.key();
        const QJsonValue v = it.value();
        if (v.isObject() && depth < 16) {
            inferObject(v.toObject(), path, schema, depth + 1);
            continue;
        }
        FieldType type = FieldType::String;
        if (v.isBool()) {
            type = FieldType::Boolean;
        } else if (v.isDouble()) {
            type = FieldType::Float;
        } else if (v.isArray()) {
            type = FieldType::Array;
        } else if (v.isString()) {
            const QString s = v.toString();
            // The seed sends "5" in its sample and 5 in its curl for the same field:
            // a numeric string is a number.
            if (isPlainNumber(s) && !(s.size() > 1 && s.startsWith(u'0') && s[1] != u'.'))
                type = FieldType::Float;
            else if (isUuid(s))
                type = FieldType::Uuid;
            else if (s.size() == 10 && Timestamp::daysFromDateText(s))
                type = FieldType::Date;
            else if (Timestamp::fromText(s).micros)
                type = FieldType::DateTime;
        }
        schema.fields.append({path, type, false, {}});
    }
}

} // namespace

QJsonObject DataSchema::toJsonSchema() const
{
    QJsonObject root;
    root[u"$schema"] = QStringLiteral("https://json-schema.org/draft/2020-12/schema");
    root[u"type"] = QStringLiteral("object");
    root[u"properties"] = QJsonObject();
    for (const SchemaField &f : fields)
        insertNested(root, f.segments(), 0, propertyFor(f), f.required);
    return root;
}

std::optional<DataSchema> DataSchema::fromJsonSchema(const QJsonObject &schema, Problems *problems)
{
    Problems found;
    if (schema.value(u"type").toString(QStringLiteral("object")) != QLatin1String("object"))
        found.append({ProblemCode::NotAnObject, QStringLiteral("/type"),
                      QStringLiteral("The schema of data must have \"type\": \"object\".")});
    DataSchema result;
    readProperties(schema, {}, QString(), result, found, 0);
    found += result.validate();
    if (problems)
        *problems = found;
    if (!found.isEmpty())
        return std::nullopt;
    return result;
}

DataSchema DataSchema::infer(const QJsonObject &sample)
{
    // A whole envelope ({"data":{...},"timestamp":..,"customer_id":..}) is accepted too.
    const bool envelope = sample.value(u"data").isObject()
        && (sample.contains(u"customer_id") || sample.contains(u"timestamp"));
    DataSchema schema;
    inferObject(envelope ? sample.value(u"data").toObject() : sample, {}, schema, 0);
    return schema;
}

} // namespace meterdesk
