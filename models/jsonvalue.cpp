#include "jsonvalue.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <cstring>

namespace meterdesk {

// SAX handler for RapidJSON's iterative reader. Containers under construction live
// on an explicit stack, so neither parsing nor building recurses.
class JsonBuilder
{
public:
    explicit JsonBuilder(int maxDepth) : m_maxDepth(maxDepth) {}

    JsonValue root;
    QString failure;

    bool Null() { return add(JsonValue{}); }
    bool Bool(bool b)
    {
        JsonValue v;
        v.m_type = JsonValue::Type::Bool;
        v.m_bool = b;
        return add(std::move(v));
    }
    bool RawNumber(const char *str, rapidjson::SizeType len, bool)
    {
        JsonValue v;
        v.m_type = JsonValue::Type::Number;
        v.m_text = QByteArray(str, qsizetype(len));
        return add(std::move(v));
    }
    // Not called with kParseNumbersAsStringsFlag, but the Handler concept needs them.
    bool Int(int) { return false; }
    bool Uint(unsigned) { return false; }
    bool Int64(int64_t) { return false; }
    bool Uint64(uint64_t) { return false; }
    bool Double(double) { return false; }
    bool String(const char *str, rapidjson::SizeType len, bool)
    {
        if (loneSurrogate(str, len))
            return false;
        return add(JsonValue::makeString(QByteArray(str, qsizetype(len))));
    }
    bool StartObject() { return open(JsonValue::Type::Object); }
    bool Key(const char *str, rapidjson::SizeType len, bool)
    {
        if (loneSurrogate(str, len))
            return false;
        m_stack.back().m_keys.emplace_back(str, qsizetype(len));
        return true;
    }
    bool EndObject(rapidjson::SizeType)
    {
        JsonValue v = std::move(m_stack.back());
        m_stack.pop_back();
        if (v.m_keys.size() > 1) {
            std::vector<QByteArrayView> sorted(v.m_keys.begin(), v.m_keys.end());
            std::sort(sorted.begin(), sorted.end());
            const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
            if (dup != sorted.end()) {
                failure = QStringLiteral("The key \"%1\" appears twice in one object.")
                              .arg(QString::fromUtf8(dup->first(qMin<qsizetype>(64, dup->size()))));
                return false;
            }
        }
        return add(std::move(v));
    }
    bool StartArray() { return open(JsonValue::Type::Array); }
    bool EndArray(rapidjson::SizeType)
    {
        JsonValue v = std::move(m_stack.back());
        m_stack.pop_back();
        return add(std::move(v));
    }

private:
    // RapidJSON 1.1.0 decodes a lone low surrogate escape ("\udc00") to the bytes
    // ED B0 80, which are not UTF-8 (a lone high one it refuses). The input itself is
    // validated, so ED followed by A0..BF can only come from such an escape.
    bool loneSurrogate(const char *str, rapidjson::SizeType len)
    {
        const char *end = str + len;
        for (const char *p = str; (p = static_cast<const char *>(std::memchr(p, 0xED, size_t(end - p)))); ++p) {
            if (p + 1 < end && static_cast<unsigned char>(p[1]) >= 0xA0) {
                failure = QStringLiteral("A \\u escape is half of a UTF-16 surrogate pair; strings must be Unicode text.");
                return true;
            }
        }
        return false;
    }
    bool open(JsonValue::Type type)
    {
        if (int(m_stack.size()) >= m_maxDepth) {
            failure = QStringLiteral("The JSON nests deeper than %1 levels.").arg(m_maxDepth);
            return false;
        }
        JsonValue v;
        v.m_type = type;
        m_stack.push_back(std::move(v));
        return true;
    }
    bool add(JsonValue &&v)
    {
        if (m_stack.empty())
            root = std::move(v);
        else
            m_stack.back().m_items.push_back(std::move(v));
        return true;
    }

