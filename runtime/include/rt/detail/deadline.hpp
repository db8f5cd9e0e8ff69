// rt/detail/deadline.hpp — internal: durations and deadlines that never overflow, for
// every call that takes a duration (sleep_for, after, rt::timer, rt::ticker,
// with_timeout).
//
// Owns: to_clock_duration (any std::chrono duration that converts exactly to
// clock::duration), later (a time point plus a non-negative duration) and deadline_after
// (now plus a duration).
// Invariant: none of them overflows; they saturate instead, as Go's durations do. A
// duration too long for clock::duration becomes clock::duration::max() (or min()); a
// deadline past the end of the clock becomes clock::time_point::max(), which no clock
// reading ever reaches, so a timer due then never fires (the scheduler's heaps keep such
// a timer like any other). A non-positive duration gives now: due at once, as in Go.
#pragma once

#include <chrono>
#include <limits>
#include <ratio>
#include <type_traits>
#include <utility>

#include "rt/scheduler/park.hpp"

namespace rt::detail {

// to_clock_duration converts d to clock::duration, saturating at its max() and min()
// instead of overflowing (std::chrono::hours::max() is longer than nanoseconds::max()).
// Only durations that convert without rounding are accepted, as before.
template <class Rep, class Period>
constexpr sched::clock::duration to_clock_duration(std::chrono::duration<Rep, Period> d) noexcept {
  using ns = sched::clock::duration;
  static_assert(std::is_convertible_v<std::chrono::duration<Rep, Period>, ns>,
                "rt: a duration must convert to rt::clock::duration without rounding "
                "(std::chrono::duration_cast it first)");
  using scale = std::ratio_divide<Period, ns::period>;  // den == 1: the conversion is exact
  constexpr ns::rep hi = std::numeric_limits<ns::rep>::max() / scale::num;
  constexpr ns::rep lo = std::numeric_limits<ns::rep>::min() / scale::num;
  if (std::cmp_greater(d.count(), hi)) return ns::max();
  if (std::cmp_less(d.count(), lo)) return ns::min();
  return ns(static_cast<ns::rep>(d.count()) * scale::num);
}

// later returns tp + d (d >= 0), or clock::time_point::max() when that is past the end
// of the clock.
constexpr sched::clock::time_point later(sched::clock::time_point tp,
                                         sched::clock::duration d) noexcept {
  if (tp.time_since_epoch() > sched::clock::duration::max() - d) {
    return sched::clock::time_point::max();
  }
  return tp + d;
}

// deadline_after returns the time d from now: now itself when d <= 0 (due at once), and
// clock::time_point::max() (never) when now + d would overflow.
inline sched::clock::time_point deadline_after(sched::clock::duration d) noexcept {
  const sched::clock::time_point now = sched::clock::now();
  return d <= sched::clock::duration::zero() ? now : later(now, d);
}

}  // namespace rt::detail
