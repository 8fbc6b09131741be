#include "importmapping.h"

#include <QSet>

namespace meterdesk {

namespace {

const QString kCustomerId = QStringLiteral("customer_id");
const QString kTimestamp = QStringLiteral("timestamp");

// JSON number syntax (RFC 8259 §6): what may go into the envelope as a number token.
bool isJsonNumber(QByteArrayView s)
{
    qsizetype i = 0;
    const qsizetype n = s.size();
    auto digits = [&] {
        const qsizetype from = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            ++i;
        return i - from;
    };
    if (i < n && s[i] == '-')
        ++i;
    if (i < n && s[i] == '0')
        ++i;
    else if (digits() == 0)
        return false;
    if (i < n && s[i] == '.') {
        ++i;
        if (digits() == 0)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            ++i;
        if (digits() == 0)
            return false;
    }
    return i == n;
}

// A cell as the JSON value the validator expects for its type. Text that does not
// fit stays a string, so the validator names the problem with the cell's text.
JsonValue cellValue(FieldType type, const QByteArray &text)
{
    switch (type) {
    case FieldType::Integer:
    case FieldType::Float:
    case FieldType::Decimal:
    case FieldType::DateTime:
        if (isJsonNumber(text))
            return JsonValue::makeNumber(text);
        break;
    case FieldType::Boolean:
        if (text == "true" || text == "false")
            return JsonValue::makeBool(text == "true");
        break;
    case FieldType::Array:
        if (text.startsWith('[')) {
            JsonValue::ParseResult parsed = JsonValue::parse(text);
            if (parsed.ok)
                return std::move(parsed.value);
        }
        break;
    case FieldType::String:
    case FieldType::Date:
    case FieldType::Uuid:
        break;
    }
    return JsonValue::makeString(text);
}

QString displayText(const JsonValue &v)
{
    if (v.isString() || v.isNumber())
        return v.toString();
    if (v.isNull())
        return QString();
    return QString::fromUtf8(v.toJson());
}

} // namespace

void ImportMapping::index(const Column &column)
{
    const qsizetype i = m_columns.size() - 1;
    switch (column.kind) {
    case Kind::CustomerId: m_columnOfPointer.insert(QStringLiteral("/customer_id"), i); break;
    case Kind::Timestamp: m_columnOfPointer.insert(QStringLiteral("/timestamp"), i); break;
    case Kind::Field: {
        QString pointer = QStringLiteral("/data");
        for (const QByteArray &segment : column.segments)
            pointer += u'/' + QString::fromUtf8(segment); // field segments need no ~ escapes
        m_columnOfPointer.insert(pointer, i);
        break;
    }
    case Kind::Ignored: break;
    }
}

std::optional<ImportMapping> ImportMapping::fromHeader(const DataSchema &schema, const QStringList &header,
                                                       const QHash<QString, QString> &mapping, QString *error)
{
    ImportMapping m;
    QStringList problems;
    const QSet<QString> names(header.cbegin(), header.cend());
    for (auto it = mapping.cbegin(); it != mapping.cend(); ++it)
        if (!names.contains(it.key()))
            problems.append(QStringLiteral("the mapping names column \"%1\", which the file does not have").arg(it.key()));
    if (names.size() != header.size())
        problems.append(QStringLiteral("the header names a column twice"));

    QHash<QString, QString> takenBy; // target -> column
    for (const QString &name : header) {
        Column c;
        c.name = name;
        QString target = mapping.value(name, name);
        if (mapping.contains(name) && target.isEmpty()) {
            m.m_columns.append(c); // mapped to nothing: skipped
            continue;
        }
        const SchemaField *field = schema.field(target);
        if (!field && target.startsWith(QStringLiteral("data."))) // the table's column name works too
            field = schema.field(target.mid(5));
        if (target == kCustomerId) {
            c.kind = Kind::CustomerId;
        } else if (target == kTimestamp) {
            c.kind = Kind::Timestamp;
        } else if (field) {
            c.kind = Kind::Field;
            c.path = field->path;
            c.type = field->type;
            for (const QString &segment : field->segments())
                c.segments.append(segment.toUtf8());
            target = field->path;
        } else {
            problems.append(mapping.contains(name)
                                ? QStringLiteral("column \"%1\" is mapped to \"%2\", which is neither customer_id, "
                                                 "timestamp nor a field of the schema")
                                      .arg(name, target)
                                : QStringLiteral("column \"%1\" is not a field of the schema (map it to a field "
                                                 "with %1=FIELD, or skip it with %1=)")
                                      .arg(name));
            m.m_columns.append(c);
            continue;
        }
        if (takenBy.contains(target))
            problems.append(QStringLiteral("columns \"%1\" and \"%2\" both go to %3").arg(takenBy.value(target), name, target));
        takenBy.insert(target, name);
        m.m_columns.append(c);
        m.index(c);
    }
    if (!takenBy.contains(kCustomerId))
        problems.append(QStringLiteral("no column holds customer_id"));
    if (!takenBy.contains(kTimestamp))
        problems.append(QStringLiteral("no column holds timestamp"));
    if (!problems.isEmpty()) {
        *error = problems.join(QStringLiteral("; "));
        return std::nullopt;
    }
    return m;
}

ImportMapping ImportMapping::forEvents(const DataSchema &schema)
{
    ImportMapping m;
    Column c;
    c.name = kCustomerId;
    c.kind = Kind::CustomerId;
    m.m_columns.append(c);
    m.index(c);
    c.name = kTimestamp;
    c.kind = Kind::Timestamp;
    m.m_columns.append(c);
    m.index(c);
    for (const SchemaField &f : schema.fields) {
        Column fc;
        fc.name = fc.path = f.path;
        fc.kind = Kind::Field;
        fc.type = f.type;
        for (const QString &segment : f.segments())
            fc.segments.append(segment.toUtf8());
        m.m_columns.append(fc);
        m.index(fc);
    }
    return m;
}

QStringList ImportMapping::columnNames() const
{
    QStringList names;
    for (const Column &c : m_columns)
        names.append(c.name);
    return names;
}

JsonValue ImportMapping::envelope(const QList<CsvRecord::Cell> &cells) const
{
    JsonValue event = JsonValue::makeObject();
    JsonValue data = JsonValue::makeObject();
    for (qsizetype i = 0; i < m_columns.size() && i < cells.size(); ++i) {
        const Column &c = m_columns[i];
        const CsvRecord::Cell &cell = cells[i];
        if (c.kind == Kind::Ignored || (cell.text.isEmpty() && !cell.quoted))
            continue;
        switch (c.kind) {
        case Kind::CustomerId:
            event.insert("customer_id", JsonValue::makeString(cell.text));
            break;
        case Kind::Timestamp:
            event.insert("timestamp", cellValue(FieldType::DateTime, cell.text));
            break;
        case Kind::Field: {
            JsonValue *node = &data;
            for (qsizetype s = 0; s + 1 < c.segments.size(); ++s) {
                JsonValue *child = node->member(c.segments[s]);
                node = child ? child : &node->insert(c.segments[s], JsonValue::makeObject());
            }
            node->insert(c.segments.last(), cellValue(c.type, cell.text));
            break;
        }
        case Kind::Ignored: break;
        }
    }
    event.insert("data", std::move(data));
    return event;
}

QStringList ImportMapping::cellsOf(const JsonValue &event) const
{
    QStringList cells;
    for (const Column &c : m_columns) {
        const JsonValue *v = nullptr;
        if (c.kind == Kind::CustomerId)
            v = event.member("customer_id");
        else if (c.kind == Kind::Timestamp)
            v = event.member("timestamp");
        else if (c.kind == Kind::Field) {
            v = event.member("data");
            for (const QByteArray &segment : c.segments)
                v = v ? v->member(segment) : nullptr;
        }
        cells.append(v ? displayText(*v) : QString());
    }
    return cells;
}

QString ImportMapping::reason(const Problems &problems) const
{
    QStringList parts;
    for (const Problem &p : problems) {
        QString message = p.message;
        if (message.endsWith(u'.'))
            message.chop(1); // the parts are joined with "; "
        const qsizetype i = m_columnOfPointer.value(p.pointer, -1);
        if (i < 0) {
            parts.append(p.pointer.isEmpty() ? message : p.pointer + QStringLiteral(": ") + message);
            continue;
        }
        const Column &c = m_columns[i];
        if (c.kind == Kind::Field && message.startsWith(c.path + QStringLiteral(": ")))
            message = message.mid(c.path.size() + 2);
        const bool named = message.startsWith(c.name + u' ') || message.startsWith(c.name + u':');
        parts.append(named ? message : c.name + QStringLiteral(": ") + message);
    }
    return parts.join(QStringLiteral("; "));
}

} // namespace meterdesk
