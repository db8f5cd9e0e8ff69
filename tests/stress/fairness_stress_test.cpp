// Stress: starvation. Owns the cases where some goroutines keep a worker busy forever
// and another runnable goroutine (or a due timer, or work injected from a plain thread)
// must still get its turn: ping-pong pairs bouncing a value over unbuffered channels
// (each wake-up puts the partner in the run-next slot) against a yielding main, a main
// that spawns and waits, and goroutines started from plain threads; goroutines yielding
// in loops until a timer fires. Without fairness these hang: the watchdog reports which
// stage stalled. Checks exact bounce counts and that every goroutine made progress.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <rt/rt.hpp>

#include "stress.hpp"

namespace {

using namespace std::chrono_literals;

// K pairs bouncing a counter over two unbuffered channels until `stop`. Each pair's
// bounce count is exact: the value comes back incremented twice per bounce.
struct ping_pong {
  explicit ping_pong(int pairs) : n(pairs), bounces(new std::atomic<long>[pairs]) {
    for (int i = 0; i < n; ++i) bounces[i].store(0);
  }

  void start() {
    for (int i = 0; i < n; ++i) {
      auto ab = rt::make_chan<long>(), ba = rt::make_chan<long>();
      wg.go([this, i, ab, ba] {  // A: serves, counts, stops
        long v = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          ab.send(v);
          v = *ba.recv();
          bounces[i].fetch_add(1, std::memory_order_relaxed);
          total.fetch_add(1, std::memory_order_relaxed);
        }
        if (v != 2 * bounces[i].load()) bad.fetch_add(1);
        ab.close();
      });
      wg.go([ab, ba] {  // B: returns every value incremented
        for (long v : ab) ba.send(v + 2);
      });
    }
  }

  long min_bounces() const {
    long m = bounces[0].load(std::memory_order_relaxed);
    for (int i = 1; i < n; ++i) m = std::min(m, bounces[i].load(std::memory_order_relaxed));
    return m;
  }

  void finish() {
    stop.store(true);
    wg.wait();
    CHECK_MESSAGE(bad.load() == 0, n, " pairs: a value came back wrong");
  }

  const int n;
  std::unique_ptr<std::atomic<long>[]> bounces;
  std::atomic<long> total{0};
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  rt::wait_group wg;
};

const long want_bounces = rt_stress::scaled(2000, 4);

}  // namespace

TEST_CASE("ping-pong pairs do not starve a main goroutine that yields") {
  for (int pairs : {1, rt::gomaxprocs(), 2 * rt::gomaxprocs() + 1}) {
    rt_stress::watchdog wd("ping-pong vs a yielding main, pairs=" + std::to_string(pairs));
    ping_pong pp(pairs);
    std::atomic<long> main_turns{0};
    wd.track("bounces (all pairs)", pp.total);
    wd.track("main's turns", main_turns);
    wd.stage("main yields until every pair bounced enough");
    pp.start();
    while (pp.min_bounces() < want_bounces) {
      rt::yield();
      main_turns.fetch_add(1, std::memory_order_relaxed);
    }
    wd.stage("main stopping the pairs");
    pp.finish();
  }
}

TEST_CASE("ping-pong pairs do not starve a main goroutine that spawns and waits") {
  for (int pairs : {1, rt::gomaxprocs()}) {
    rt_stress::watchdog wd("ping-pong vs a spawning main, pairs=" + std::to_string(pairs));
    ping_pong pp(pairs);
    std::atomic<long> spawned{0};
    wd.track("bounces (all pairs)", pp.total);
    wd.track("goroutines main spawned", spawned);
    wd.stage("main spawns and waits until every pair bounced enough");
    pp.start();
    long rounds = 0;
    while (pp.min_bounces() < want_bounces) {
      rt::wait_group one;
      one.go([&] { spawned.fetch_add(1, std::memory_order_relaxed); });
      one.wait();
      ++rounds;
    }
    wd.stage("main stopping the pairs");
    pp.finish();
    CHECK_MESSAGE(spawned.load() == rounds, pairs, " pairs");
  }
}

