#pragma once

#include <QList>
#include <QString>

namespace meterdesk {

// What went wrong with one piece of input. The same value feeds a form's inline
// message, an HTTP problem body (RFC 9457 `errors[]`) and an import report line.
enum class ProblemCode {
    MalformedJson,   // body is not JSON at all
    NotAnObject,     // JSON, but not the expected object/array
    MissingField,    // envelope field absent (customer_id, timestamp, data)
    WrongKind,       // envelope field of the wrong JSON kind
    RequiredField,   // a required schema field is absent
    TypeMismatch,    // a schema field's value does not fit its type
    BadTimestamp,    // timestamp not in an accepted form
    OutOfRange,      // number or date outside what the type holds
    InvalidName,     // slug, field path or usage event name refused
    Duplicate,       // a name already taken
};

struct Problem
{
    ProblemCode code = ProblemCode::TypeMismatch;
    QString pointer;  // JSON Pointer into the input ("/data/cpu"), or a form field name
    QString message;  // one sentence a user can act on
};

using Problems = QList<Problem>;

// True when a problem means "the envelope itself is broken" (HTTP 400) rather
// than "the content breaks the schema" (HTTP 422).
inline bool isMalformed(ProblemCode code)
{
    return code == ProblemCode::MalformedJson || code == ProblemCode::NotAnObject
        || code == ProblemCode::MissingField || code == ProblemCode::WrongKind;
}

inline bool anyMalformed(const Problems &problems)
{
    for (const Problem &p : problems)
        if (isMalformed(p.code))
            return true;
    return false;
}

} // namespace meterdesk
