// rt/cond.hpp — rt::cond, Go's sync.Cond: goroutines wait for a condition on state
// guarded by a lock.
//
// Example:
//   rt::mutex mu;
//   rt::cond ready;
//   std::deque<job> q;                                   // guarded by mu
//   job take() {
//     std::unique_lock lk(mu);
//     ready.wait(lk, [&] { return !q.empty(); });        // parks, mu released meanwhile
//     job j = std::move(q.front()); q.pop_front(); return j;
//   }
//   void put(job j) { { std::lock_guard lk(mu); q.push_back(std::move(j)); } ready.signal(); }
//
// Owns: a ticket counter and the queue of parked waiters (Go's runtime notifyList).
// Invariant (under lock_): waiters take increasing tickets; tickets below notify_ have
// been woken or will return without parking; signal wakes the lowest unwoken ticket,
// broadcast all of them. A wake-up is never lost between wait's unlock and its park.
#pragma once

#include <cstdint>

#include "rt/scheduler/park.hpp"

namespace rt {

class cond {
 public:
  cond() = default;
  cond(const cond&) = delete;
  cond& operator=(const cond&) = delete;

  // wait unlocks `lock` (anything with lock()/unlock(): std::unique_lock<rt::mutex>,
  // rt::mutex itself, ...), parks until signal() or broadcast() picks this waiter, and
  // locks `lock` again before returning. Like Go's Cond, no spurious wake-ups, but the
  // condition may have changed again by then: check it in a loop (or use the predicate
  // overload). The caller must hold `lock`.
  template <class Lock>
  void wait(Lock& lock) {
    const std::uint64_t ticket = enter();
    lock.unlock();
    park_until_notified(ticket);
    lock.lock();
  }

  // wait(lock, pred) waits until pred() is true (checked with `lock` held).
  template <class Lock, class Pred>
  void wait(Lock& lock, Pred pred) {
    while (!pred()) wait(lock);
  }

  // signal wakes the longest-waiting waiter, if any. Never parks; need not hold the lock.
  void signal() noexcept;
  // broadcast wakes every current waiter. Never parks; need not hold the lock.
  void broadcast() noexcept;

 private:
  struct node {
    sched::waiter who;
    std::uint64_t ticket;
    node* next;
  };
  std::uint64_t enter() noexcept;
  void park_until_notified(std::uint64_t ticket) noexcept;

  sched::spinlock lock_;
  std::uint64_t next_ticket_ = 0;  // ticket of the next waiter; guarded by lock_
  std::uint64_t notify_ = 0;       // tickets below this are notified; guarded by lock_
  node* head_ = nullptr;           // parked waiters, on their stacks; guarded by lock_
  node* tail_ = nullptr;           // guarded by lock_
};

}  // namespace rt
