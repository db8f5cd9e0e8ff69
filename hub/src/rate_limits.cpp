// rate_limits.cpp — parsing and merging Sentry rate limits (rt/hub/rate_limits.hpp),
// sentry-go's internal/ratelimit rules (github.com/getsentry/sentry-go/internal/ratelimit).
//
// Owns: one optional deadline per category.
// Invariant: merge and extend only ever move a deadline later.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <string>

#include "rt/hub/rate_limits.hpp"

namespace rt {
namespace {

using clock = rate_limits::clock;

constexpr std::chrono::seconds default_retry_after{60};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits `s` at `sep`, calling f(part) for every part (empty ones included).
template <class F>
void for_each_part(std::string_view s, char sep, F f) {
  while (true) {
    const std::size_t at = s.find(sep);
    f(s.substr(0, at));
    if (at == std::string_view::npos) return;
    s.remove_prefix(at + 1);
  }
}

std::optional<rate_category> category_named(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.empty()) return rate_category::all;
  if (lower == "error") return rate_category::error;
  if (lower == "transaction") return rate_category::transaction;
  if (lower == "monitor") return rate_category::monitor;
  if (lower == "log_item") return rate_category::log_item;
  if (lower == "trace_metric") return rate_category::trace_metric;
  return std::nullopt;  // "default", "security", "attachment", ...: ignored, as sentry-go does
}

// parse_seconds: a retry_after field. nullopt: unparsable (skip the limit). Negative, NaN,
// infinite or overflowing values are 0 s; fractions round up.
std::optional<std::chrono::seconds> parse_seconds(std::string_view field) {
  if (field.empty()) return std::nullopt;
  const std::string text(field);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || std::isspace(static_cast<unsigned char>(text[0]))) {
    return std::nullopt;
  }
  // Go turns the value into a time.Duration (int64 ns); one that overflows counts as 0 s.
  if (!(v > 0) || v * 1e9 >= 9.223372036854775807e18) return std::chrono::seconds(0);
  return std::chrono::seconds(static_cast<long long>(std::ceil(v)));
}

}  // namespace

void rate_limits::extend(rate_category c, clock::time_point until) {
  auto& d = deadlines_[static_cast<std::size_t>(c)];
  if (!d || *d < until) d = until;
}

rate_limits rate_limits::parse_header(std::string_view header, clock::time_point now) {
  rate_limits out;
  for_each_part(header, ',', [&](std::string_view limit) {
    limit = trim(limit);
    if (limit.empty()) return;
    const std::size_t colon = limit.find(':');
    const std::optional<std::chrono::seconds> secs = parse_seconds(trim(limit.substr(0, colon)));
    if (!secs) return;
    const clock::time_point until = now + *secs;
    std::string_view categories;
    if (colon != std::string_view::npos) {
      categories = limit.substr(colon + 1);
      categories = categories.substr(0, categories.find(':'));  // scope, reason: ignored
    }
    bool any = false;
    for_each_part(categories, ';', [&](std::string_view name) {
      name = trim(name);
      if (name.empty()) return;
      any = true;
      if (std::optional<rate_category> c = category_named(name)) out.extend(*c, until);
    });
    if (!any) out.extend(rate_category::all, until);
  });
  return out;
}

rate_limits rate_limits::parse_retry_after(std::string_view header, clock::time_point now) {
  rate_limits out;
  clock::time_point until = now + default_retry_after;
  const std::string text(trim(header));
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
      text.size() < 12) {
    until = now + std::chrono::seconds(std::stoll(text));
  } else if (!text.empty()) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end != nullptr && *end == '\0') until = clock::from_time_t(timegm(&tm));
  }
  out.extend(rate_category::all, until);
  return out;
}

rate_limits rate_limits::from_response(int status, std::string_view rate_limits_header,
                                       std::string_view retry_after_header, clock::time_point now) {
  if (!trim(rate_limits_header).empty()) return parse_header(rate_limits_header, now);
  if (status == 429) return parse_retry_after(retry_after_header, now);
  return {};
}

void rate_limits::merge(const rate_limits& other) {
  for (std::size_t i = 0; i < category_count; ++i) {
    if (other.deadlines_[i]) extend(static_cast<rate_category>(i), *other.deadlines_[i]);
  }
}

std::optional<rate_limits::clock::time_point> rate_limits::deadline(rate_category c) const {
  const auto& own = deadlines_[static_cast<std::size_t>(c)];
  const auto& all = deadlines_[static_cast<std::size_t>(rate_category::all)];
  if (!own) return all;
  if (!all) return own;
  return std::max(*own, *all);
}

bool rate_limits::is_limited(rate_category c, clock::time_point now) const {
  const std::optional<clock::time_point> d = deadline(c);
  return d && *d > now;
}

}  // namespace rt
