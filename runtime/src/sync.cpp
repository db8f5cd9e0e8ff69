// sync.cpp — rt::mutex, rt::rw_mutex and rt::cond (rt/mutex.hpp, rw_mutex.hpp, cond.hpp)
// and the parking semaphore under them (rt/detail/sema.hpp). Go's sync package is the
// model (sync/mutex.go, sync/rwmutex.go, runtime/sema.go's notifyList).
//
// Owns: the lock-word protocols and every park/unpark of these primitives.
// Invariant: a goroutine parks only in sema::acquire or cond's wait, each under its own
// spinlock, and is unparked exactly once, by the release/notify that dequeued it.
//
// mutex, the lock word (locked | woken | starving | waiters << 3):
//   * Normal mode: lock() takes a free mutex with one CAS. Otherwise it spins a few
//     rounds while the holder runs on another worker, then counts itself a waiter and
//     parks in the semaphore (FIFO). unlock() clears `locked` and, if there are waiters
//     and none is awake (`woken`), wakes one. A woken waiter competes with newcomers
//     (which usually win: they are running) and requeues at the head if it loses.
//   * Starvation mode: a waiter that waited more than 1 ms sets `starving` when it next
//     fails. Then unlock() hands the mutex to the head waiter without clearing it for
//     anyone else (newcomers see `starving` and queue at the tail) and yields to it;
//     the woken waiter owns the mutex at once. The mode ends when the handed-to waiter
//     waited under 1 ms or was the last one.
//   * `woken` is set by a spinner (so unlock does not wake a second goroutine in vain)
//     or by unlock when it wakes one; the woken goroutine clears it in its next CAS.
//
// rw_mutex: readers_ counts readers in or waiting; a writer subtracts max_readers, so
// a negative count tells arriving readers to park. The writer then waits for the
// `departing_` readers that were inside. On unlock it adds max_readers back and
// releases one reader token per reader that queued meanwhile.
#include <cstdio>
#include <cstdlib>

#include "rt/cond.hpp"
#include "rt/mutex.hpp"
#include "rt/rw_mutex.hpp"
#include "rt/scheduler/fatal.hpp"
#include "rt/scheduler/scheduler.hpp"
#include "rt/scheduler/spin.hpp"