TEST_CASE("ping-pong pairs do not starve another yielding goroutine while main is parked") {
  const int pairs = rt::gomaxprocs();
  rt_stress::watchdog wd("ping-pong vs a yielding goroutine");
  ping_pong pp(pairs);
  std::atomic<long> turns{0};
  wd.track("bounces (all pairs)", pp.total);
  wd.track("the yielder's turns", turns);
  pp.start();
  rt::wait_group setter;
  setter.go([&] {
    while (pp.min_bounces() < want_bounces) {
      rt::yield();
      turns.fetch_add(1, std::memory_order_relaxed);
    }
    pp.stop.store(true);
  });
  wd.stage("main parked; the yielder must get to stop the pairs");
  setter.wait();
  pp.finish();
}

TEST_CASE("ping-pong pairs do not starve goroutines started from a plain thread") {
  // Main stays parked throughout (its own starvation is the cases above): a plain thread
  // starts the pairs, waits until they bounce, then starts goroutines that must all run.
  const int pairs = rt::gomaxprocs();
  const int injected = static_cast<int>(rt_stress::scaled(2000, 4));
  rt_stress::watchdog wd("ping-pong vs goroutines from a plain thread");
  ping_pong pp(pairs);
  std::atomic<long> ran{0};
  wd.track("bounces (all pairs)", pp.total);
  wd.track("injected goroutines that ran", ran);
  rt_stress::tally each(static_cast<std::size_t>(injected));
  rt::wait_group all;
  all.add(injected);
  rt_stress::on_plain_threads(1, [&](int) {
    wd.stage("a plain thread starts the pairs");
    pp.start();
    while (pp.total.load() < want_bounces) std::this_thread::yield();
    wd.stage("a plain thread starts goroutines while the pairs bounce");
    for (int i = 0; i < injected; ++i) {
      rt::go([&, i] {
        each.mark(static_cast<std::size_t>(i));
        ran.fetch_add(1, std::memory_order_relaxed);
        all.done();
      });
    }
    all.wait();  // blocks this thread
    pp.stop.store(true);
  });
  wd.stage("main stopping the pairs");
  pp.finish();
  std::string v = each.verdict();
  CHECK_MESSAGE(v.empty(), v);
}

TEST_CASE("yield lets due timers fire when nothing else is queued") {
  const int rounds = static_cast<int>(rt_stress::scaled(50, 5));
  rt_stress::watchdog wd("yield vs a sleeping goroutine");
  std::atomic<long> woke{0}, yields{0};
  wd.track("sleepers woken", woke);
  wd.track("yields", yields);
  for (int round = 0; round < rounds; ++round) {
    wd.stage("main yields until a 1 ms sleeper sets done, round " + std::to_string(round));
    std::atomic<bool> done{false};
    rt::wait_group wg;
    wg.go([&] {
      rt::sleep_for(1ms);
      done.store(true);
      woke.fetch_add(1);
    });
    while (!done.load()) {
      rt::yield();
      yields.fetch_add(1, std::memory_order_relaxed);
    }
    wg.wait();
  }
  CHECK(woke.load() == rounds);
}

TEST_CASE("many goroutines yielding in loops: one sleeper still wakes them all") {
  const int rounds = static_cast<int>(rt_stress::scaled(20, 4));
  for (int yielders : {1, rt::gomaxprocs(), 2 * rt::gomaxprocs() + 1}) {
    rt_stress::watchdog wd("yielders vs a sleeper, yielders=" + std::to_string(yielders));
    std::atomic<long> yields{0};
    wd.track("yields", yields);
    for (int round = 0; round < rounds; ++round) {
      wd.stage("yielders wait for a 500 us sleeper, round " + std::to_string(round));
      std::atomic<bool> done{false};
      rt::wait_group wg;
      for (int y = 0; y < yielders; ++y) {
        wg.go([&] {
          while (!done.load()) {
            rt::yield();
            yields.fetch_add(1, std::memory_order_relaxed);
          }
        });
      }
      wg.go([&] {
        rt::sleep_for(500us);
        done.store(true);
      });
      wg.wait();
      CHECK_MESSAGE(done.load(), yielders, " yielders");
    }
  }
}

