// rt/scheduler/park.hpp — what rt's public headers need of the scheduler: the lock a
// primitive embeds, the waiter it queues, the clock, and the parking calls its sources use.
//
// Owns: rt::sched::spinlock, waiter, park/unpark, current(). Everything else about the
// scheduler (fibers, workers, run queues, timers, the poller) is internal to rt and not
// installed (scheduler/internal/rt/scheduler/scheduler.hpp).
// Invariant: nothing here includes a Boost header or needs one to be used; the types have
// the size and layout the scheduler's sources see.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

namespace rt::sched {

using clock = std::chrono::steady_clock;

struct fiber;           // a goroutine's fiber (internal)
struct thread_parker;   // a plain thread's parking word (worker.cpp)
struct thread_context;  // a worker thread's main context (worker.cpp)

// A spinlock for the few dozen instructions a primitive's state is locked for. Never
// parks; contention pauses, then backs off and gives the CPU away now and then (the
// holder may have been preempted). An uncontended lock is one atomic exchange and uses no
// stack beyond the caller's frame: a parked goroutine's stack stays at one page.
class spinlock {
 public:
  bool try_lock() noexcept { return !held_.exchange(true, std::memory_order_acquire); }
  void lock() noexcept {
    if (!try_lock()) lock_contended();
  }
  void unlock() noexcept { held_.store(false, std::memory_order_release); }

 private:
  void lock_contended() noexcept;  // out of line, so that lock() stays small where inlined
  std::atomic<bool> held_{false};
};
using spinlock_lock = std::unique_lock<spinlock>;

// A parked goroutine or plain thread, as stored in a primitive's wait queue.
class waiter {
 public:
  waiter() = default;
  // self returns the caller: its fiber inside a goroutine; on a plain thread, the
  // thread's parking word (plain threads block in park() and are woken by unpark()); on
  // a worker thread outside any goroutine, the thread's main context (stop() wakes it).
  static waiter self() noexcept;
  explicit operator bool() const noexcept {
    return fiber_ != nullptr || parker_ != nullptr || thread_ != nullptr;
  }
  bool operator==(const waiter&) const = default;
  fiber* goroutine() const noexcept { return fiber_; }

 private:
  friend void unpark(waiter w) noexcept;
  friend void park(spinlock_lock& lk, const char* reason) noexcept;
  fiber* fiber_ = nullptr;
  thread_parker* parker_ = nullptr;
  thread_context* thread_ = nullptr;
};

// park suspends the caller until unpark(waiter::self()) is called for it. `lk` must be
// held; it is released only once the caller is completely off its stack, so a waker
// that finds the waiter under `lk` can never resume it too early (the lost-wake-up
// and double-run races are both impossible). Returns with `lk` released.
// A goroutine parks (its worker runs other goroutines); a plain thread blocks.
// `reason` is a static string for diagnostics ("chan receive", "sleep", ...).
void park(spinlock_lock& lk, const char* reason) noexcept;

// unpark makes a parked waiter runnable. Any thread, any context, never blocks.
// Call it exactly once per park, and only after the parker released its lock (i.e.
// after finding the waiter under that lock). On a worker the woken goroutine goes to
// the run-next slot (it runs next, as in Go). After the pool stopped, waking one of its
// abandoned goroutines does nothing, also while a later pool runs.
void unpark(waiter w) noexcept;

// note_progress: the calling goroutine is doing the runtime's own work for others (close
// waking a batch of its waiters), so its worker is not stuck: the monitor does not report
// it and thieves leave its run-next slot alone, as after a yield that found nothing else
// to run. Never switches; does nothing on a plain thread.
void note_progress() noexcept;

// current returns the fiber running on this thread, or nullptr on a plain thread (or
// in a worker's scheduler context). Never cached across a park: a goroutine may resume
// on another worker.
fiber* current() noexcept;

}  // namespace rt::sched
