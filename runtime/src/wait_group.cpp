// wait_group.cpp — rt::wait_group (see rt/wait_group.hpp).
//
// Wake-up protocol: a waiter increments the waiter count with a CAS that also checks
// the counter is non-zero, then enqueues itself and parks, all under lock_. The add()
// that takes the counter to zero with waiters present takes lock_, so it finds every
// such waiter enqueued and (park releases lock_ only after the switch) fully parked.
#include "rt/wait_group.hpp"
#include "rt/scheduler/scheduler.hpp"

#include <stdexcept>
#include <string>

namespace rt {

void wait_group::add(int delta) {
  const std::uint64_t d = static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32;
  const std::uint64_t s = state_.fetch_add(d, std::memory_order_acq_rel) + d;
  const auto counter = static_cast<std::int32_t>(s >> 32);
  const auto waiters = static_cast<std::uint32_t>(s);
  if (counter < 0) {
    state_.fetch_sub(d, std::memory_order_acq_rel);
    throw std::logic_error("rt::wait_group: negative counter: add(" + std::to_string(delta) +
                           ") would take it from " + std::to_string(counter - delta) + " to " +
                           std::to_string(counter));
  }
  if (counter > 0 || waiters == 0) return;
  sched::spinlock_lock lk(lock_);
  state_.store(0, std::memory_order_release);
  waiter_node* w = waiters_;
  waiters_ = nullptr;
  lk.unlock();
  while (w != nullptr) {
    waiter_node* next = w->next;  // read before unpark: the node lives on the waiter's stack
    sched::unpark(w->who);
    w = next;
  }
}

void wait_group::wait() {
  std::uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((s >> 32) == 0) return;
    sched::spinlock_lock lk(lock_);
    if (state_.compare_exchange_strong(s, s + 1, std::memory_order_acq_rel)) {
      waiter_node node{sched::waiter::self(), waiters_};
      waiters_ = &node;
      sched::park(lk, "wait_group wait");
      return;
    }
  }
}

}  // namespace rt
