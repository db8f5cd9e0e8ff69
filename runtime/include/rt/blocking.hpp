// rt/blocking.hpp — rt::blocking: run a call that blocks its thread (a library doing
// its own I/O, a lock from outside rt, a long computation) without blocking a worker.
//
// Example:
//   rt::go([] {
//     CURLcode rc = rt::blocking(curl_easy_perform, handle);   // parks this goroutine only
//     ...
//   });
//
// Owns: the blocking pool, plain threads that run such calls while their goroutines are
// parked (Go hands a worker's P to another thread during a syscall; rt moves the call
// instead). Threads are created on demand, up to 512 at once; a thread idle for 10 s
// exits. Calls beyond 512 wait in FIFO order for a free thread.
// Invariant: the calling goroutine is parked from submission until the call returned
// and its result (or exception) is stored; it is woken exactly once.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "rt/scheduler/park.hpp"

namespace rt {
namespace detail {

// One call handed to the blocking pool. Lives on the parked caller's stack.
struct blocking_call {
  void (*invoke)(blocking_call*) noexcept = nullptr;  // runs the call, stores its outcome
  sched::spinlock lock;                               // guards done and parked
  bool done = false;
  bool parked = false;
  sched::waiter who;
};

// run_blocking submits `call` to the pool and parks the caller until it has run.
void run_blocking(blocking_call& call);

template <class R>
struct blocking_result {
  std::optional<R> value;
  template <class Fn>
  void set(Fn& fn) {
    value.emplace(fn());
  }
  R take() { return std::move(*value); }
};
template <class R>
struct blocking_result<R&> {
  R* ptr = nullptr;
  template <class Fn>
  void set(Fn& fn) {
    ptr = &fn();
  }
  R& take() { return *ptr; }
};
template <>
struct blocking_result<void> {
  template <class Fn>
  void set(Fn& fn) {
    fn();
  }
  void take() {}
};

template <class R, class Fn>
struct blocking_job final : blocking_call {
  explicit blocking_job(Fn& f) : fn(f) { invoke = &run; }
  static void run(blocking_call* c) noexcept {
    auto* self = static_cast<blocking_job*>(c);
    try {
      self->result.set(self->fn);
    } catch (...) {
      self->error = std::current_exception();
    }
  }
  Fn& fn;
  blocking_result<R> result;
  std::exception_ptr error;
};

}  // namespace detail

// blocking calls f(args...) and returns its result (or rethrows its exception).
// In a goroutine: f runs on a thread of the blocking pool while the goroutine parks, so
// the worker runs other goroutines meanwhile. f is then on a plain thread: rt calls in it
// block that thread instead of parking. On a plain thread: f runs right there. Arguments
// are passed by reference, not copied: they live on the parked caller's stack until f
// returns. Throws what f throws; std::system_error if no pool thread can be started.
template <class F, class... Args>
std::invoke_result_t<F, Args...> blocking(F&& f, Args&&... args) {
  using R = std::invoke_result_t<F, Args...>;
  if (sched::current() == nullptr)
    return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
  auto call = [&]() -> R { return std::invoke(std::forward<F>(f), std::forward<Args>(args)...); };
  detail::blocking_job<R, decltype(call)> job(call);
  detail::run_blocking(job);
  if (job.error) std::rethrow_exception(job.error);
  return job.result.take();
}

}  // namespace rt
