// rt/detail/sema.hpp — internal: the parking semaphore under rt::mutex and
// rt::rw_mutex (Go's runtime semaphore, sema.go, reduced to what they need).
//
// Owns: a count of tokens and a queue of goroutines/threads parked waiting for one.
// Invariant (under lock_): tokens_ > 0 only while the queue is empty; release() hands
// its token straight to the first waiter, so a woken waiter owns a token already.
#pragma once

#include <cstdint>

#include "rt/scheduler/park.hpp"

namespace rt::detail {

class sema {
 public:
  // acquire takes a token, parking until one is released when none is left. lifo: queue
  // at the head (a waiter that was woken and lost the race again, Go's queueLifo).
  // `reason` is a static string for diagnostics. Never throws.
  void acquire(bool lifo, const char* reason) noexcept;

  // release adds a token, handing it to the first waiter if there is one. Returns true
  // when it woke a waiter. Never parks, never throws.
  bool release() noexcept;

 private:
  struct node {
    sched::waiter who;
    node* next;
  };
  sched::spinlock lock_;
  std::uint32_t tokens_ = 0;  // guarded by lock_
  node* head_ = nullptr;      // parked acquirers, on their own stacks; guarded by lock_
  node* tail_ = nullptr;      // guarded by lock_
};

}  // namespace rt::detail
