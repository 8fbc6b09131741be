#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringList>

#include <vector>

namespace meterdesk {

// A parsed JSON document that keeps every number exactly as written (decimals
// must never pass through a double) and object members in arrival order.
// Parsing is iterative (no recursion on hostile nesting), validates UTF-8,
// refuses NaN/Infinity and duplicate keys. A plain value: any thread.
class JsonValue
{
public:
    enum class Type : quint8 { Null, Bool, Number, String, Array, Object };

    struct ParseResult;
    static ParseResult parse(QByteArrayView bytes, int maxDepth = 64);

    Type type() const { return m_type; }
    bool isNull() const { return m_type == Type::Null; }
    bool isObject() const { return m_type == Type::Object; }
    bool isArray() const { return m_type == Type::Array; }
    bool isString() const { return m_type == Type::String; }
    bool isNumber() const { return m_type == Type::Number; }
    bool isBool() const { return m_type == Type::Bool; }

    bool toBool() const { return m_bool; }
    // The UTF-8 text of a string, or the token of a number ("5", "1.50", "1e3").
    const QByteArray &text() const { return m_text; }
    QString toString() const { return QString::fromUtf8(m_text); }

    qsizetype size() const { return qsizetype(m_items.size()); }
    const JsonValue &at(qsizetype i) const { return m_items[size_t(i)]; }
    // Moves the elements of an array (or the values of an object) out.
    std::vector<JsonValue> takeItems() { m_keys.clear(); return std::move(m_items); }
    const QByteArray &keyAt(qsizetype i) const { return m_keys[size_t(i)]; }
    // nullptr when the object has no such member (or this is not an object).
    const JsonValue *member(QByteArrayView key) const;

    // Compact JSON; with sortKeys the text is canonical (same data -> same bytes).
    QByteArray toJson(bool sortKeys = false) const;

    static JsonValue makeString(QByteArray utf8);
    // Builders for code that assembles an event (the CSV importer). makeNumber takes
    // a token that is already valid JSON number text; insert() adds an object member
    // (the caller keeps keys unique) and returns it, so nested objects can be filled.
    static JsonValue makeNumber(QByteArray token);
    static JsonValue makeBool(bool value);
    static JsonValue makeObject();
    JsonValue &insert(QByteArray key, JsonValue value);
    JsonValue *member(QByteArrayView key);
    // Sets (or adds) the member at a dotted path inside this object, creating
    // intermediate objects; false when a step is not an object. For row edits.
    bool setPath(const QStringList &path, JsonValue value);
    static QString typeName(Type type);

private:
    friend class JsonBuilder;
    Type m_type = Type::Null;
    bool m_bool = false;
    QByteArray m_text;
    std::vector<JsonValue> m_items;
    std::vector<QByteArray> m_keys; // parallel to m_items for objects
};

struct JsonValue::ParseResult
{
    JsonValue value;
    bool ok = false;
    QString error;       // e.g. "Missing a comma or '}' after an object member."
    qsizetype offset = 0; // byte offset of the error
};

// Appends `utf8` as a JSON string literal (quotes and escapes) to `out`.
void appendJsonString(QByteArray &out, QByteArrayView utf8);

} // namespace meterdesk
