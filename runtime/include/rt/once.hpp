// rt/once.hpp — rt::once, Go's sync.Once: runs a function exactly once.
//
// Example:
//   rt::once init;
//   config* cfg = nullptr;
//   const config& get() { init.call([] { cfg = load_config(); }); return *cfg; }
//
// Owns: a done flag and the mutex that callers park on while the first call runs.
// Invariant: f runs at most once per rt::once; when any call() returns (or throws), the
// run of f has finished and its effects are visible to the caller.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <utility>

#include "rt/mutex.hpp"

namespace rt {

class once {
 public:
  once() = default;
  once(const once&) = delete;
  once& operator=(const once&) = delete;

  // call runs f(args...) if no call on this once has run one yet; concurrent callers
  // park until that run has finished. As in Go, a run that throws still counts: the
  // exception propagates to the caller that ran f, and later calls do nothing (this
  // differs from std::call_once, which would retry).
  template <class F, class... Args>
  void call(F&& f, Args&&... args) {
    // acquire: pairs with the release store after f ran.
    if (done_.load(std::memory_order_acquire)) return;
    std::lock_guard lk(m_);
    if (done_.load(std::memory_order_relaxed)) return;
    struct mark_done {
      std::atomic<bool>& done;
      ~mark_done() { done.store(true, std::memory_order_release); }
    } mark{done_};
    std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
  }

 private:
  std::atomic<bool> done_{false};  // set (release) once f has run; written under m_
  mutex m_;                        // held while f runs
};

}  // namespace rt
