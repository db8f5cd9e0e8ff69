// rt/hub/hub.hpp — rt::hub, a stack of {client, scope} layers (sentry-go's Hub), every
// goroutine's own hub (rt::current_hub) and the free functions that address it.
//
// Example (the Sentry docs' "INCORRECT" example, correct here: each goroutine has its own
// hub, cloned from its parent's at go(), so each event carries only its own tag):
//   rt::init_client({.release = "app@1.0", .transport = transport});
//   rt::go([] {
//     rt::configure_scope([](rt::scope& s) { s.set_tag("secretTag", "go#1"); });
//     rt::capture_message("Hello from Goroutine! #1");
//   });
//   rt::go([] {
//     rt::configure_scope([](rt::scope& s) { s.set_tag("secretTag", "go#2"); });
//     rt::capture_message("Hello from Goroutine! #2");
//   });
//
// Owns: the layer stack, last_event_id, and the binding of hubs to goroutines through an
// inheritable task-local slot. A child's hub is a snapshot of its parent's top layer taken
// inside go(): O(1), a reference count on an immutable snapshot that is reused while the
// parent's hub does not change; the child builds its hub from it on first use.
// Invariant: the layer stack is never empty; a hub never shares mutable state with another
// hub (scopes are copy-on-write values; only the client is shared, by design).
//
// Thread safety: every hub member may be called concurrently (a short internal lock, never
// held while user code runs); none parks except flush, which parks a goroutine (blocks a
// plain thread) while the transport delivers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rt/hub/client.hpp"
#include "rt/hub/event.hpp"
#include "rt/hub/scope.hpp"

namespace rt {

namespace detail {
struct hub_snapshot;
struct hub_slot;
// to_timeout converts any duration to nanoseconds, saturating instead of overflowing.
template <class Rep, class Period>
std::chrono::nanoseconds to_timeout(std::chrono::duration<Rep, Period> d) {
  using ns = std::chrono::nanoseconds;
  if (d <= d.zero()) return ns::zero();
  if (std::chrono::duration<double, std::nano>(d).count() >= static_cast<double>(ns::max().count()))
    return ns::max();
  return std::chrono::ceil<ns>(d);
}
}  // namespace detail

class hub {
 public:
  // A hub with one layer {client, scope}. A null client disables captures.
  explicit hub(std::shared_ptr<rt::client> client = nullptr, rt::scope scope = {});
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;
  ~hub();

  // clone returns a new hub with one layer: the same client (by identity) and a copy of
  // this hub's top scope; its last_event_id is empty. O(1) (copy-on-write scope).
  std::shared_ptr<hub> clone() const;

  // client returns the top layer's client (may be null). scope returns the top layer's
  // scope itself: writes through it persist. The reference stays valid until that layer
  // is popped.
  std::shared_ptr<rt::client> client() const;
  rt::scope& scope();

  // push_scope pushes a layer {current client, copy of the current scope} and returns
  // its scope. pop_scope removes the top layer unless it is the only one (then no-op).
  rt::scope& push_scope();
  void pop_scope();

  // configure_scope calls f(scope()) synchronously; no lock is held while f runs.
  template <class F>
  void configure_scope(F&& f) {
    std::forward<F>(f)(scope());
  }

  // with_scope pushes a scope, calls f(pushed scope), and pops the top layer when f
  // returns or throws (what f throws propagates). A client bound inside f is discarded.
  template <class F>
  decltype(auto) with_scope(F&& f) {
    struct pop_on_exit {
      hub* h;
      ~pop_on_exit() { h->pop_scope(); }
    } guard{this};
    return std::forward<F>(f)(push_scope());
  }

  // bind_client replaces the client of the top layer only (null disables captures).
  void bind_client(std::shared_ptr<rt::client> client);

  // The captures go through the top layer's client and scope and return the event id, or
  // "" when there is no client or the event was dropped. A returned id also becomes
  // last_event_id (a dropped capture leaves it unchanged). Never park; what user hooks
  // throw propagates.
  std::string capture_message(std::string_view message, level lvl = level::info);
  std::string capture_exception(std::exception_ptr e);
  std::string capture_event(event ev);
  // recover captures a caught exception at level fatal (see client::recover). Null `e`:
  // "" and nothing happens. Like sentry-go, it does not update last_event_id.
  std::string recover(std::exception_ptr e);

