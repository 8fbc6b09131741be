#pragma once

#include "problem.h"

#include <optional>

namespace meterdesk {

// The API slug rule of the seed: derived from the usage event's name, overridable,
// letters, digits, '_' and '-' only. Pure functions: callable from any thread.
namespace Slug {

inline constexpr int MaxLength = 64;

// "a raw metric" -> "a_raw_metric": lower-case, accents dropped, every run of
// other characters -> '_', trimmed, cut to MaxLength.
QString derive(const QString &name);

// A message a form can show inline, or nothing when the slug is acceptable.
// Uniqueness is the workspace's to check (it needs the stored slugs).
std::optional<Problem> validate(const QString &slug);

} // namespace Slug
} // namespace meterdesk
