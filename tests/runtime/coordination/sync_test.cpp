// Tests for rt::mutex, rt::rw_mutex, rt::once and rt::cond: exclusion, the standard
// lock wrappers, starvation freedom, reader concurrency, once-only runs (also when f
// throws), signal/broadcast, and plain threads mixing with goroutines.
#include <doctest/doctest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <rt/rt.hpp>

TEST_CASE("mutex counter: 1000 goroutines x 1000 increments, exact") {
  rt::mutex mu;
  long counter = 0;  // guarded by mu
  rt::wait_group wg;
  for (int g = 0; g < 1000; ++g) {
    wg.go([&] {
      for (int i = 0; i < 1000; ++i) {
        std::lock_guard lk(mu);
        ++counter;
      }
    });
  }
  wg.wait();
  CHECK(counter == 1000000);
}

TEST_CASE("mutex: try_lock, unique_lock, scoped_lock, unlock from another goroutine") {
  rt::mutex a, b;
  CHECK(a.try_lock());
  CHECK_FALSE(a.try_lock());
  a.unlock();
  {
    std::unique_lock lk(a);
    CHECK(lk.owns_lock());
    CHECK_FALSE(a.try_lock());
  }
  {
    std::scoped_lock both(a, b);
    CHECK_FALSE(b.try_lock());
  }
  a.lock();
  rt::wait_group wg;
  wg.go([&] { a.unlock(); });  // Go allows unlocking from another goroutine
  wg.wait();
  CHECK(a.try_lock());
  a.unlock();
}

TEST_CASE("mutex: a parked locker wakes when the holder unlocks") {
  rt::mutex mu;
  mu.lock();
  std::atomic<int> got{0};
  rt::wait_group wg;
  for (int i = 0; i < 20; ++i) {
    wg.go([&] {
      std::lock_guard lk(mu);
      got.fetch_add(1);
    });
  }
  for (int i = 0; i < 50; ++i) rt::yield();
  CHECK(got == 0);
  mu.unlock();
  wg.wait();
  CHECK(got == 20);
}

TEST_CASE("mutex is starvation-free: a waiter gets in against a holder that re-locks at once") {
  // Without Go's starvation mode this livelocks on one worker: the woken waiter always
  // finds the mutex taken again by the hog, which never parks.
  rt::mutex mu;
  std::atomic<bool> done{false};
  rt::wait_group wg;
  wg.go([&] {
    while (!done.load()) {
      mu.lock();
      rt::yield();
      mu.unlock();
    }
  });
  wg.go([&] {
    mu.lock();
    done = true;
    mu.unlock();
  });
  wg.wait();
  CHECK(done.load());
}

TEST_CASE("mutex from plain threads and goroutines together") {
  rt::mutex mu;
  long counter = 0;  // guarded by mu
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        std::lock_guard lk(mu);
        ++counter;
      }
    });
  }
  rt::wait_group wg;
  for (int g = 0; g < 30; ++g) {
    wg.go([&] {
      for (int i = 0; i < 2000; ++i) {
        std::lock_guard lk(mu);
        ++counter;
      }
    });
  }
  wg.wait();
  for (auto& t : threads) t.join();
  CHECK(counter == 3 * 20000 + 30 * 2000);
}

TEST_CASE("rw_mutex: readers hold it together; a writer is kept out meanwhile") {
  constexpr int readers = 10;
  rt::rw_mutex mu;
  rt::wait_group inside, release, done;
  inside.add(readers);
  release.add(1);
  for (int r = 0; r < readers; ++r) {
    done.go([&] {
      std::shared_lock lk(mu);
      inside.done();
      release.wait();  // parks holding the read lock: all readers must be in at once
    });
  }
  inside.wait();  // would never return if readers excluded each other
  CHECK_FALSE(mu.try_lock());
  CHECK(mu.try_lock_shared());
  mu.unlock_shared();
  release.done();
  done.wait();
  CHECK(mu.try_lock());
  CHECK_FALSE(mu.try_lock_shared());
  mu.unlock();
}

TEST_CASE("rw_mutex: writers exclude everyone; readers never see a half-done write") {
  rt::rw_mutex mu;
  long a = 0, b = 0;  // guarded by mu; a == b outside a write
  std::atomic<long> bad{0};
  rt::wait_group wg;
  for (int w = 0; w < 8; ++w) {
    wg.go([&] {
      for (int i = 0; i < 500; ++i) {
        std::lock_guard lk(mu);
        ++a;
        rt::yield();  // other goroutines run while the write is half done
        ++b;
      }
    });
  }
  for (int r = 0; r < 16; ++r) {
    wg.go([&] {
      for (int i = 0; i < 500; ++i) {
        std::shared_lock lk(mu);
        if (a != b) bad.fetch_add(1);
      }
    });
  }
  wg.wait();
  CHECK(bad == 0);
  CHECK(a == 4000);
  CHECK(b == 4000);
}

