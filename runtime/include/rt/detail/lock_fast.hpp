// rt/detail/lock_fast.hpp — internal: taking a scheduler spinlock without touching a
// second stack page.
//
// Owns: lock_fast(), the one way the coordination layer takes sched::spinlocks.
// Invariant: an uncontended lock costs one atomic exchange and no stack beyond the
// caller's frame.
//
// Why: Boost.Fiber's spinlock_ttas::lock() keeps a thread_local std::random_device for
// its back-off, which gives the function a ~5 KB frame, and every call runs the
// thread_local's init check through a call placed at the bottom of that frame. On a
// goroutine stack that alone touches a second 4 KiB page, doubling what a parked
// goroutine costs. try_lock() is a single exchange; only contention pays for lock().
#pragma once

#include <mutex>

#include "rt/scheduler/scheduler.hpp"

namespace rt::detail {

inline void lock_fast(sched::spinlock& l) noexcept {
  if (!l.try_lock()) l.lock();
}

// lock_fast returns a held sched::spinlock_lock (what sched::park takes).
inline sched::spinlock_lock locked(sched::spinlock& l) noexcept {
  lock_fast(l);
  return sched::spinlock_lock(l, std::adopt_lock);
}

}  // namespace rt::detail