    int m_maxDepth;
    std::vector<JsonValue> m_stack;
};

JsonValue::ParseResult JsonValue::parse(QByteArrayView bytes, int maxDepth)
{
    constexpr unsigned Flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag
        | rapidjson::kParseNumbersAsStringsFlag;
    rapidjson::MemoryStream stream(bytes.data(), size_t(bytes.size()));
    rapidjson::Reader reader;
    JsonBuilder builder(maxDepth);
    const rapidjson::ParseResult ok = reader.Parse<Flags>(stream, builder);
    ParseResult result;
    if (ok) {
        result.ok = true;
        result.value = std::move(builder.root);
        return result;
    }
    result.offset = qsizetype(ok.Offset());
    if (!builder.failure.isEmpty())
        result.error = builder.failure;
    else if (ok.Code() == rapidjson::kParseErrorDocumentEmpty)
        result.error = QStringLiteral("The body is empty; a JSON object was expected.");
    else
        result.error = QStringLiteral("%1 (at byte %2)")
                           .arg(QString::fromLatin1(rapidjson::GetParseError_En(ok.Code())))
                           .arg(result.offset);
    return result;
}

const JsonValue *JsonValue::member(QByteArrayView key) const
{
    if (m_type != Type::Object)
        return nullptr;
    for (size_t i = 0; i < m_keys.size(); ++i)
        if (m_keys[i] == key)
            return &m_items[i];
    return nullptr;
}

JsonValue JsonValue::makeString(QByteArray utf8)
{
    JsonValue v;
    v.m_type = Type::String;
    v.m_text = std::move(utf8);
    return v;
}

bool JsonValue::setPath(const QStringList &path, JsonValue value)
{
    JsonValue *node = this;
    for (qsizetype i = 0; i < path.size(); ++i) {
        if (node->m_type != Type::Object)
            return false;
        const QByteArray key = path[i].toUtf8();
        size_t at = node->m_keys.size();
        for (size_t k = 0; k < node->m_keys.size(); ++k)
            if (node->m_keys[k] == key)
                at = k;
        if (at == node->m_keys.size()) {
            JsonValue child;
            child.m_type = Type::Object;
            node->m_keys.push_back(key);
            node->m_items.push_back(std::move(child));
        }
        if (i + 1 == path.size()) {
            node->m_items[at] = std::move(value);
            return true;
        }
        node = &node->m_items[at];
    }
    return false;
}

JsonValue JsonValue::makeNumber(QByteArray token)
{
    JsonValue v;
    v.m_type = Type::Number;
    v.m_text = std::move(token);
    return v;
}

JsonValue JsonValue::makeBool(bool value)
{
    JsonValue v;
    v.m_type = Type::Bool;
    v.m_bool = value;
    return v;
}

JsonValue JsonValue::makeObject()
{
    JsonValue v;
    v.m_type = Type::Object;
    return v;
}

JsonValue &JsonValue::insert(QByteArray key, JsonValue value)
{
    m_keys.push_back(std::move(key));
    m_items.push_back(std::move(value));
    return m_items.back();
}

JsonValue *JsonValue::member(QByteArrayView key)
{
    return const_cast<JsonValue *>(std::as_const(*this).member(key));
}

QString JsonValue::typeName(Type type)
{
    switch (type) {
    case Type::Null: return QStringLiteral("null");
    case Type::Bool: return QStringLiteral("a boolean");
    case Type::Number: return QStringLiteral("a number");
    case Type::String: return QStringLiteral("a string");
    case Type::Array: return QStringLiteral("an array");
    case Type::Object: return QStringLiteral("an object");
    }
    return {};
}

void appendJsonString(QByteArray &out, QByteArrayView s)
{
    static constexpr char hex[] = "0123456789abcdef";
    out.append('"');
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
            if (c < 0x20) {
                out.append("\\u00");
                out.append(hex[c >> 4]);
                out.append(hex[c & 15]);
            } else {
                out.append(ch);
            }
        }
    }
    out.append('"');
}

namespace {
// Iterative writer: a frame per open container, so deep documents cannot blow the stack.
struct Frame
{
    const JsonValue *value;
    std::vector<qsizetype> order;
    qsizetype next = 0;
};
} // namespace

QByteArray JsonValue::toJson(bool sortKeys) const
{
    QByteArray out;
    std::vector<Frame> stack;
    auto emitScalar = [&out](const JsonValue &v) {
        switch (v.m_type) {
        case Type::Null: out.append("null"); break;
        case Type::Bool: out.append(v.m_bool ? "true" : "false"); break;
        case Type::Number: out.append(v.m_text); break;
        case Type::String: appendJsonString(out, v.m_text); break;
        default: break;
        }
    };
    auto openFrame = [&](const JsonValue &v) {
        Frame f{&v, {}, 0};
        f.order.resize(v.m_items.size());
        for (size_t i = 0; i < f.order.size(); ++i)
            f.order[i] = qsizetype(i);
        if (sortKeys && v.m_type == Type::Object)
            std::sort(f.order.begin(), f.order.end(),
                      [&v](qsizetype a, qsizetype b) { return v.m_keys[size_t(a)] < v.m_keys[size_t(b)]; });
        out.append(v.m_type == Type::Object ? '{' : '[');
        stack.push_back(std::move(f));
    };
    if (m_type == Type::Object || m_type == Type::Array)
        openFrame(*this);
    else
        emitScalar(*this);
    while (!stack.empty()) {
        Frame &f = stack.back();
        if (f.next >= qsizetype(f.order.size())) {
            out.append(f.value->m_type == Type::Object ? '}' : ']');
            stack.pop_back();
            continue;
        }
        const qsizetype i = f.order[size_t(f.next)];
        if (f.next++ > 0)
            out.append(',');
        if (f.value->m_type == Type::Object) {
            appendJsonString(out, f.value->m_keys[size_t(i)]);
            out.append(':');
        }
        const JsonValue &child = f.value->m_items[size_t(i)];
        if (child.m_type == Type::Object || child.m_type == Type::Array)
            openFrame(child); // may reallocate: f is not used after this
        else
            emitScalar(child);
    }
    return out;
}

} // namespace meterdesk
