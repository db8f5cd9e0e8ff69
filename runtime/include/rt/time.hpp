// rt/time.hpp — sleeping, one-shot timers and tickers that park goroutines on the
// scheduler's per-worker timer heaps (no thread per sleeper).
//
// Example (samples/coordination/evict_idle.cpp):
//   rt::ticker tick(std::chrono::minutes(1));
//   for (;;) {
//     rt::select(rt::case_recv(tick.c, [&](auto) { evict_idle_clients(); }),
//                rt::case_recv(ctx.done(), [&] { tick.stop(); }));
//     if (ctx.err()) return;
//   }
//
// Owns: rt::clock, sleep_for/sleep_until, after, rt::timer and rt::ticker, built on
// rt::sched::timer (the scheduler's intrusive timers; their callbacks run on a worker in
// scheduler context and only do non-blocking channel sends and unparks).
// Invariant: a timer's record lives until the scheduler can no longer touch it: a
// sleeper's until it is woken, after()'s until it fired, rt::timer's and rt::ticker's
// until their destructor stopped them (which waits for a callback in progress).
//
// Timers live on the running pool's heaps: an rt::timer, rt::ticker or deadline context
// that outlives the rt::run that created it is dead (its destructor does nothing).
//
// Time values sent on the channels are rt::clock::now() at firing. Like Go 1.19's, the
// channels have capacity 1 and a tick that finds the channel full is dropped.
//
// Durations saturate, as in Go (rt/detail/deadline.hpp): every call here takes any
// std::chrono duration that converts to clock::duration without rounding (hours,
// seconds, ...); one too long to represent, or whose deadline would be past the end of
// the clock, means "never" (std::chrono::nanoseconds::max() or hours::max() never
// fires), and a non-positive one means "at once". Nothing overflows.
#pragma once

#include <chrono>
#include <memory>

#include "rt/chan.hpp"
#include "rt/detail/deadline.hpp"
#include "rt/scheduler/park.hpp"

namespace rt {

// rt's clock: std::chrono::steady_clock.
using clock = sched::clock;

// sleep_until parks the calling goroutine until tp (a plain thread blocks); returns at
// once when tp has passed, never for clock::time_point::max(). Throws only
// std::bad_alloc (timer heap growth).
void sleep_until(clock::time_point tp);

// sleep_for parks the calling goroutine for at least d (a plain thread blocks); returns
// at once when d <= 0, never when d is too long to represent. Throws only std::bad_alloc.
inline void sleep_for(clock::duration d) {
  sleep_until(detail::deadline_after(d));
}
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  sleep_for(detail::to_clock_duration(d));
}

// after returns a channel (capacity 1) that receives the time once, when d has passed
// (Go's time.After): at once when d <= 0, never when d is too long to represent. Never
// parks. The timer frees itself when it fires. Throws std::bad_alloc.
chan<clock::time_point> after(clock::duration d);
template <class Rep, class Period>
chan<clock::time_point> after(std::chrono::duration<Rep, Period> d) {
  return after(detail::to_clock_duration(d));
}

namespace detail {
struct time_source;
}

// rt::timer sends the time once on `c` when its duration has passed (Go's time.Timer).
// Not copyable; movable. Methods may be called concurrently from any goroutine/thread.
class timer {
 public:
  // Starts the timer: `c` receives the time when d has passed (at once if d <= 0, never
  // if d is too long to represent). Never parks. Throws std::bad_alloc.
  explicit timer(clock::duration d);
  template <class Rep, class Period>
  explicit timer(std::chrono::duration<Rep, Period> d) : timer(detail::to_clock_duration(d)) {}
  timer(timer&&) noexcept;
  timer& operator=(timer&&) noexcept;
  // Stops the timer (waits for a firing in progress); a value already sent stays in c.
  ~timer();

  // stop prevents the timer from firing. Returns true if that stopped it, false if it
  // had already fired or been stopped (then its value, if it fired, is in c or was
  // received already). Never parks; may briefly wait for a firing in progress.
  bool stop();

  // reset stops the timer and starts it again to fire d from now (saturating as the
  // constructor does). Returns what stop() would have. As in Go 1.19, a value sent
  // before reset stays in c: drain it first (`if (!t.stop()) t.c.try_recv();`) if it
  // must not be seen. Never parks; may briefly wait for a firing in progress. Throws
  // std::logic_error on a moved-from timer, and std::bad_alloc.
  bool reset(clock::duration d);
  template <class Rep, class Period>
  bool reset(std::chrono::duration<Rep, Period> d) {
    return reset(detail::to_clock_duration(d));
  }

  chan<clock::time_point> c;

 private:
  std::unique_ptr<detail::time_source> src_;
};

// rt::ticker sends the time on `c` every period (Go's time.Ticker); ticks that find c
// full are dropped, so a slow receiver sees fewer ticks, never a backlog.
class ticker {
 public:
  // Starts ticking; a period too long to represent never ticks. Never parks. Throws
  // std::invalid_argument ("rt::ticker: non-positive interval") when period <= 0, and
  // std::bad_alloc.
  explicit ticker(clock::duration period);
  template <class Rep, class Period>
  explicit ticker(std::chrono::duration<Rep, Period> period)
      : ticker(detail::to_clock_duration(period)) {}
  ticker(ticker&&) noexcept;
  ticker& operator=(ticker&&) noexcept;
  ~ticker();  // stops

  // stop turns the ticker off; no tick is sent after it returns. c is not closed.
  void stop();

  chan<clock::time_point> c;

 private:
  std::unique_ptr<detail::time_source> src_;
};

}  // namespace rt
