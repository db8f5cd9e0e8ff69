// Stress: mutex, rw_mutex, cond, once and wait_group storms. Owns the cases where many
// goroutines and plain threads contend on rt's sync primitives (lock hand-offs wake
// parked goroutines on other workers; starvation mode; threads blocking in the same
// primitives), and wait groups reused round after round with many waiters. Checks
// exact counts (a lost increment or a critical section run by two at once shows up as a
// wrong total or a broken invariant), that every waiter wakes exactly once per round, and
// that every goroutine and thread ends.
#include <doctest/doctest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include <rt/rt.hpp>

#include "stress.hpp"

namespace {

using rt_stress::tally;

}  // namespace

TEST_CASE("mutex: goroutines and plain threads increment under the lock, exact total") {
  const int w = rt::gomaxprocs();
  const int goroutines = 8 * w, threads = 2;
  const long per = rt_stress::scaled(1'000'000) / (goroutines + threads) + 1;
  rt_stress::watchdog wd("mutex storm");
  std::atomic<long> progress{0};
  wd.track("increments", progress);
  rt::mutex mu;
  long counter = 0;  // guarded by mu
  int inside = 0;    // guarded by mu: how many hold it (must be 1 inside)
  std::atomic<long> overlaps{0};
  auto work = [&](std::uint64_t seed) {
    rt_stress::rng r(seed);
    for (long k = 0; k < per; ++k) {
      std::lock_guard lk(mu);
      if (++inside != 1) overlaps.fetch_add(1);
      ++counter;
      if (r.below(64) == 0) rt::yield();  // hold the lock across a switch now and then
      --inside;
      progress.fetch_add(1, std::memory_order_relaxed);
    }
  };
  rt::wait_group wg;
  for (int g = 0; g < goroutines; ++g) wg.go(work, static_cast<std::uint64_t>(g));
  wg.go([&] { rt_stress::on_plain_threads(threads, [&](int t) { work(1000u + t); }); });
  wd.stage("contending");
  wg.wait();
  CHECK(overlaps.load() == 0);
  CHECK(counter == (goroutines + threads) * per);
}

