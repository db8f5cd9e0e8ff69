// Tests for rt::sleep_for/sleep_until, rt::after, rt::timer and rt::ticker: lower
// bounds only (never "it took less than"), many sleepers at once, stop/reset semantics
// and their races with firing, plain threads, and durations that saturate (too long to
// represent: never; negative: at once).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include <rt/rt.hpp>

#include "../../common/plain_thread.hpp"

using namespace std::chrono_literals;

namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// A value already in c (a timer that fired), without waiting.
bool ready(const rt::chan<rt::clock::time_point>& c) {
  return rt::select(rt::case_recv(c), rt::case_default()) == 0;
}

}  // namespace

TEST_CASE("sleep_for parks for at least the duration; zero and negative return at once") {
  auto t0 = rt::clock::now();
  rt::sleep_for(2ms);
  CHECK(rt::clock::now() - t0 >= 2ms);
  rt::sleep_for(0ms);
  rt::sleep_for(-5ms);
  auto until = rt::clock::now() + 1ms;
  rt::sleep_until(until);
  CHECK(rt::clock::now() >= until);
}

TEST_CASE("10,000 goroutines sleep at once and all wake") {
  rt::wait_group wg;
  std::atomic<int> woke{0};
  for (int i = 0; i < 10000; ++i) {
    wg.go(
        [&woke](int k) {
          auto t0 = rt::clock::now();
          auto d = std::chrono::microseconds(100 * (k % 20));
          rt::sleep_for(d);
          if (rt::clock::now() - t0 >= d) woke.fetch_add(1);
        },
        i);
  }
  wg.wait();
  CHECK(woke == 10000);
}

TEST_CASE("after sends the time once, no earlier than asked") {
  auto t0 = rt::clock::now();
  auto c = rt::after(1ms);
  CHECK(c.capacity() == 1);
  auto t = c.recv();
  REQUIRE(t.has_value());
  CHECK(*t - t0 >= 1ms);
  CHECK_FALSE(c.try_recv().has_value());
  CHECK(rt::after(-1ms).recv().has_value());  // fires at once
}

TEST_CASE("timer fires once; stop after firing returns false and leaves the value") {
  rt::timer t(1ms);
  auto v = t.c.recv();
  REQUIRE(v.has_value());
  CHECK_FALSE(t.stop());
  CHECK_FALSE(t.c.try_recv().has_value());
}

TEST_CASE("timer stopped before firing never sends") {
  rt::timer t(std::chrono::hours(1));
  CHECK(t.stop());
  CHECK_FALSE(t.stop());
  CHECK_FALSE(t.c.try_recv().has_value());
}

TEST_CASE("timer reset re-arms a stopped or fired timer") {
  rt::timer t(std::chrono::hours(1));
  CHECK(t.reset(1ms));  // was pending
  CHECK(t.c.recv().has_value());
  CHECK_FALSE(t.reset(1ms));  // had fired
  CHECK(t.c.recv().has_value());
  CHECK_FALSE(t.stop());
}

TEST_CASE("timer stop racing with firing: false means the value is in c, true means none") {
  int stopped = 0, fired = 0;
  for (int i = 0; i < 2000; ++i) {
    rt::timer t(std::chrono::microseconds(i % 50));
    if (i % 3 == 0) rt::yield();
    if (t.stop()) {
      ++stopped;
      CHECK_FALSE(t.c.try_recv().has_value());
    } else {
      ++fired;
      CHECK(t.c.try_recv().has_value());  // stop waited for a firing in progress
    }
  }
  CHECK(stopped + fired == 2000);
}