TEST_CASE("rw_mutex: a writer gets in against a stream of readers") {
  rt::rw_mutex mu;
  std::atomic<bool> written{false};
  rt::wait_group wg;
  for (int r = 0; r < 4; ++r) {
    wg.go([&] {
      while (!written.load()) {
        std::shared_lock lk(mu);
        rt::yield();
      }
    });
  }
  wg.go([&] {
    std::lock_guard lk(mu);
    written = true;
  });
  wg.wait();
  CHECK(written.load());
}

TEST_CASE("once: f runs exactly once under contention, and everyone sees its effect") {
  for (int round = 0; round < 20; ++round) {
    rt::once once;
    std::atomic<int> runs{0};
    int value = 0;  // written by f only
    std::atomic<int> saw{0};
    rt::wait_group wg;
    for (int g = 0; g < 200; ++g) {
      wg.go([&] {
        once.call([&] {
          runs.fetch_add(1);
          rt::yield();  // others arrive meanwhile and must wait
          value = 42;
        });
        if (value == 42) saw.fetch_add(1);
      });
    }
    wg.wait();
    CHECK(runs == 1);
    CHECK(saw == 200);
  }
}

TEST_CASE("once: when f throws, the caller gets the exception and f never runs again") {
  rt::once once;
  int runs = 0;
  CHECK_THROWS_WITH_AS(once.call([&] {
    ++runs;
    throw std::runtime_error("boom");
  }),
                       "boom", std::runtime_error);
  once.call([&] { ++runs; });
  CHECK(runs == 1);
  // With arguments too.
  rt::once other;
  other.call([](int& r, int by) { r += by; }, runs, 5);
  CHECK(runs == 6);
}

TEST_CASE("cond: signal wakes one waiter per item (a producer/consumer queue)") {
  rt::mutex mu;
  rt::cond nonempty;
  std::deque<int> q;  // guarded by mu
  long sum = 0;       // guarded by mu
  rt::wait_group wg;
  constexpr int consumers = 8, items = 4000;
  for (int c = 0; c < consumers; ++c) {
    wg.go([&] {
      for (;;) {
        std::unique_lock lk(mu);
        nonempty.wait(lk, [&] { return !q.empty(); });
        int v = q.front();
        q.pop_front();
        if (v < 0) return;
        sum += v;
      }
    });
  }
  for (int i = 1; i <= items; ++i) {
    {
      std::lock_guard lk(mu);
      q.push_back(i);
    }
    nonempty.signal();
  }
  for (int c = 0; c < consumers; ++c) {
    {
      std::lock_guard lk(mu);
      q.push_back(-1);
    }
    nonempty.signal();
  }
  wg.wait();
  CHECK(sum == long{items} * (items + 1) / 2);
}

TEST_CASE("cond: broadcast wakes every waiter; signal without waiters is a no-op") {
  rt::mutex mu;
  rt::cond c;
  c.signal();
  c.broadcast();
  bool go = false;  // guarded by mu
  int waiting = 0;  // guarded by mu
  rt::wait_group wg;
  constexpr int n = 50;
  for (int i = 0; i < n; ++i) {
    wg.go([&] {
      std::unique_lock lk(mu);
      ++waiting;
      c.wait(lk, [&] { return go; });
    });
  }
  for (;;) {  // until every waiter is inside wait (they release mu there)
    {
      std::lock_guard lk(mu);
      if (waiting == n) break;
    }
    rt::yield();
  }
  {
    std::lock_guard lk(mu);
    go = true;
  }
  c.broadcast();
  wg.wait();
}

TEST_CASE("cond between a plain thread and goroutines") {
  rt::mutex mu;
  rt::cond c;
  int stage = 0;  // guarded by mu
  std::thread t([&] {
    std::unique_lock lk(mu);
    c.wait(lk, [&] { return stage == 1; });
    stage = 2;
    lk.unlock();
    c.broadcast();
  });
  {
    std::lock_guard lk(mu);
    stage = 1;
  }
  c.broadcast();
  {
    std::unique_lock lk(mu);
    c.wait(lk, [&] { return stage == 2; });
  }
  t.join();
}

TEST_CASE("once and rw_mutex from plain threads and goroutines together") {
  rt::once once;
  std::atomic<int> runs{0};
  rt::rw_mutex mu;
  long a = 0, b = 0;  // guarded by mu; a == b outside a write
  std::atomic<long> bad{0};
  auto body = [&](int i) {
    once.call([&] { runs.fetch_add(1); });
    for (int k = 0; k < 2000; ++k) {
      if ((i + k) % 4 == 0) {
        std::lock_guard lk(mu);
        ++a;
        ++b;
      } else {
        std::shared_lock lk(mu);
        if (a != b) bad.fetch_add(1);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back(body, t);
  rt::wait_group wg;
  for (int g = 0; g < 8; ++g) wg.go(body, g);
  wg.wait();
  for (auto& t : threads) t.join();
  CHECK(runs == 1);
  CHECK(bad == 0);
  CHECK(a == b);
}
