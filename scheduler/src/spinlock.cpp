// spinlock.cpp — the contended path of rt::sched::spinlock (rt/scheduler/park.hpp).
//
// Holders keep these locks for a few dozen instructions, so a short pause loop almost
// always gets the lock; past that the holder may have been preempted: pause twice as long
// between tries (up to ~1,000 pauses), and give the CPU away now and then.
//
// Why rt has its own spinlock rather than Boost.Fiber's spinlock_ttas: that one's lock()
// keeps a thread_local std::random_device for its back-off, which gives the function a
// ~5 KB frame, and every call runs the thread_local's init check through a call placed at
// the bottom of that frame. On a goroutine stack that touches a second 4 KiB page,
// doubling what a parked goroutine costs (a page fault is 14-37 µs on the VMs here). This
// loop runs in a frame of a few words.
//
// The scheduler is built without ThreadSanitizer's instrumentation, so the exchange that
// takes the lock here is announced to it (tsan_acquire on the lock's address, where the
// inline unlock()'s release store is recorded): otherwise a contended lock() in the
// runtime would order nothing, and every access it guards would look like a race.
#include <thread>

#include "rt/scheduler/park.hpp"
#include "rt/scheduler/race.hpp"
#include "rt/scheduler/spin.hpp"

namespace rt::sched {

void spinlock::lock_contended() noexcept {
  for (unsigned pauses = 1, tries = 0;; ++tries) {
    for (unsigned i = 0; i < pauses; ++i) spin_pause();
    // Test before test-and-set: a failed exchange takes the line from the holder (and
    // from whatever shares it, as a channel's indices do), a load leaves it shared.
    if (!held_.load(std::memory_order_relaxed) && try_lock()) {
      tsan_acquire(this);  // this file is built uninstrumented (see race.hpp)
      return;
    }
    if (tries >= 64) {
      if (pauses < 1024) {
        pauses *= 2;
      } else {
        std::this_thread::yield();
      }
    }
  }
}

}  // namespace rt::sched