TEST_CASE("timer stop and reset from many goroutines at once, then a clean stop") {
  for (int round = 0; round < 50; ++round) {
    rt::timer t(std::chrono::microseconds(50));
    rt::wait_group wg;
    for (int g = 0; g < 8; ++g) {
      wg.go([&t, g] {
        for (int k = 0; k < 50; ++k) {
          if ((g + k) % 2) {
            t.stop();
          } else {
            t.reset(std::chrono::microseconds(k));
          }
        }
      });
    }
    wg.wait();
    t.stop();
    t.c.try_recv();         // a firing from the concurrent phase may have left a value
    CHECK_FALSE(t.stop());  // stopped for good: nothing pending
    CHECK_FALSE(t.reset(std::chrono::microseconds(1)));
    CHECK(t.c.recv().has_value());  // the reset fires exactly once...
    CHECK_FALSE(t.stop());
    CHECK_FALSE(t.c.try_recv().has_value());  // ...and not twice
  }
}

TEST_CASE("ticker ticks repeatedly; after stop no tick arrives") {
  rt::ticker tk(500us);
  auto prev = rt::clock::time_point{};
  for (int i = 0; i < 5; ++i) {
    auto t = tk.c.recv();
    REQUIRE(t.has_value());
    CHECK(*t > prev);
    prev = *t;
  }
  tk.stop();
  tk.c.try_recv();  // a tick sent before stop may be buffered
  rt::sleep_for(3ms);
  CHECK_FALSE(tk.c.try_recv().has_value());
  CHECK_THROWS_WITH_AS(rt::ticker(0ms), "rt::ticker: non-positive interval", std::invalid_argument);
}

TEST_CASE("a ticker with a slow receiver drops ticks instead of queueing them") {
  rt::ticker tk(100us);
  rt::sleep_for(3ms);
  CHECK(tk.c.size() <= 1);
}

TEST_CASE("timers, tickers and sleep from a plain thread") {
  // on_plain_thread parks this goroutine meanwhile: with one worker, a blocked worker
  // would run no timers.
  rt_test::on_plain_thread([] {
    auto t0 = rt::clock::now();
    rt::sleep_for(1ms);
    CHECK(rt::clock::now() - t0 >= 1ms);
    rt::timer t(1ms);
    CHECK(t.c.recv().has_value());
    rt::ticker tk(200us);
    CHECK(tk.c.recv().has_value());
    CHECK(tk.c.recv().has_value());
    CHECK(rt::after(0ms).recv().has_value());
  });
}

TEST_CASE("tickers and timers freed right after they fired, while every worker fires timers") {
  // Idle workers fire other workers' due timers too. Each record is freed the moment its
  // owner saw one value, often while another thread is still firing timers of the same
  // heap; stop must wait for exactly the firing of its own timer (ASan checks the rest).
  std::atomic<long> got{0};
  rt::wait_group wg;
  auto churn = [&got](int rounds) {
    for (int i = 0; i < rounds; ++i) {
      {
        rt::ticker tk(std::chrono::microseconds(1 + i % 7));
        if (tk.c.recv()) ++got;
      }
      {
        rt::timer t(std::chrono::microseconds(i % 5));
        if (t.c.recv()) ++got;
      }
    }
  };
  for (int g = 0; g < 6; ++g) wg.go(churn, 300);
  rt_test::on_plain_thread([&] { churn(300); });
  wg.wait();
  CHECK(got == 7 * 300 * 2);
}

TEST_CASE("timer and ticker move") {
  rt::timer a(std::chrono::hours(1));
  rt::timer b = std::move(a);
  CHECK_FALSE(a.stop());  // moved from: nothing to stop
  CHECK(b.stop());
  rt::ticker x(1ms);
  rt::ticker y(std::chrono::hours(1));
  y = std::move(x);
  CHECK(y.c.recv().has_value());
}

