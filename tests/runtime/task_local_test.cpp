// Tests for inheritable task-local slots (rt/task_local.hpp), with a test-only slot
// holding a string: inheritance at go(), isolation both ways, destruction, failures.
#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include <rt/rt.hpp>

#include "../common/plain_thread.hpp"

namespace {

std::atomic<int> clones{0}, destroys{0};
std::atomic<bool> fail_clone{false};

int slot() {
  static const int s = rt::register_task_local({
      .clone = [](void* v) -> void* {
        if (fail_clone.load()) throw std::runtime_error("clone refused");
        clones.fetch_add(1);
        return new std::string(*static_cast<std::string*>(v));
      },
      .destroy =
          [](void* v) {
            auto* s = static_cast<std::string*>(v);
            // A slow destructor: it lets other goroutines run before it is done, so a
            // wait() that returned before it finished would see the count short.
            if (*s == "slow") {
              for (int i = 0; i < 3; ++i) rt::yield();
            }
            destroys.fetch_add(1);
            delete s;
          },
  });
  return s;
}

std::string get() {
  void* v = rt::task_local_value(slot());
  return v != nullptr ? *static_cast<std::string*>(v) : "<none>";
}

void set(const std::string& s) {
  void*& v = rt::task_local_value(slot());
  delete static_cast<std::string*>(v);
  v = new std::string(s);
}

}  // namespace

TEST_CASE("a child gets a clone of the parent's value taken at the go() call") {
  set("parent");
  std::string child_saw, child_after, grandchild_saw;
  rt::wait_group wg;
  rt::wait_group parent_changed;
  parent_changed.add(1);
  wg.go([&] {
    child_saw = get();
    set("child");
    rt::wait_group inner;
    inner.go([&] { grandchild_saw = get(); });
    inner.wait();
    parent_changed.wait();
    child_after = get();  // the parent's later change is not seen
  });
  set("parent-changed");
  parent_changed.done();
  wg.wait();
  CHECK(child_saw == "parent");
  CHECK(grandchild_saw == "child");
  CHECK(child_after == "child");
  CHECK(get() == "parent-changed");  // the child's change is not seen by the parent
}

TEST_CASE("siblings are isolated from each other, over many iterations") {
  set("root");
  std::atomic<int> mixed{0};
  for (int iter = 0; iter < 1000; ++iter) {
    rt::wait_group wg;
    for (int k = 0; k < 2; ++k) {
      wg.go(
          [&mixed](int me) {
            const std::string mine = "sibling-" + std::to_string(me);
            set(mine);
            rt::yield();
            if (get() != mine) mixed.fetch_add(1);
          },
          k);
    }
    wg.wait();
  }
  CHECK(mixed == 0);
  CHECK(get() == "root");
}

TEST_CASE("every cloned value is destroyed exactly once when its goroutine ends") {
  set("counted");
  const int c0 = clones.load(), d0 = destroys.load();
  rt::wait_group wg;
  for (int i = 0; i < 1000; ++i) wg.go([] { (void)get(); });
  wg.wait();
  CHECK(clones.load() - c0 == 1000);
  CHECK(destroys.load() - d0 == 1000);
}

TEST_CASE("wg.go's done() comes after the goroutine's task-locals are destroyed") {
  // Each goroutine's clone takes a while to destroy (it yields); wait() must still
  // return only after every one of them is gone, in every round.
  set("slow");
  for (int round = 0; round < 50; ++round) {
    const int d0 = destroys.load();
    rt::wait_group wg;
    for (int i = 0; i < 20; ++i) wg.go([] { (void)get(); });
    wg.wait();
    REQUIRE(destroys.load() - d0 == 20);
  }
  set("counted");
}

TEST_CASE("a throwing clone hook makes go() throw and starts nothing") {
  set("x");
  const int before = rt::num_goroutine();
  std::atomic<bool> ran{false};
  fail_clone = true;
  CHECK_THROWS_WITH_AS(rt::go([&] { ran = true; }), "clone refused", std::runtime_error);
  fail_clone = false;
  CHECK(rt::num_goroutine() == before);
  rt::wait_group wg;
  wg.go([] {});  // the runtime is still fine
  wg.wait();
  CHECK_FALSE(ran.load());
}

TEST_CASE("plain threads have their own table; their goroutines inherit from it") {
  set("main-goroutine");
  std::string thread_initial, thread_child;
  rt_test::on_plain_thread([&] {
    thread_initial = get();
    set("thread");
    rt::wait_group wg;
    wg.go([&] { thread_child = get(); });
    wg.wait();
  });
  CHECK(thread_initial == "<none>");
  CHECK(thread_child == "thread");
  CHECK(get() == "main-goroutine");
}
