// rt/context.hpp — rt::context, Go's context package: cancellation and deadlines that
// flow down a tree of contexts.
//
// Example (samples/coordination/worker.cpp):
//   void worker(rt::context ctx, rt::chan<job> jobs) {
//     for (;;) {
//       bool stop = false;
//       rt::select(rt::case_recv(jobs, [&](std::optional<job> j) { if (j) run(*j); else stop =
//       true; }),
//                  rt::case_recv(ctx.done(), [&] { stop = true; }));
//       if (stop) return;
//     }
//   }
//   auto [ctx, cancel] = rt::with_timeout(rt::context::background(), std::chrono::seconds(5));
//   rt::go(worker, ctx, jobs);
//   ...
//   cancel();   // or the deadline passes: worker's ctx.done() is closed either way
//
// Owns: the cheap, copyable rt::context handle and the cancel functions.
// Invariant: a context is cancelled at most once, with the first cause (err() never
// changes afterwards); cancelling one cancels every descendant, never an ancestor; a
// cancelled context is detached from its parent, so a long-lived parent does not
// accumulate finished children. Cancelling or destroying a chain of contexts uses
// bounded stack at any depth. Every call here is safe from any goroutine or thread.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <variant>

#include "rt/chan.hpp"
#include "rt/time.hpp"

namespace rt {

// Why a context was cancelled (Go's context.Canceled and context.DeadlineExceeded).
enum class context_error {
  canceled,           // a cancel function was called (on it or an ancestor)
  deadline_exceeded,  // its deadline (or an ancestor's) passed
};

// to_string gives Go's messages: "context canceled", "context deadline exceeded".
const char* to_string(context_error e) noexcept;

class context;
class cancel_func;

namespace detail {
struct context_node;
// context_children counts the children attached to ctx (for tests of detaching).
std::size_t context_children(const context& ctx) noexcept;
}  // namespace detail

class context {
 public:
  // A default-constructed context is background().
  context() noexcept = default;

  // background is the root: never cancelled, no deadline, done() is a nil channel.
  static context background() noexcept { return {}; }

  // done returns a channel that is closed when this context is cancelled (receiving
  // from it then yields std::nullopt at once); it never carries values. For
  // background() it is a nil channel: never ready in a select, a recv parks forever.
  chan<std::monostate> done() const;

  // err is empty while the context is live, then tells why it was cancelled. Never
  // parks.
  std::optional<context_error> err() const noexcept;

  // deadline is the earliest deadline of this context and its ancestors, if any.
  std::optional<clock::time_point> deadline() const noexcept;

 private:
  friend class cancel_func;
  friend std::pair<context, cancel_func> with_cancel(const context& parent);
  friend std::pair<context, cancel_func> with_deadline(const context& parent,
                                                       clock::time_point deadline);
  friend std::size_t detail::context_children(const context& ctx) noexcept;

  explicit context(std::shared_ptr<detail::context_node> node) noexcept : node_(std::move(node)) {}

  std::shared_ptr<detail::context_node> node_;  // nullptr: background
};

// cancel_func cancels the context it came with (and its descendants) with
// context_error::canceled and detaches it from its parent. Idempotent: later calls, or
// calls after the context was cancelled otherwise, do nothing. Copyable; never parks
// (may briefly wait for a deadline timer that fires at the same moment, or for a
// concurrent cancel of the same context to finish its cascade); never throws.
class cancel_func {
 public:
  void operator()() const noexcept;

 private:
  friend std::pair<context, cancel_func> with_cancel(const context& parent);
  friend std::pair<context, cancel_func> with_deadline(const context& parent,
                                                       clock::time_point deadline);
  explicit cancel_func(std::shared_ptr<detail::context_node> node) noexcept
      : node_(std::move(node)) {}

  std::shared_ptr<detail::context_node> node_;
};

// with_cancel returns a child of parent and the function that cancels it:
//   auto [ctx, cancel] = rt::with_cancel(parent);
// The child is cancelled when cancel() is called or the parent is cancelled, whichever
// comes first (at once if the parent is cancelled already). Call cancel when done with
// the child: until then it stays attached to a cancellable parent (as in Go).
// Throws std::bad_alloc.
std::pair<context, cancel_func> with_cancel(const context& parent);

// with_deadline is with_cancel that also cancels the child with
// context_error::deadline_exceeded at `deadline` (at once if it has passed, never if it
// is clock::time_point::max()). A parent deadline that comes earlier applies unchanged.
// The deadline timer is stopped when the child is cancelled or destroyed. Never parks.
// Throws std::bad_alloc.
std::pair<context, cancel_func> with_deadline(const context& parent, clock::time_point deadline);

// with_timeout is with_deadline(parent, now + timeout), saturating as rt/time.hpp's
// calls do: a timeout too long to represent gives the deadline clock::time_point::max(),
// which never passes; one <= 0 gives now (cancelled at once). Takes any std::chrono
// duration that converts to clock::duration without rounding. Throws std::bad_alloc.
inline std::pair<context, cancel_func> with_timeout(const context& parent,
                                                    clock::duration timeout) {
  return with_deadline(parent, detail::deadline_after(timeout));
}
template <class Rep, class Period>
std::pair<context, cancel_func> with_timeout(const context& parent,
                                             std::chrono::duration<Rep, Period> timeout) {
  return with_timeout(parent, detail::to_clock_duration(timeout));
}

}  // namespace rt
