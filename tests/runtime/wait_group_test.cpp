// Tests for rt::wait_group: counting, waking, misuse, plain threads.
#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <rt/rt.hpp>

#include "../common/plain_thread.hpp"

TEST_CASE("wait on a zero counter returns at once") {
  rt::wait_group wg;
  wg.wait();
  wg.add(0);
  wg.wait();
}

TEST_CASE("a negative counter throws std::logic_error naming the counter, and keeps it") {
  rt::wait_group wg;
  wg.add(1);
  try {
    wg.add(-2);
    FAIL("add(-2) did not throw");
  } catch (const std::logic_error& e) {
    std::string what = e.what();
    CHECK(what.find("rt::wait_group") != std::string::npos);
    CHECK(what.find("negative counter") != std::string::npos);
    CHECK(what.find("from 1 to -1") != std::string::npos);
  }
  wg.done();  // still 1 before: now 0
  wg.wait();
  CHECK_THROWS_AS(wg.done(), std::logic_error);
}

TEST_CASE("many waiters all wake when the counter reaches zero, every time") {
  for (int round = 0; round < 200; ++round) {
    rt::wait_group work, waiters;
    std::atomic<int> woke{0};
    work.add(1);
    for (int i = 0; i < 20; ++i) {
      waiters.go([&] {
        work.wait();
        woke.fetch_add(1);
      });
    }
    work.done();
    waiters.wait();
    CHECK(woke == 20);
  }
}

TEST_CASE("wg.go counts down even when the goroutine's function returns early") {
  rt::wait_group wg;
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) {
    wg.go(
        [&ran](int v) {
          if (v % 2 == 0) return;
          ran.fetch_add(1);
        },
        i);
  }
  wg.wait();
  CHECK(ran == 500);
}

TEST_CASE("a plain thread blocks in wait until goroutines are done") {
  for (int round = 0; round < 50; ++round) {
    rt::wait_group wg;
    std::atomic<int> done{0};
    wg.add(100);
    int seen = -1;
    rt::wait_group thread_done;
    thread_done.add(1);
    std::thread waiter([&] {
      wg.wait();
      seen = done.load();
      thread_done.done();
    });
    for (int i = 0; i < 100; ++i) {
      rt::go([&] {
        done.fetch_add(1);
        wg.done();
      });
    }
    thread_done.wait();
    waiter.join();
    CHECK(seen == 100);
  }
}

TEST_CASE("goroutines wait for a plain thread's done") {
  rt::wait_group gate, finished;
  gate.add(1);
  std::atomic<int> passed{0};
  for (int i = 0; i < 50; ++i) {
    finished.go([&] {
      gate.wait();
      passed.fetch_add(1);
    });
  }
  rt_test::on_plain_thread([&] { gate.done(); });
  finished.wait();
  CHECK(passed == 50);
}