  // add_breadcrumb applies the client's rules (sentry-go's Hub.AddBreadcrumb): max_breadcrumbs < 0
  // drops it, before_breadcrumb may change or drop it, then the top scope keeps the newest
  // max_breadcrumbs (100 without a client). Never parks.
  void add_breadcrumb(breadcrumb b);

  // last_event_id returns the id of this hub's last successful capture ("" before one).
  std::string last_event_id() const;

  // flush waits until the client's transport has sent what was captured before the call,
  // at most `timeout` (any std::chrono duration). Parks a goroutine (its worker runs
  // others meanwhile), blocks a plain thread. No client: returns false at once.
  template <class Rep, class Period>
  bool flush(std::chrono::duration<Rep, Period> timeout) {
    return flush_for(detail::to_timeout(timeout));
  }
  bool flush_for(std::chrono::nanoseconds timeout);

 private:
  // The task-local slot (src/hub.cpp) builds a child's hub from the snapshot its parent's
  // spawn_snapshot handed over (one more reference, owned by the caller).
  friend struct detail::hub_slot;
  explicit hub(const detail::hub_snapshot& from);
  // spawn_snapshot: the top layer's snapshot, one more reference; under mu_, any thread.
  // owner_spawn_snapshot: the same for the goroutine (or thread) whose slot holds this
  // hub, the only caller that may replace spawned_: no lock while the stamp is unchanged.
  detail::hub_snapshot* spawn_snapshot() const;
  detail::hub_snapshot* owner_spawn_snapshot() const;
  void watch(rt::scope& s);  // makes a new layer's scope bump stamp_

  struct layer {
    std::shared_ptr<rt::client> client;
    std::shared_ptr<rt::scope> scope;  // shared so a capture keeps it alive across a pop
  };
  layer top() const;
  void remember(const std::string& id);

  mutable std::mutex mu_;
  std::vector<layer> stack_;   // guarded by mu_; never empty
  std::string last_event_id_;  // guarded by mu_
  // Bumped before every change a child's snapshot would see: the top layer's client, which
  // layer is on top, and (through rt::scope::changed) the data of any layer's scope.
  std::atomic<std::uint64_t> stamp_{0};
  // The last spawn snapshot (one reference owned) and stamp_ when it was known current.
  // Written under mu_ by the owner only (the root hub, never a slot's, is not owned).
  mutable detail::hub_snapshot* spawned_ = nullptr;
  mutable std::uint64_t spawned_stamp_ = 0;
};

// current_hub returns the calling goroutine's own hub (outside goroutines: the calling
// thread's). A goroutine's hub starts as the clone of its parent's hub taken at go(); a
// thread's (and a goroutine's whose ancestors never touched theirs) as a clone of the root
// hub at first use. Never parks; the reference is valid until the goroutine/thread ends.
hub& current_hub();

// init_client builds a client from `options` and binds it to the root hub and to the
// calling goroutine's (or thread's) hub, so goroutines spawned afterwards inherit it.
// Hubs cloned before keep their client. Returns the client. Throws rt::dsn_error for a bad
// DSN (then nothing is bound).
std::shared_ptr<client> init_client(client_options options);

// The free functions: the same calls on current_hub().
template <class F>
void configure_scope(F&& f) {
  current_hub().configure_scope(std::forward<F>(f));
}
template <class F>
decltype(auto) with_scope(F&& f) {
  return current_hub().with_scope(std::forward<F>(f));
}
std::string capture_message(std::string_view message, level lvl = level::info);
std::string capture_exception(std::exception_ptr e = std::current_exception());
std::string capture_event(event ev);
std::string recover(std::exception_ptr e = std::current_exception());
void add_breadcrumb(breadcrumb b);
std::string last_event_id();
template <class Rep, class Period>
bool flush(std::chrono::duration<Rep, Period> timeout) {
  return current_hub().flush(timeout);
}

}  // namespace rt
