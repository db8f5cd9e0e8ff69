// Tests for rt::go, rt::yield and the runtime's introspection calls. Every test runs at
// 1, 2 and 4 workers (CTest sets GOMAXPROCS) inside the main goroutine.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <rt/rt.hpp>

#include "../common/plain_thread.hpp"

TEST_CASE("100,000 goroutines joined by one wait_group give the exact sum") {
  for (int round = 0; round < 3; ++round) {
    rt::wait_group wg;
    std::atomic<long> sum{0};
    for (long i = 1; i <= 100000; ++i) wg.go([&sum](long v) { sum += v; }, i);
    wg.wait();
    CHECK(sum == 100000L * 100001L / 2);
  }
}

// A 10-ary tree of goroutines; each leaf contributes its number once.
static void tree(long num, long size, std::atomic<long>& sum, std::atomic<long>& leaves) {
  if (size == 1) {
    sum += num;
    ++leaves;
    return;
  }
  rt::wait_group wg;
  for (long i = 0; i < 10; ++i) {
    wg.go(tree, num + i * (size / 10), size / 10, std::ref(sum), std::ref(leaves));
  }
  wg.wait();
}

TEST_CASE("nested spawns: skynet with 10,000 leaves sums exactly") {
  for (int round = 0; round < 5; ++round) {
    std::atomic<long> sum{0}, leaves{0};
    tree(0, 10000, sum, leaves);
    CHECK(leaves == 10000);
    CHECK(sum == 10000L * 9999L / 2);
  }
}

TEST_CASE("go from plain threads, concurrently with goroutines") {
  rt::wait_group wg;
  std::atomic<long> sum{0};
  rt::wait_group threads;
  for (int t = 0; t < 4; ++t) {
    threads.go([&wg, &sum, t] {
      rt_test::on_plain_thread([&wg, &sum, t] {
        for (int i = 0; i < 2500; ++i) wg.go([&sum](long v) { sum += v; }, long{t * 2500 + i});
      });
    });
  }
  for (int i = 0; i < 10000; ++i) wg.go([&sum](long v) { sum += v; }, long{10000 + i});
  threads.wait();
  wg.wait();
  CHECK(sum == 20000L * 19999L / 2);
}

TEST_CASE("arguments are evaluated and decay-copied in the caller at the call") {
  std::vector<int> order;
  auto note = [&order](int v) {
    order.push_back(v);
    return v;
  };
  rt::wait_group wg;
  std::string s = "before";
  int got_int = 0;
  std::string got_str;
  int x = 1;
  wg.go(
      [&](int a, std::string b) {
        got_int = a;
        got_str = b;
      },
      note(x), s);
  CHECK(order == std::vector<int>{1});  // evaluated at the call, in the caller
  x = 2;
  s = "after";
  wg.wait();
  CHECK(got_int == 1);
  CHECK(got_str == "before");

  // A const reference argument is copied too (decay), and move-only arguments move.
  const std::string& cref = s;
  std::string seen;
  auto p = std::make_unique<int>(42);
  int moved = 0;
  wg.go([&](std::string v, std::unique_ptr<int> q) { seen = v, moved = *q; }, cref, std::move(p));
  s = "changed";
  wg.wait();
  CHECK(seen == "after");
  CHECK(moved == 42);
}

TEST_CASE("a goroutine sees a copy of a range-loop value, each value exactly once") {
  std::vector<int> values(1000);
  for (int i = 0; i < 1000; ++i) values[i] = i;
  std::mutex mu;
  std::multiset<int> seen;
  rt::wait_group wg;
  for (int v : values) {
    wg.go(
        [&](int got) {
          std::lock_guard lk(mu);
          seen.insert(got);
        },
        v);
  }
  wg.wait();
  CHECK(seen.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(seen.count(i) == 1);
}

TEST_CASE("goroutine ids are unique and non-zero; 0 outside goroutines") {
  CHECK(rt::goroutine_id() != 0);
  std::mutex mu;
  std::set<std::uint64_t> ids;
  rt::wait_group wg;
  for (int i = 0; i < 5000; ++i) {
    wg.go([&] {
      std::lock_guard lk(mu);
      ids.insert(rt::goroutine_id());
    });
  }
  wg.wait();
  CHECK(ids.size() == 5000);
  CHECK(ids.count(0) == 0);
  CHECK(ids.count(rt::goroutine_id()) == 0);
  std::uint64_t plain = 1;
  std::thread([&] { plain = rt::goroutine_id(); }).join();
  CHECK(plain == 0);
}

TEST_CASE("num_goroutine counts goroutines that exist") {
  rt::wait_group started, release, finished;
  release.add(1);
  const int before = rt::num_goroutine();
  CHECK(before >= 1);  // the main goroutine
  for (int i = 0; i < 100; ++i) {
    started.add(1);
    finished.go([&] {
      started.done();
      release.wait();
    });
  }
  started.wait();
  CHECK(rt::num_goroutine() == before + 100);
  release.done();
  finished.wait();  // the goroutines still use `release` as they wake
}

TEST_CASE("gomaxprocs matches the GOMAXPROCS environment variable") {
  const char* env = std::getenv("GOMAXPROCS");
  REQUIRE(env != nullptr);
  CHECK(rt::gomaxprocs() == std::atoi(env));
}

TEST_CASE("yield lets every goroutine make progress, even on one worker") {
  std::atomic<int> turn{0};
  rt::wait_group wg;
  constexpr int rounds = 1000;
  // Two goroutines that each wait for their turn: only correct yielding finishes.
  for (int me = 0; me < 2; ++me) {
    wg.go([&turn, me] {
      for (int i = 0; i < rounds; ++i) {
        while (turn.load() % 2 != me) rt::yield();
        turn.fetch_add(1);
      }
    });
  }
  wg.wait();
  CHECK(turn == 2 * rounds);
}

TEST_CASE("work really spreads over all workers") {
  // gomaxprocs goroutines that do not yield and each wait for all the others to have
  // started: they can only all start if every worker runs one of them.
  const int n = rt::gomaxprocs();
  std::atomic<int> started{0};
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::atomic<bool> gave_up{false};
  rt::wait_group wg;
  for (int i = 0; i < n; ++i) {
    wg.go([&] {
      {
        std::lock_guard lk(mu);
        threads.insert(std::this_thread::get_id());
      }
      started.fetch_add(1);
      // Liveness bound only (never reached when spreading works): no rt call here.
      auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (started.load() < n) {
        if (std::chrono::steady_clock::now() > give_up) {
          gave_up = true;
          break;
        }
      }
    });
  }
  wg.wait();
  CHECK_FALSE(gave_up.load());
  CHECK(static_cast<int>(threads.size()) == n);
}
