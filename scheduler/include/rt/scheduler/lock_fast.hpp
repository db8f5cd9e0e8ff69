// rt/scheduler/lock_fast.hpp — internal: taking a scheduler spinlock without touching
// a second stack page.
//
// Owns: lock_fast() and locked(), the one way rt takes spinlocks.
// Invariant: an uncontended lock costs one atomic exchange and no stack beyond the
// caller's frame.
//
// Why: Boost.Fiber's spinlock_ttas::lock() keeps a thread_local std::random_device for
// its back-off, which gives the function a ~5 KB frame, and every call runs the
// thread_local's init check through a call placed at the bottom of that frame. On a
// goroutine stack that alone touches a second 4 KiB page, doubling what a parked
// goroutine costs. try_lock() is a single exchange; only long contention pays for
// lock().
#pragma once

#include <mutex>

#include "rt/scheduler/scheduler.hpp"

namespace rt::sched {

inline void lock_fast(spinlock& l) noexcept {
  // Holders keep these locks for a few dozen instructions: a short pause loop almost
  // always gets it, where lock()'s back-off soon sleeps or yields the thread.
  for (int i = 0; i < 64; ++i) {
    if (l.try_lock()) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  l.lock();
}

// locked returns a held spinlock_lock (what park() takes).
inline spinlock_lock locked(spinlock& l) noexcept {
  lock_fast(l);
  return spinlock_lock(l, std::adopt_lock);
}

// relock takes lk's lock again after lk.unlock(), the fast way.
inline void relock(spinlock_lock& lk) noexcept {
  spinlock* m = lk.mutex();
  lock_fast(*m);
  lk = spinlock_lock(*m, std::adopt_lock);
}

}  // namespace rt::sched
