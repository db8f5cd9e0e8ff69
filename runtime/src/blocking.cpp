// blocking.cpp — the blocking pool behind rt::blocking (rt/blocking.hpp).
//
// Owns: the pool's FIFO of submitted calls and its threads (detached; the pool lives
// for the whole process, so a thread never outlives the state it uses).
// Invariant (under mu): idle counts the threads waiting on cv. A submit wakes one when
// idle >= queued calls, else starts a thread unless 512 run; so a queued call is always
// either covered by an idle thread or taken by a busy one when it finishes.
//
// Wake-up protocol with the parked caller (both sides under call.lock): the caller
// marks itself parked and parks unless the call is done already; the pool thread marks
// the call done and unparks the caller only if it found it parked. park releases the
// lock only once the caller is off its stack, and the pool thread touches the call only
// under that lock: after it unlocks, the caller may return and free the call.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

#include "rt/blocking.hpp"
#include "rt/scheduler/scheduler.hpp"

namespace rt::detail {
namespace {

class blocking_pool {
 public:
  void submit(blocking_call* call) {
    std::lock_guard lk(mu_);
    queue_.push_back(call);
    if (idle_ >= queue_.size()) {
      cv_.notify_one();
      return;
    }
    if (threads_ >= max_threads) return;  // a busy thread takes it when it finishes
    try {
      std::thread(&blocking_pool::loop, this).detach();
    } catch (const std::system_error&) {
      if (threads_ > 0) return;  // no new thread, but a busy one takes it when it finishes
      queue_.pop_back();         // nobody would: the caller gets the error instead
      throw;
    }
    ++threads_;
  }

 private:
  static constexpr std::size_t max_threads = 512;
  static constexpr std::chrono::seconds keep_alive{10};

  void loop() {
    // Known to the deadlock check: it runs only calls that goroutines (parked in "blocking
    // call" meanwhile) or plain threads (unknown to it anyway) hand it.
    sched::count_known_thread(1);
    std::unique_lock lk(mu_);
    for (;;) {
      if (queue_.empty()) {
        ++idle_;
        const bool work = cv_.wait_for(lk, keep_alive, [&] { return !queue_.empty(); });
        --idle_;
        if (!work) break;
      }
      blocking_call* call = queue_.front();
      queue_.pop_front();
      lk.unlock();
      call->invoke(call);
      complete(*call);
      lk.lock();
    }
    --threads_;
    sched::count_known_thread(-1);
  }

  static void complete(blocking_call& call) noexcept {
    sched::spinlock_lock lk(call.lock);
    call.done = true;
    const bool parked = call.parked;
    const sched::waiter who = call.who;
    lk.unlock();  // from here on `call` may be gone
    if (parked) sched::unpark(who);
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<blocking_call*> queue_;  // guarded by mu_
  std::size_t idle_ = 0;              // guarded by mu_
  std::size_t threads_ = 0;           // guarded by mu_
};

blocking_pool& the_blocking_pool() {
  static auto* pool = new blocking_pool;  // never destroyed: detached threads use it
  return *pool;
}

}  // namespace

void run_blocking(blocking_call& call) {
  call.who = sched::waiter::self();
  the_blocking_pool().submit(&call);
  sched::spinlock_lock lk(call.lock);
  if (call.done) return;
  call.parked = true;
  sched::park(lk, "blocking call");
}

}  // namespace rt::detail
