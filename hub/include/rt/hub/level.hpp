// rt/hub/level.hpp — rt::level, the severity of an event or breadcrumb.
//
// Owns: the five Sentry levels and their JSON spellings.
// Invariant: to_string(l) is always one of "debug", "info", "warning", "error", "fatal",
// the only values Sentry's event schema accepts.
#pragma once

#include <string_view>

namespace rt {

enum class level { debug, info, warning, error, fatal };

// to_string returns the Sentry spelling of `l`. Never throws.
std::string_view to_string(level l) noexcept;

}  // namespace rt
