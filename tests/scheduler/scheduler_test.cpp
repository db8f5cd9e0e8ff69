// Tests for the scheduler layer's own interface (rt/scheduler/scheduler.hpp): park and
// unpark across goroutines and plain threads, run-queue overflow into the global
// queue, timers (fire, stop, stop racing fire). Run at 1, 2 and 4 workers.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <rt/rt.hpp>
#include <rt/scheduler/scheduler.hpp>

#include "../common/plain_thread.hpp"

namespace sched = rt::sched;

namespace {

// A one-slot mailbox built directly on park/unpark.
struct gate {
  sched::spinlock lock;
  sched::waiter parked;
  bool open = false;

  void wait() {
    sched::spinlock_lock lk(lock);
    if (open) return;
    parked = sched::waiter::self();
    sched::park(lk, "test gate");
  }
  void release() {
    sched::spinlock_lock lk(lock);
    open = true;
    sched::waiter w = parked;
    parked = {};
    lk.unlock();
    if (w) sched::unpark(w);
  }
};

}  // namespace

TEST_CASE("park/unpark: every parked goroutine wakes exactly once") {
  for (int round = 0; round < 20; ++round) {
    std::vector<gate> gates(500);
    std::atomic<int> woke{0};
    rt::wait_group wg;
    for (auto& g : gates) {
      wg.go([&g, &woke] {
        g.wait();
        woke.fetch_add(1);
      });
    }
    for (auto& g : gates) g.release();  // many wake-ups from one goroutine: ring overflows
    wg.wait();
    CHECK(woke == 500);
  }
}

TEST_CASE("park/unpark between goroutines and a plain thread, both ways") {
  for (int round = 0; round < 100; ++round) {
    gate to_thread, to_goroutine;
    int seen = 0;
    rt::wait_group wg;
    wg.go([&] {
      to_goroutine.wait();
      seen = 1;
      to_thread.release();
    });
    rt_test::on_plain_thread([&] {
      to_goroutine.release();
      to_thread.wait();  // a plain thread blocks in park()
    });
    wg.wait();
    CHECK(seen == 1);
  }
}

TEST_CASE("timers fire once, in deadline order per heap, and wake parked goroutines") {
  struct sleeper {
    sched::timer t;
    gate g;
  };
  constexpr int n = 200;
  std::vector<sleeper> s(n);
  std::atomic<int> woke{0};
  rt::wait_group wg;
  const auto now = sched::clock::now();
  for (int i = 0; i < n; ++i) {
    wg.go([&, i] {
      s[i].t.when = now + std::chrono::microseconds(50 * (n - i));
      s[i].t.fire = [](sched::timer* t) {
        auto* sl = reinterpret_cast<sleeper*>(reinterpret_cast<char*>(t) - offsetof(sleeper, t));
        sl->g.release();
      };
      sched::timer_start(&s[i].t);
      s[i].g.wait();
      woke.fetch_add(1);
    });
  }
  wg.wait();
  CHECK(woke == n);
  for (auto& sl : s) CHECK_FALSE(sched::timer_stop(&sl.t));  // all fired already
}

TEST_CASE("timer_stop before the deadline cancels; a stopped timer never fires") {
  std::atomic<int> fired{0};
  std::vector<sched::timer> timers(1000);
  for (auto& t : timers) {
    t.when = sched::clock::now() + std::chrono::hours(1);
    t.fire = [](sched::timer*) { std::abort(); };
    sched::timer_start(&t);
  }
  int stopped = 0;
  for (auto& t : timers) stopped += sched::timer_stop(&t) ? 1 : 0;
  CHECK(stopped == 1000);
  CHECK(fired == 0);
}

TEST_CASE("timer_stop racing fire: exactly one of them wins, every time") {
  static std::atomic<int> fires{0};
  for (int round = 0; round < 2000; ++round) {
    sched::timer t;
    t.when = sched::clock::now();
    t.fire = [](sched::timer*) { fires.fetch_add(1); };
    const int before = fires.load();
    sched::timer_start(&t);
    rt::yield();
    bool stopped = sched::timer_stop(&t);
    // After stop returned, fire is not running and never will: t may go out of scope.
    if (stopped) {
      CHECK(fires.load() == before);
    } else {
      CHECK(fires.load() == before + 1);
    }
  }
}
