// plain_thread.hpp — test helper: run a function on a new plain thread and wait for
// it the goroutine way (parking, so the worker stays free for goroutines the thread
// starts), then join it.
#pragma once

#include <thread>
#include <utility>

#include <rt/rt.hpp>

namespace rt_test {

template <class F>
void on_plain_thread(F&& f) {
  rt::wait_group finished;
  finished.add(1);
  std::thread t([&] {
    f();
    finished.done();
  });
  finished.wait();  // parks this goroutine; never blocks its worker
  t.join();         // the thread is past its last rt call: returns at once
}

}  // namespace rt_test
