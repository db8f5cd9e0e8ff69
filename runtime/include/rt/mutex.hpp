// rt/mutex.hpp — rt::mutex, Go's sync.Mutex: a mutual-exclusion lock that parks the
// goroutine, never its worker thread.
//
// Example (samples/coordination/counter.cpp):
//   struct counter {
//     rt::mutex mu;
//     std::map<std::string, int> v;                       // guarded by mu
//     void inc(const std::string& key) {
//       std::lock_guard lk(mu);                           // parks while another holds it
//       ++v[key];
//     }
//   };
//
// Owns: one lock word and the parking semaphore of its waiters (src/sync.cpp has Go's
// algorithm: spinning, a woken flag, and starvation mode).
// Invariant: at most one holder. Starvation-free: a waiter that has waited more than
// 1 ms switches the mutex to starvation mode, where unlock hands the mutex directly to
// the oldest waiter and newcomers queue behind it (Go's rule), until the queue drains or
// the handed-to waiter waited less than 1 ms.
//
// Satisfies Lockable: std::lock_guard, std::unique_lock, std::scoped_lock work. Unlike
// std::mutex it may be unlocked by another goroutine or thread than the one that
// locked it (as in Go). Usable from plain threads (they block instead of parking).
#pragma once

#include <atomic>
#include <cstdint>

#include "rt/detail/sema.hpp"

namespace rt {

class mutex {
 public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  // lock acquires the mutex, parking the goroutine (blocking a plain thread) while
  // another holds it; may spin briefly first on multi-worker pools. Never throws.
  void lock() noexcept {
    std::int32_t unlocked = 0;
    // acquire: pairs with the release in unlock() of the previous holder.
    if (state_.compare_exchange_strong(unlocked, locked_bit, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    lock_slow();
  }

  // try_lock acquires the mutex only if it is free and nobody is queued ahead in
  // starvation mode. Never parks.
  bool try_lock() noexcept;

  // unlock releases the mutex and wakes a waiter if one should run. Never parks (in
  // starvation mode it yields to the waiter it handed the mutex to). Unlocking an
  // unlocked mutex is a fatal error ("rt::mutex: unlock of unlocked mutex"), as in Go.
  void unlock() noexcept {
    // release: publishes the critical section to the next holder.
    const std::int32_t now = state_.fetch_sub(locked_bit, std::memory_order_release) - locked_bit;
    if (now != 0) unlock_slow(now);
  }

 private:
  // state_ bits (Go's layout): locked | woken | starving | waiter count << 3.
  static constexpr std::int32_t locked_bit = 1;
  static constexpr std::int32_t woken_bit = 2;
  static constexpr std::int32_t starving_bit = 4;
  static constexpr int waiter_shift = 3;

  void lock_slow() noexcept;
  void unlock_slow(std::int32_t now) noexcept;

  std::atomic<std::int32_t> state_{0};  // lock-free protocol: see src/sync.cpp
  detail::sema sema_;                   // waiters parked in lock_slow
};

}  // namespace rt
