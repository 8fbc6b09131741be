#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace meterdesk::JsonFormat {

// Re-indents JSON text without parsing values: numbers stay exactly as written
// (no double round trip), member order is kept, strings are copied verbatim.
// Meant for text that JsonValue::parse accepted; other text is re-spaced as well
// as it goes. Empty objects and arrays stay `{}` / `[]`. Any thread.
QByteArray indented(QByteArrayView json, int indent = 2);

} // namespace meterdesk::JsonFormat
