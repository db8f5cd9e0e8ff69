// Stress: timer storms. Owns the cases where thousands of goroutines sleep or time out at
// once with short durations (timers spread over every worker's heap, fired by busy and
// idle workers alike), rt::timer stop racing its firing, tickers, and timers started
// from plain threads. Checks every sleeper wakes exactly once per sleep, every timer
// either fires (and its value arrives) or is stopped — never both, never neither — and
// every goroutine ends.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include <rt/rt.hpp>

#include "stress.hpp"

namespace {

using namespace std::chrono_literals;
using rt_stress::tally;

}  // namespace

TEST_CASE("thousands of goroutines sleeping short durations all wake, each sleep once") {
  const int n = static_cast<int>(rt_stress::scaled(4000, 4));
  const int sleeps = 5;
  rt_stress::watchdog wd("sleep storm");
  std::atomic<long> woke{0};
  wd.track("wake-ups", woke);
  std::vector<int> count(static_cast<std::size_t>(n), 0);
  rt::wait_group wg;
  for (int i = 0; i < n; ++i) {
    wg.go([&, i] {
      rt_stress::rng r(static_cast<std::uint64_t>(i));
      for (int s = 0; s < sleeps; ++s) {
        const auto until = rt::clock::now() + std::chrono::microseconds(r.below(2000));
        rt::sleep_until(until);
        if (rt::clock::now() < until) return;  // woken early: count stays short
        ++count[static_cast<std::size_t>(i)];
        woke.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  wd.stage("sleepers sleeping");
  wg.wait();
  long bad = 0;
  for (int c : count) bad += c != sleeps ? 1 : 0;
  CHECK(bad == 0);
  CHECK(woke.load() == static_cast<long>(n) * sleeps);
}

TEST_CASE("thousands of selects time out on rt::after, each exactly once") {
  const int n = static_cast<int>(rt_stress::scaled(3000, 4));
  const int rounds = 4;
  rt_stress::watchdog wd("timeout storm");
  std::atomic<long> timed_out{0};
  wd.track("timeouts", timed_out);
  auto never = rt::make_chan<int>();
  tally t(static_cast<std::size_t>(n) * rounds);
  rt::wait_group wg;
  for (int i = 0; i < n; ++i) {
    wg.go([&, i] {
      for (int k = 0; k < rounds; ++k) {
        rt::select(
            rt::case_recv(never),
            rt::case_recv(rt::after(std::chrono::microseconds((i * 37 + k * 11) % 1500)), [&] {
              t.mark(static_cast<std::size_t>(i) * rounds + static_cast<std::size_t>(k));
              timed_out.fetch_add(1, std::memory_order_relaxed);
            }));
      }
    });
  }
  wd.stage("selects waiting for their timeouts");
  wg.wait();
  std::string v = t.verdict();
  CHECK_MESSAGE(v.empty(), v);
}

TEST_CASE("rt::timer stop racing its firing: fired xor stopped, a fired value arrives") {
  const int n = 4 * rt::gomaxprocs();
  const int per = static_cast<int>(rt_stress::scaled(6000, 6));
  rt_stress::watchdog wd("timer stop vs fire");
  std::atomic<long> fired{0}, stopped{0};
  wd.track("timers fired", fired);
  wd.track("timers stopped", stopped);
  std::atomic<long> early_value{0};
  rt::wait_group wg;
  for (int i = 0; i < n; ++i) {
    wg.go([&, i] {
      rt_stress::rng r(static_cast<std::uint64_t>(i) + 5);
      for (int k = 0; k < per; ++k) {
        rt::timer t(std::chrono::microseconds(r.below(60)));
        for (std::uint32_t y = r.below(4); y > 0; --y) rt::yield();
        if (t.stop()) {
          if (t.c.try_recv()) early_value.fetch_add(1);  // stopped, yet it fired
          stopped.fetch_add(1, std::memory_order_relaxed);
        } else {
          t.c.recv();  // it fired: its value is there or about to be
          fired.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  wd.stage("timers racing stop");
  wg.wait();
  CHECK(early_value.load() == 0);
  CHECK(fired.load() + stopped.load() == static_cast<long>(n) * per);
}

TEST_CASE("timer reset storms: the last reset always fires") {
  const int n = 2 * rt::gomaxprocs() + 1;
  const int per = static_cast<int>(rt_stress::scaled(1000, 5));
  rt_stress::watchdog wd("timer reset storm");
  std::atomic<long> done{0};
  wd.track("timers done", done);
  rt::wait_group wg;
  for (int i = 0; i < n; ++i) {
    wg.go([&, i] {
      rt_stress::rng r(static_cast<std::uint64_t>(i) + 50);
      for (int k = 0; k < per; ++k) {
        rt::timer t(1h);
        for (int resets = 1 + static_cast<int>(r.below(4)); resets > 0; --resets) {
          if (!t.stop()) t.c.try_recv();  // drain a value from before the reset (Go 1.19)
          t.reset(std::chrono::microseconds(r.below(50)));
        }
        t.c.recv();  // the last reset fires: never lost
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  wd.stage("waiting for reset timers");
  wg.wait();
  CHECK(done.load() == static_cast<long>(n) * per);
}

TEST_CASE("tickers: every receiver gets its ticks and stops") {
  const int n = static_cast<int>(rt_stress::scaled(400, 4));
  const int ticks = 20;
  rt_stress::watchdog wd("ticker storm");
  std::atomic<long> received{0};
  wd.track("ticks received", received);
  rt::wait_group wg;
  std::atomic<int> finished{0};
  for (int i = 0; i < n; ++i) {
    wg.go([&, i] {
      rt::ticker tk(std::chrono::microseconds(50 + (i % 10) * 20));
      for (int k = 0; k < ticks; ++k) {
        tk.c.recv();
        received.fetch_add(1, std::memory_order_relaxed);
      }
      tk.stop();
      finished.fetch_add(1);
    });
  }
  wd.stage("tickers ticking");
  wg.wait();
  CHECK(finished.load() == n);
  CHECK(received.load() == static_cast<long>(n) * ticks);
}

TEST_CASE("timers started from plain threads wake goroutines") {
  const int threads = 4;
  const int per_thread = static_cast<int>(rt_stress::scaled(2000, 4));
  rt_stress::watchdog wd("timers from plain threads");
  std::atomic<long> woke{0};
  wd.track("goroutines woken by a thread's timer", woke);
  tally t(static_cast<std::size_t>(threads) * static_cast<std::size_t>(per_thread));
  rt::wait_group wg;
  wg.add(threads * per_thread);
  rt_stress::on_plain_threads(threads, [&](int th) {
    for (int i = 0; i < per_thread; ++i) {
      // The thread starts the timer; a goroutine waits for it.
      auto fires = rt::after(std::chrono::microseconds((i * 13) % 500));
      const std::size_t k = static_cast<std::size_t>(th) * static_cast<std::size_t>(per_thread) +
                            static_cast<std::size_t>(i);
      rt::go([&, fires, k] {
        fires.recv();
        t.mark(k);
        woke.fetch_add(1, std::memory_order_relaxed);
        wg.done();
      });
    }
  });
  wd.stage("goroutines waiting for the threads' timers");
  wg.wait();
  std::string v = t.verdict();
  CHECK_MESSAGE(v.empty(), v);
}