namespace rt {
namespace {

constexpr std::int64_t starvation_threshold_ns = 1'000'000;  // Go's 1 ms
constexpr int max_spins = 4;         // spin rounds before parking (Go's active_spin)
constexpr int pauses_per_spin = 30;  // Go's active_spin_cnt

[[noreturn]] void fatal(const char* what, std::int32_t state) {
  sched::fatal("%s (state %#x)", what, static_cast<unsigned>(state));
}

std::int64_t now_ns() noexcept {
  return sched::clock::now().time_since_epoch().count();
}

// Spinning pays only when the holder can be running on another worker at the same time.
bool can_spin(int spins) noexcept {
  return spins < max_spins && sched::workers() > 1;
}

// spin_round is one round of active spinning (Go's procyield(active_spin_cnt)).
void spin_round() noexcept {
  for (int i = 0; i < pauses_per_spin; ++i) sched::spin_pause();
}

}  // namespace

// ---- detail::sema -------------------------------------------------------------------

void detail::sema::acquire(bool lifo, const char* reason) noexcept {
  sched::spinlock_lock lk(lock_);
  if (tokens_ > 0) {
    --tokens_;
    return;
  }
  node me{sched::waiter::self(), nullptr};
  if (lifo) {
    me.next = head_;
    head_ = &me;
    if (tail_ == nullptr) tail_ = &me;
  } else {
    if (tail_ != nullptr) {
      tail_->next = &me;
    } else {
      head_ = &me;
    }
    tail_ = &me;
  }
  sched::park(lk, reason);  // release() dequeued us and handed us its token
}

bool detail::sema::release() noexcept {
  sched::spinlock_lock lk(lock_);
  node* w = head_;
  if (w == nullptr) {
    ++tokens_;
    return false;
  }
  head_ = w->next;
  if (head_ == nullptr) tail_ = nullptr;
  const sched::waiter who = w->who;  // w lives on the waiter's stack: read before unpark
  lk.unlock();
  sched::unpark(who);
  return true;
}

// ---- mutex --------------------------------------------------------------------------

bool mutex::try_lock() noexcept {
  std::int32_t old = state_.load(std::memory_order_relaxed);
  if ((old & (locked_bit | starving_bit)) != 0) return false;
  return state_.compare_exchange_strong(old, old | locked_bit, std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

void mutex::lock_slow() noexcept {
  std::int64_t wait_start = 0;  // when this goroutine first parked; 0 before
  bool starving = false;        // it has waited longer than the threshold
  bool awoke = false;           // it owns the `woken` flag
  int spins = 0;
  std::int32_t old = state_.load(std::memory_order_relaxed);
  for (;;) {
    // Spin while the mutex is held in normal mode: the holder may unlock soon.
    if ((old & (locked_bit | starving_bit)) == locked_bit && can_spin(spins)) {
      if (!awoke && (old & woken_bit) == 0 && (old >> waiter_shift) != 0 &&
          state_.compare_exchange_weak(old, old | woken_bit, std::memory_order_relaxed)) {
        awoke = true;
      }
      spin_round();
      ++spins;
      old = state_.load(std::memory_order_relaxed);
      continue;
    }
    std::int32_t next = old;
    if ((old & starving_bit) == 0) next |= locked_bit;  // a starving mutex goes to the queue
    if ((old & (locked_bit | starving_bit)) != 0) next += 1 << waiter_shift;
    if (starving && (old & locked_bit) != 0) next |= starving_bit;
    if (awoke) {
      if ((next & woken_bit) == 0) fatal("rt::mutex: inconsistent state (woken flag lost)", next);
      next &= ~woken_bit;
    }
    // acquire: when this CAS takes the lock, pairs with the holder's release in unlock().
    if (!state_.compare_exchange_weak(old, next, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
      continue;  // old was reloaded
    }
    if ((old & (locked_bit | starving_bit)) == 0) return;  // locked by this CAS
    const bool requeue = wait_start != 0;  // lost after a wake-up: go back to the head
    if (wait_start == 0) wait_start = now_ns();
    sema_.acquire(requeue, "mutex lock");
    starving = starving || now_ns() - wait_start > starvation_threshold_ns;
    old = state_.load(std::memory_order_relaxed);
    if ((old & starving_bit) != 0) {
      // Handed to us in starvation mode: unlock left `locked` clear and counted us.
      if ((old & (locked_bit | woken_bit)) != 0 || (old >> waiter_shift) == 0) {
        fatal("rt::mutex: inconsistent state after a starvation hand-off", old);
      }
      std::int32_t delta = locked_bit - (1 << waiter_shift);
      if (!starving || (old >> waiter_shift) == 1) delta -= starving_bit;  // leave the mode
      state_.fetch_add(delta, std::memory_order_acquire);
      return;
    }
    awoke = true;
    spins = 0;
  }
}

void mutex::unlock_slow(std::int32_t now) noexcept {
  if (((now + locked_bit) & locked_bit) == 0) fatal("rt::mutex: unlock of unlocked mutex", now);
  if ((now & starving_bit) != 0) {
    // Hand the mutex to the head waiter and let it run now (it goes to this worker's
    // run-next slot; yielding switches to it).
    if (sema_.release()) sched::yield();
    return;
  }
  std::int32_t old = now;
  for (;;) {
    // Nobody to wake, or a waiter is awake already, or the mutex was taken meanwhile.
    if ((old >> waiter_shift) == 0 || (old & (locked_bit | woken_bit | starving_bit)) != 0) {
      return;
    }
    if (state_.compare_exchange_weak(old, (old - (1 << waiter_shift)) | woken_bit,
                                     std::memory_order_relaxed)) {
      sema_.release();
      return;
    }
  }
}

// ---- rw_mutex -----------------------------------------------------------------------

void rw_mutex::lock_shared() noexcept {
  // acq_rel: pairs with the writer's release in unlock().
  if (readers_.fetch_add(1, std::memory_order_acq_rel) < 0) {
    reader_sem_.acquire(false, "rw_mutex lock_shared");  // a writer holds or awaits it
  }
}

bool rw_mutex::try_lock_shared() noexcept {
  std::int32_t r = readers_.load(std::memory_order_relaxed);
  while (r >= 0) {
    if (readers_.compare_exchange_weak(r, r + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void rw_mutex::unlock_shared() noexcept {
  const std::int32_t r = readers_.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (r >= 0) return;
  if (r + 1 == 0 || r + 1 == -max_readers) {
    fatal("rt::rw_mutex: unlock_shared of unlocked rw_mutex", r + 1);
  }
  // A writer waits: the last of the readers it waits for lets it in.
  if (departing_.fetch_sub(1, std::memory_order_acq_rel) == 1) writer_sem_.release();
}

void rw_mutex::lock() noexcept {
  writer_.lock();  // one writer at a time
  // Announce the writer; r readers were inside (or queued before) and must leave first.
  const std::int32_t r = readers_.fetch_sub(max_readers, std::memory_order_acq_rel);
  if (r != 0 && departing_.fetch_add(r, std::memory_order_acq_rel) + r != 0) {
    writer_sem_.acquire(false, "rw_mutex lock");
  }
}

bool rw_mutex::try_lock() noexcept {
  if (!writer_.try_lock()) return false;
  std::int32_t none = 0;
  if (!readers_.compare_exchange_strong(none, -max_readers, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
    writer_.unlock();
    return false;
  }
  return true;
}

void rw_mutex::unlock() noexcept {
  // release: publishes the writer's critical section to the readers let in here.
  const std::int32_t r = readers_.fetch_add(max_readers, std::memory_order_acq_rel) + max_readers;
  if (r >= max_readers) fatal("rt::rw_mutex: unlock of unlocked rw_mutex", r);
  for (std::int32_t i = 0; i < r; ++i) reader_sem_.release();  // readers that queued meanwhile
  writer_.unlock();
}

// ---- cond ---------------------------------------------------------------------------

std::uint64_t cond::enter() noexcept {
  sched::spinlock_lock lk(lock_);
  return next_ticket_++;
}

void cond::park_until_notified(std::uint64_t ticket) noexcept {
  sched::spinlock_lock lk(lock_);
  if (ticket < notify_) return;  // notified between enter() and here
  node me{sched::waiter::self(), ticket, nullptr};
  if (tail_ != nullptr) {
    tail_->next = &me;
  } else {
    head_ = &me;
  }
  tail_ = &me;
  sched::park(lk, "cond wait");
}

void cond::signal() noexcept {
  sched::spinlock_lock lk(lock_);
  if (notify_ == next_ticket_) return;  // nobody waits
  const std::uint64_t ticket = notify_++;
  // The waiter holding `ticket` may not have parked yet: then it sees ticket < notify_.
  node* prev = nullptr;
  for (node* n = head_; n != nullptr; prev = n, n = n->next) {
    if (n->ticket != ticket) continue;
    (prev != nullptr ? prev->next : head_) = n->next;
    if (tail_ == n) tail_ = prev;
    const sched::waiter who = n->who;  // n lives on the waiter's stack: read before unpark
    lk.unlock();
    sched::unpark(who);
    return;
  }
}

void cond::broadcast() noexcept {
  sched::spinlock_lock lk(lock_);
  if (notify_ == next_ticket_) return;
  notify_ = next_ticket_;
  node* n = head_;
  head_ = nullptr;
  tail_ = nullptr;
  lk.unlock();
  while (n != nullptr) {
    node* next = n->next;  // read before unpark: the node lives on the woken stack
    sched::unpark(n->who);
    n = next;
  }
}

}  // namespace rt
