// gate.hpp — test helper: a latch that only plain threads wait on, the way a foreign
// blocking library would (a std::condition_variable, invisible to rt's scheduler).
//
// Owns: one flag under a std::mutex. Invariant: once open, every wait returns at once.
#pragma once

#include <condition_variable>
#include <mutex>

namespace rt_test {

class gate {
 public:
  void open() {
    std::lock_guard lk(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // wait blocks the calling thread (never parks) until open() was called.
  void wait() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

}  // namespace rt_test
