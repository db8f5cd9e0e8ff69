// Tests for rt::blocking: results and exceptions come back, the call runs off the worker
// while its goroutine parks (the worker keeps running goroutines), plain threads run it
// inline, and many concurrent calls each complete exactly once. At 1, 2 and 4 workers.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <rt/rt.hpp>

#include "../common/gate.hpp"
#include "../common/plain_thread.hpp"

namespace {

int add(int a, int b) {
  return a + b;
}

}  // namespace

TEST_CASE("blocking returns the call's value, reference or nothing") {
  CHECK(rt::blocking(add, 2, 40) == 42);
  std::string s = "moved";
  CHECK(rt::blocking([](std::string v) { return v + "!"; }, std::move(s)) == "moved!");
  int x = 1;
  int& ref = rt::blocking([&]() -> int& { return x; });
  CHECK(&ref == &x);
  int runs = 0;
  rt::blocking([&] { ++runs; });
  CHECK(runs == 1);
}

TEST_CASE("blocking rethrows the call's exception in the goroutine") {
  CHECK_THROWS_WITH_AS(rt::blocking([]() -> int { throw std::runtime_error("disk on fire"); }),
                       "disk on fire", std::runtime_error);
  CHECK(rt::blocking(add, 1, 1) == 2);  // the pool is fine afterwards
}

TEST_CASE("the call runs off the worker; other goroutines run meanwhile") {
  // The call blocks its thread until a goroutine opens the latch. Were the caller's worker
  // blocked, at GOMAXPROCS=1 that goroutine could never run and this would hang.
  for (int round = 0; round < 100; ++round) {
    rt_test::gate l;
    std::thread::id call_thread;
    rt::wait_group wg;
    wg.go([&] {
      rt::blocking([&] {
        call_thread = std::this_thread::get_id();
        l.wait();
      });
    });
    wg.go([&] { l.open(); });
    wg.wait();
    CHECK(call_thread != std::thread::id{});
    CHECK(call_thread != std::this_thread::get_id());
  }
}

TEST_CASE("on a plain thread the call runs inline") {
  rt_test::on_plain_thread([] {
    const std::thread::id self = std::this_thread::get_id();
    CHECK(rt::blocking([] { return std::this_thread::get_id(); }) == self);
    CHECK_THROWS_AS(rt::blocking([] { throw std::logic_error("x"); }), std::logic_error);
  });
}

TEST_CASE("many goroutines in blocking calls at once each get their own result") {
  // 600 calls that all wait until 300 of them are inside: more than fit at GOMAXPROCS
  // threads, so the pool must grow; and more than 512, so some wait for a free thread.
  for (int round = 0; round < 3; ++round) {
    constexpr int n = 600;
    std::mutex mu;
    std::condition_variable cv;
    int inside = 0;
    std::vector<int> results(n, -1);
    rt::wait_group wg;
    for (int i = 0; i < n; ++i) {
      wg.go([&, i] {
        results[i] = rt::blocking([&] {
          std::unique_lock lk(mu);
          ++inside;
          cv.notify_all();
          cv.wait(lk, [&] { return inside >= n / 2; });
          return i * 3;
        });
      });
    }
    wg.wait();
    CHECK(inside == n);
    std::set<int> distinct;
    for (int i = 0; i < n; ++i) {
      CHECK(results[i] == i * 3);
      distinct.insert(results[i]);
    }
    CHECK(distinct.size() == n);
  }
}
