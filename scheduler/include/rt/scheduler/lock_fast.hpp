// rt/scheduler/lock_fast.hpp — internal: taking a scheduler spinlock without touching
// a second stack page.
//
// Owns: lock_fast() and locked(), the one way rt takes spinlocks, and spin_pause(), the
// one way rt pauses in a spin loop.
// Invariant: an uncontended lock costs one atomic exchange and no stack beyond the
// caller's frame.
//
// Why: Boost.Fiber's spinlock_ttas::lock() keeps a thread_local std::random_device for
// its back-off, which gives the function a ~5 KB frame, and every call runs the
// thread_local's init check through a call placed at the bottom of that frame. On a
// goroutine stack that touches a second 4 KiB page, doubling what a parked goroutine
// costs, and a page fault is expensive (14-37 µs on the VM here; Boost's own termination
// path took that fault on every ending goroutine, 47% of the time to join a million, see
// fiber_entry in worker.cpp). So rt never calls lock(): try_lock() is a single exchange,
// and contention backs off here, in a frame of a few words.
#pragma once

#include <mutex>
#include <thread>

#include "rt/scheduler/scheduler.hpp"

namespace rt::sched {

// spin_pause tells the CPU this is a spin-wait loop (x86 `pause`: leaves the core to its
// sibling hyperthread, spares the pipeline flush when the loop ends); nothing elsewhere.
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// lock_contended waits for l once a first try failed: holders keep these locks for a few
// dozen instructions, so a short pause loop almost always gets it; past that the holder
// may have been preempted: pause twice as long between tries (up to ~1,000 pauses), and
// give the CPU away now and then. Out of line, so that lock_fast stays small where it is
// inlined.
[[gnu::noinline]] inline void lock_contended(spinlock& l) noexcept {
  for (unsigned pauses = 1, tries = 0;; ++tries) {
    for (unsigned i = 0; i < pauses; ++i) spin_pause();
    if (l.try_lock()) return;
    if (tries >= 64) {
      if (pauses < 1024) {
        pauses *= 2;
      } else {
        std::this_thread::yield();
      }
    }
  }
}

inline void lock_fast(spinlock& l) noexcept {
  if (!l.try_lock()) lock_contended(l);
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