TEST_CASE("goroutines yielding until their own timer fires all finish") {
  const int n = 4 * rt::gomaxprocs() + 1;
  const int rounds = static_cast<int>(rt_stress::scaled(10, 2));
  rt_stress::watchdog wd("yielders with their own timers");
  std::atomic<long> fired{0};
  wd.track("timers received", fired);
  for (int round = 0; round < rounds; ++round) {
    wd.stage("every goroutine yields until its rt::after fires, round " + std::to_string(round));
    rt_stress::tally each(static_cast<std::size_t>(n));
    rt::wait_group wg;
    for (int i = 0; i < n; ++i) {
      wg.go([&, i] {
        auto t = rt::after(std::chrono::microseconds(100 * (i % 7)));
        while (!t.try_recv()) rt::yield();
        each.mark(static_cast<std::size_t>(i));
        fired.fetch_add(1, std::memory_order_relaxed);
      });
    }
    wg.wait();
    std::string v = each.verdict();
    CHECK_MESSAGE(v.empty(), v);
  }
}

// Work queued behind a goroutine that never calls into rt can only run if another worker
// takes it: from the ring (after the thief's back-off, which select-style traffic, where
// stolen producers run one send and go back, drives up) or from the run-next slot. Every
// round, right after such traffic, all the helpers woken into the hog's queues must run
// (a thief that stopped looking, or a helper lost between the queues, hangs here).
TEST_CASE("after futile steals, goroutines queued behind a goroutine that never yields still run") {
  if (rt::gomaxprocs() < 2) return;  // nobody else could run them
  const int rounds = static_cast<int>(rt_stress::scaled(200, 4));
  constexpr int helpers = 8;
  rt_stress::watchdog wd("goroutines queued behind a hog, after select traffic");
  std::atomic<long> ran{0};
  std::atomic<long> selected{0};
  wd.track("helpers run", ran);
  wd.track("values selected", selected);
  for (int round = 0; round < rounds; ++round) {
    wd.stage("select traffic (futile steals), round " + std::to_string(round));
    {
      rt::chan<long> chans[4] = {rt::make_chan<long>(), rt::make_chan<long>(),
                                 rt::make_chan<long>(), rt::make_chan<long>()};
      rt::wait_group wg;
      constexpr long values = 2000;
      for (int p = 0; p < 4; ++p) {
        wg.go([ch = chans[p], p] {
          for (long v = p; v < values; v += 4) ch.send(v);
        });
      }
      long sum = 0;
      auto add = [&sum](std::optional<long> v) { sum += *v; };
      for (long i = 0; i < values; ++i) {
        rt::select(rt::case_recv(chans[0], add), rt::case_recv(chans[1], add),
                   rt::case_recv(chans[2], add), rt::case_recv(chans[3], add));
        selected.fetch_add(1, std::memory_order_relaxed);
      }
      wg.wait();
      CHECK_MESSAGE(sum == values * (values - 1) / 2, "round ", round, ": sum ", sum);
    }
    wd.stage("a hog wakes helpers and spins until they all ran, round " + std::to_string(round));
    {
      auto release = rt::make_chan<int>();
      std::atomic<int> count{0};
      rt::wait_group ready, wg;
      ready.add(helpers);
      for (int i = 0; i < helpers; ++i) {
        wg.go([&, release] {
          ready.done();
          release.recv();
          count.fetch_add(1);
          ran.fetch_add(1, std::memory_order_relaxed);
        });
      }
      wg.go([&, release] {
        ready.wait();
        release.close();  // wakes the helpers into this worker's run-next slot and ring
        while (count.load() < helpers) {
        }  // never yields: only other workers can run them
      });
      wg.wait();
      CHECK(count.load() == helpers);
    }
  }
}
