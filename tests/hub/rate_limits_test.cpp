// rate_limits_test.cpp — X-Sentry-Rate-Limits and Retry-After parsing, merging.
#include <doctest/doctest.h>

#include "support.hpp"

using namespace std::chrono_literals;
using rt::rate_category;
using rt::rate_limits;

namespace {

const rate_limits::clock::time_point now = rate_limits::clock::from_time_t(1'700'000'000);

// Seconds from `now` to c's own deadline (ignoring `all`), or -1 when c has none.
long long secs(const rate_limits& l, rate_category c) {
  auto d = l.deadline(c);
  if (!d) return -1;
  return std::chrono::duration_cast<std::chrono::seconds>(*d - now).count();
}

}  // namespace

TEST_CASE("X-Sentry-Rate-Limits: the spec's table") {
  for (const char* none : {"", ",", ":", "::,,:,"}) {
    INFO(none);
    CHECK(secs(rate_limits::parse_header(none, now), rate_category::all) == -1);
    CHECK(secs(rate_limits::parse_header(none, now), rate_category::error) == -1);
  }
  CHECK(secs(rate_limits::parse_header("1", now), rate_category::all) == 1);
  CHECK(secs(rate_limits::parse_header("2::ignored_scope:ignored_reason", now),
             rate_category::all) == 2);
  auto four = rate_limits::parse_header("4:error", now);
  CHECK(secs(four, rate_category::error) == 4);
  CHECK(secs(four, rate_category::transaction) == -1);
  auto five = rate_limits::parse_header("5:error;transaction", now);
  CHECK(secs(five, rate_category::error) == 5);
  CHECK(secs(five, rate_category::transaction) == 5);
  auto six = rate_limits::parse_header("6:error, 7:transaction", now);
  CHECK(secs(six, rate_category::error) == 6);
  CHECK(secs(six, rate_category::transaction) == 7);
  auto eight = rate_limits::parse_header("8:error;default;unknown", now);
  CHECK(secs(eight, rate_category::error) == 8);
  CHECK(secs(eight, rate_category::all) == -1);
  CHECK(secs(rate_limits::parse_header("30:error:scope1, 20:error:scope2, 40:error", now),
             rate_category::error) == 40);
  auto mixed = rate_limits::parse_header("30:error:scope1, 20:error:scope2, 40::", now);
  CHECK(secs(mixed, rate_category::all) == 40);
  CHECK(mixed.deadline(rate_category::error) == now + 40s);  // max(error 30, all 40)
}

TEST_CASE("retry_after values: fractions round up, bad ones skip, odd ones are 0 s") {
  CHECK(secs(rate_limits::parse_header("3.1:error", now), rate_category::error) == 4);
  CHECK(secs(rate_limits::parse_header(" 2 :error", now), rate_category::error) == 2);  // trimmed
  for (const char* skip : {"invalid:error", "6 0:error", ":error"}) {
    INFO(skip);
    CHECK(secs(rate_limits::parse_header(skip, now), rate_category::error) == -1);
  }
  for (const char* zero : {"-5:error", "-0:error", "NaN:error", "Inf:error", "1e300:error"}) {
    INFO(zero);
    CHECK(secs(rate_limits::parse_header(zero, now), rate_category::error) == 0);
  }
  CHECK(secs(rate_limits::parse_header("9:ERROR", now), rate_category::error) == 9);
  CHECK(secs(rate_limits::parse_header("9:log_item;monitor;trace_metric", now),
             rate_category::monitor) == 9);
}

TEST_CASE("Retry-After: seconds, an HTTP date, else 60 s, for all categories") {
  CHECK(secs(rate_limits::parse_retry_after("30", now), rate_category::all) == 30);
  CHECK(secs(rate_limits::parse_retry_after("", now), rate_category::all) == 60);
  CHECK(secs(rate_limits::parse_retry_after("-3", now), rate_category::all) == 60);
  CHECK(secs(rate_limits::parse_retry_after("1.5", now), rate_category::all) == 60);
  CHECK(secs(rate_limits::parse_retry_after("soon", now), rate_category::all) == 60);
  // 1700000000 is Tue, 14 Nov 2023 22:13:20 GMT.
  CHECK(secs(rate_limits::parse_retry_after("Tue, 14 Nov 2023 22:15:00 GMT", now),
             rate_category::all) == 100);
}

TEST_CASE("from_response: the header wins whatever the status; Retry-After only on 429") {
  CHECK(secs(rate_limits::from_response(200, "5:error", "", now), rate_category::error) == 5);
  auto both = rate_limits::from_response(429, "5:error", "100", now);
  CHECK(secs(both, rate_category::error) == 5);
  CHECK(secs(both, rate_category::all) == -1);
  CHECK(secs(rate_limits::from_response(429, "", "100", now), rate_category::all) == 100);
  CHECK(secs(rate_limits::from_response(429, "", "", now), rate_category::all) == 60);
  CHECK(secs(rate_limits::from_response(200, "", "100", now), rate_category::all) == -1);
  CHECK(secs(rate_limits::from_response(503, "", "100", now), rate_category::all) == -1);
}

TEST_CASE("merge keeps the later deadline; is_limited compares with now") {
  rate_limits l = rate_limits::parse_header("10:error", now);
  l.merge(rate_limits::parse_header("5:error, 20:transaction", now));
  CHECK(secs(l, rate_category::error) == 10);
  CHECK(secs(l, rate_category::transaction) == 20);
  CHECK(l.is_limited(rate_category::error, now + 9s));
  CHECK_FALSE(l.is_limited(rate_category::error, now + 10s));
  CHECK_FALSE(l.is_limited(rate_category::monitor, now));
}
