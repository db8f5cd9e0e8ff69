// rt/hub/rate_limits.hpp — rt::rate_limits, the per-category send deadlines a Sentry
// server imposes (X-Sentry-Rate-Limits, or Retry-After on a 429).
//
// Example:
//   rt::rate_limits limits;
//   limits.merge(rt::rate_limits::from_response(429, "", "30", now));
//   limits.is_limited(rt::rate_category::error, now);   // true for the next 30 s
//
// Owns: parsing of the two headers with sentry-go's rules (internal/ratelimit) and the state map.
// Invariant: a category's deadline only moves later (merge keeps the furthest).
// Not thread-safe: the owner (the HTTP transport) guards it with its lock.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string_view>

namespace rt {

// The categories sentry-go honours; `all` is the empty category name (applies to every
// category). Events and messages are `error`.
enum class rate_category { all, error, transaction, monitor, log_item, trace_metric };

class rate_limits {
 public:
  using clock = std::chrono::system_clock;

  // parse_header parses an X-Sentry-Rate-Limits value: "retry_after[:cat;cat[:scope[:...]]]"
  // comma-separated. Unparsable limits are skipped, unknown categories ignored, fractions
  // of a second rounded up, negative/NaN/infinite values are 0 s.
  static rate_limits parse_header(std::string_view header, clock::time_point now);
  // parse_retry_after parses a Retry-After value: whole seconds or an HTTP date (RFC 1123,
  // taken as the deadline); anything else (missing, negative, fraction, garbage) is 60 s.
  // The limit applies to all categories.
  static rate_limits parse_retry_after(std::string_view header, clock::time_point now);
  // from_response: the rate-limits header when non-empty (whatever the status), else
  // Retry-After when the status is 429, else no limits.
  static rate_limits from_response(int status, std::string_view rate_limits_header,
                                   std::string_view retry_after_header, clock::time_point now);

  // merge keeps, per category, the later deadline.
  void merge(const rate_limits& other);
  // deadline returns max(deadline of c, deadline of all), or nullopt when neither is set.
  std::optional<clock::time_point> deadline(rate_category c) const;
  bool is_limited(rate_category c, clock::time_point now) const;

 private:
  void extend(rate_category c, clock::time_point until);
  static constexpr std::size_t category_count = 6;
  std::array<std::optional<clock::time_point>, category_count> deadlines_{};
};

}  // namespace rt
