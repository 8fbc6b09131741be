#pragma once

#include "httprequest.h"

#include <QString>

namespace meterdesk::CodeSnippet {

// The request as code a user can paste into a program: Python `requests`,
// JavaScript `fetch` and C++ with Qt Network. Disabled headers are left out; the
// body is sent as the exact text (not re-encoded). Pure functions, any thread.
QString python(const HttpRequest &request);
QString javaScript(const HttpRequest &request);
QString cppQt(const HttpRequest &request);

// `text` as a double-quoted string literal with C-style escapes for quotes,
// backslashes and control characters (valid in Python, JavaScript and JSON).
QString quoted(const QString &text);

} // namespace meterdesk::CodeSnippet