TEST_CASE("durations of any exact type convert saturating, and deadlines saturate") {
  using rt::detail::to_clock_duration;
  static_assert(to_clock_duration(hours(2)) == nanoseconds(7'200'000'000'000));
  static_assert(to_clock_duration(-seconds(3)) == nanoseconds(-3'000'000'000));
  static_assert(to_clock_duration(nanoseconds::max()) == nanoseconds::max());
  static_assert(to_clock_duration(hours::max()) == nanoseconds::max());
  static_assert(to_clock_duration(seconds::min()) == nanoseconds::min());
  // The edge: the longest exact microseconds converts, one more saturates.
  constexpr auto longest = microseconds(INT64_MAX / 1000);
  static_assert(to_clock_duration(longest) == nanoseconds(INT64_MAX / 1000 * 1000));
  static_assert(to_clock_duration(longest + microseconds(1)) == nanoseconds::max());
  static_assert(to_clock_duration(std::chrono::duration<std::uint64_t>(UINT64_MAX)) ==
                nanoseconds::max());
  constexpr auto end = rt::clock::time_point::max();
  static_assert(rt::detail::later(end - 5ns, 5ns) == end);
  static_assert(rt::detail::later(end - 5ns, 6ns) == end);
  static_assert(rt::detail::later(end - 5ns, 4ns) == end - 1ns);
  CHECK(rt::detail::deadline_after(nanoseconds::max()) == end);
  const auto before = rt::clock::now();
  const auto due = rt::detail::deadline_after(nanoseconds::min());
  CHECK(due >= before);  // now: no underflow
  CHECK(due <= rt::clock::now());
}

TEST_CASE("sleep for a duration too long to represent never returns") {
  // Each sleeper stays parked for good (reported when run returns, like any goroutine
  // blocked forever); a short after() must win against all of them.
  auto woke = rt::make_chan<int>(4);
  rt::go([woke] {
    rt::sleep_for(nanoseconds::max());
    woke.send(1);
  });
  rt::go([woke] {
    rt::sleep_for(hours::max());
    woke.send(2);
  });
  rt::go([woke] {
    rt::sleep_for(seconds::max());
    woke.send(3);
  });
  rt::go([woke] {
    rt::sleep_until(rt::clock::time_point::max());
    woke.send(4);
  });
  CHECK(rt::select(rt::case_recv(woke), rt::case_recv(rt::after(1ms))) == 1);
}

TEST_CASE("after, timer and ticker with durations too long to represent never fire") {
  auto after_max = rt::after(nanoseconds::max());
  auto after_hours = rt::after(hours::max());
  rt::timer t(nanoseconds::max());
  rt::timer t_seconds(seconds::max());
  rt::ticker tk(nanoseconds::max());
  rt::ticker tk_hours(hours::max());
  rt::timer pending(1h);
  CHECK(pending.reset(hours::max()));  // was pending
  rt::timer fired(0ns);
  REQUIRE(fired.c.recv().has_value());
  CHECK_FALSE(fired.reset(nanoseconds::max()));  // had fired
  // Once a short timer started after them all has fired, none of the long ones has.
  CHECK(rt::after(1ms).recv().has_value());
  for (auto* c :
       {&after_max, &after_hours, &t.c, &t_seconds.c, &tk.c, &tk_hours.c, &pending.c, &fired.c}) {
    CHECK_FALSE(ready(*c));
  }
  CHECK(t.stop());  // still pending, never fired
  CHECK(t_seconds.stop());
  CHECK(pending.stop());
  CHECK(fired.stop());
}

TEST_CASE("negative durations, down to the minimum, are due at once") {
  rt::sleep_for(nanoseconds::min());
  rt::sleep_for(hours::min());
  rt::sleep_until(rt::clock::time_point::min());
  CHECK(rt::after(nanoseconds::min()).recv().has_value());
  CHECK(rt::after(hours::min()).recv().has_value());
  rt::timer t(nanoseconds::min());
  CHECK(t.c.recv().has_value());
  CHECK_FALSE(t.reset(seconds::min()));
  CHECK(t.c.recv().has_value());
  CHECK_FALSE(t.stop());
  CHECK_THROWS_AS(rt::ticker(hours::min()), std::invalid_argument);
}
