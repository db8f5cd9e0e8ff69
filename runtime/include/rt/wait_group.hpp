// rt/wait_group.hpp — rt::wait_group, Go's sync.WaitGroup.
//
// Example:
//   rt::wait_group wg;
//   for (int i = 1; i <= 3; ++i) wg.go(worker, i);   // add(1) + go + done() once it ended
//   wg.wait();                                        // parks until all three are done
//
// Owns: a counter of outstanding work and the goroutines/threads waiting for it to
// reach zero.
// Invariant: the counter never goes below zero (add() refuses and throws); waiters are
// woken exactly when the counter drops to zero.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "rt/runtime.hpp"
#include "rt/scheduler/park.hpp"

namespace rt {

class wait_group {
 public:
  wait_group() = default;
  wait_group(const wait_group&) = delete;
  wait_group& operator=(const wait_group&) = delete;

  // add adds delta (may be negative) to the counter; when it reaches zero, every
  // waiter wakes. Never blocks. Throws std::logic_error, leaving the counter as it
  // was, when the counter would become negative.
  void add(int delta);

  // done is add(-1).
  void done() { add(-1); }

  // wait parks the calling goroutine (blocks a plain thread) until the counter is zero;
  // returns at once when it is zero already.
  void wait();

  // go is add(1) + rt::go(f, args...) with done() once the goroutine has finished:
  // after f returned (or its panic was reported) and after everything the goroutine
  // owned, its task-locals (its hub) included, was destroyed — so wait() returning means
  // those goroutines are gone, as with Go's wg.Go. Arguments are decay-copied at the
  // call, as with rt::go. Throws what rt::go throws (then the counter is unchanged).
  // A done() that finds the counter already at zero (the goroutine also called done()
  // itself) is that goroutine's panic.
  template <class F, class... Args>
  [[gnu::always_inline]] inline void go(F&& f, Args&&... args) {
    add(1);
    try {
      detail::spawn({&done_hook, this}, std::forward<F>(f), std::forward<Args>(args)...);
    } catch (...) {
      done();
      throw;
    }
  }

 private:
  static void done_hook(void* wg) { static_cast<wait_group*>(wg)->done(); }

  struct waiter_node {
    sched::waiter who;
    waiter_node* next;
  };
  // counter in the high 32 bits, number of waiters in the low 32 (Go's layout): add()
  // is one atomic add unless it takes the counter to zero with waiters present.
  std::atomic<std::uint64_t> state_{0};
  sched::spinlock lock_;            // guards waiters_
  waiter_node* waiters_ = nullptr;  // parked in wait(), on their own stacks
};

}  // namespace rt