TEST_CASE("rw_mutex: readers see consistent state, writers' updates all land") {
  const int w = rt::gomaxprocs();
  const int readers = 6 * w, writers = 2 * w;
  const long per = rt_stress::scaled(200'000) / (readers + writers) + 1;
  rt_stress::watchdog wd("rw_mutex storm");
  std::atomic<long> progress{0};
  wd.track("critical sections", progress);
  rt::rw_mutex mu;
  long a = 0, b = 0;  // guarded by mu; equal outside a writer's section
  std::atomic<long> torn{0};
  rt::wait_group wg;
  for (int i = 0; i < readers + writers; ++i) {
    wg.go([&, i] {
      rt_stress::rng r(static_cast<std::uint64_t>(i));
      for (long k = 0; k < per; ++k) {
        if (i < writers) {
          std::lock_guard lk(mu);
          ++a;
          if (r.below(16) == 0) rt::yield();
          ++b;
        } else {
          std::shared_lock lk(mu);
          if (a != b) torn.fetch_add(1);
          if (r.below(16) == 0) rt::yield();
          if (a != b) torn.fetch_add(1);
        }
        progress.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  wd.stage("readers and writers contending");
  wg.wait();
  CHECK(torn.load() == 0);
  CHECK(a == writers * per);
  CHECK(b == writers * per);
}

TEST_CASE("cond: a bounded queue between producers and consumers, each item once") {
  const int w = rt::gomaxprocs();
  const int producers = 2 * w, consumers = 2 * w + 1;
  const long per = rt_stress::scaled(300'000) / producers + 1;
  rt_stress::watchdog wd("cond storm");
  std::atomic<long> taken{0};
  wd.track("items taken", taken);
  tally items(static_cast<std::size_t>(producers * per));
  rt::mutex mu;
  rt::cond not_empty, not_full;
  std::deque<long> q;  // guarded by mu
  bool closed = false;
  rt::wait_group cons;
  for (int c = 0; c < consumers; ++c) {
    cons.go([&, c] {
      for (;;) {
        long v;
        {
          std::unique_lock lk(mu);
          not_empty.wait(lk, [&] { return !q.empty() || closed; });
          if (q.empty()) return;
          v = q.front();
          q.pop_front();
        }
        not_full.signal();
        items.mark(static_cast<std::size_t>(v));
        taken.fetch_add(1, std::memory_order_relaxed);
        if ((v + c) % 97 == 0) rt::yield();
      }
    });
  }
  rt::wait_group prod;
  for (int p = 0; p < producers; ++p) {
    prod.go([&, p] {
      for (long k = 0; k < per; ++k) {
        {
          std::unique_lock lk(mu);
          not_full.wait(lk, [&] { return q.size() < 16; });
          q.push_back(p * per + k);
        }
        if (k % 8 == 0) {
          not_empty.broadcast();
        } else {
          not_empty.signal();
        }
      }
    });
  }
  wd.stage("producing and consuming");
  prod.wait();
  {
    std::lock_guard lk(mu);
    closed = true;
  }
  not_empty.broadcast();
  wd.stage("consumers ending after close");
  cons.wait();
  std::string v = items.verdict();
  CHECK_MESSAGE(v.empty(), v);
}

TEST_CASE("wait_group rounds: many waiters, goroutines and threads, each wakes once") {
  const int w = rt::gomaxprocs();
  const int rounds = static_cast<int>(rt_stress::scaled(1000, 5));
  const int workers_n = 4 * w, waiters = 2 * w + 1;
  rt_stress::watchdog wd("wait_group rounds");
  std::atomic<long> wakes{0};
  wd.track("waiter wake-ups", wakes);
  for (int round = 0; round < rounds; ++round) {
    wd.stage("round " + std::to_string(round));
    rt::wait_group work;
    rt::wait_group outer;
    std::atomic<int> finished_work{0};
    std::atomic<int> saw_unfinished{0};
    tally woke(static_cast<std::size_t>(waiters) + 1);
    work.add(workers_n + 1);  // + 1: the plain thread's share
    for (int i = 0; i < waiters; ++i) {
      outer.go([&, i] {
        work.wait();
        if (finished_work.load() != workers_n + 1) saw_unfinished.fetch_add(1);
        woke.mark(static_cast<std::size_t>(i));
        wakes.fetch_add(1, std::memory_order_relaxed);
      });
    }
    outer.go([&] {
      // One plain thread waits too, another does a share of the work.
      rt_stress::on_plain_threads(2, [&](int t) {
        if (t == 0) {
          work.wait();
          if (finished_work.load() != workers_n + 1) saw_unfinished.fetch_add(1);
          woke.mark(static_cast<std::size_t>(waiters));
        } else {
          finished_work.fetch_add(1);
          work.done();
        }
      });
    });
    for (int i = 0; i < workers_n; ++i) {
      rt::go([&, i] {
        if (i % 3 == 0) rt::yield();
        finished_work.fetch_add(1);
        work.done();
      });
    }
    outer.wait();
    CHECK(saw_unfinished.load() == 0);
    std::string v = woke.verdict();
    CHECK_MESSAGE(v.empty(), v);
  }
}

TEST_CASE("once: many goroutines race, the function runs exactly once per once") {
  const int rounds = static_cast<int>(rt_stress::scaled(1500, 5));
  const int callers = 4 * rt::gomaxprocs() + 1;
  rt_stress::watchdog wd("once storm");
  std::atomic<long> calls{0};
  wd.track("calls", calls);
  for (int round = 0; round < rounds; ++round) {
    rt::once o;
    std::atomic<int> ran{0};
    std::atomic<int> saw_not_done{0};
    rt::wait_group wg;
    for (int i = 0; i < callers; ++i) {
      wg.go([&] {
        o.call([&] {
          if (ran.load() == 0) rt::yield();  // the others pile up behind it
          ran.fetch_add(1);
        });
        if (ran.load() != 1) saw_not_done.fetch_add(1);
        calls.fetch_add(1, std::memory_order_relaxed);
      });
    }
    wg.wait();
    CHECK(ran.load() == 1);
    CHECK(saw_not_done.load() == 0);
  }
}
