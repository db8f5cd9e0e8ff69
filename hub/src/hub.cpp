// hub.cpp — rt::hub (rt/hub/hub.hpp), the per-goroutine hub slot, the root hub and the
// panic observer.
//
// Owns: the task-local slot holding each goroutine's hub, and the spawn snapshots.
//
// How a child gets its hub (the spawn path must cost a few ns: the README's
// hub clone benchmark):
//   1. go() calls hub_slot::clone in the parent. A parent whose hub is materialised hands
//      out its cached spawn snapshot {client, scope data} with one more reference. While
//      the hub's stamp is what it was when the snapshot was last known current, nothing a
//      child would see has changed (every change bumps the stamp first: push, pop, bind,
//      and any write to a layer's scope), so the snapshot is handed out without a lock:
//      one atomic increment. Otherwise spawn_snapshot checks under the lock and rebuilds
//      it (one allocation) only when the top layer really changed, by pointer identity:
//      the cached snapshot owns a reference to the scope data, so any later write to that
//      scope must copy it first (copy-on-write) and the data pointer changes.
//   2. A parent that still holds an unmaterialised snapshot passes that same snapshot on.
//   3. The child's slot holds the snapshot, tagged in the low pointer bit, until the child
//      first calls current_hub(): then it builds its hub from the snapshot (an O(1) scope
//      copy) and drops the reference.
// Invariant: a slot value is null, a hub* the goroutine owns, or a tagged hub_snapshot*
// holding one reference. A snapshot is immutable; it dies with its last reference.
#include <atomic>
#include <cstdint>

#include "internal.hpp"
#include "rt/hub/hub.hpp"
#include "rt/runtime.hpp"
#include "rt/task_local.hpp"
#include "scope_data.hpp"

namespace rt {
namespace detail {

struct hub_snapshot {
  std::atomic<long> refs{1};
  const std::shared_ptr<rt::client> client;
  const std::shared_ptr<const scope_data> data;

  hub_snapshot(std::shared_ptr<rt::client> c, std::shared_ptr<const scope_data> d)
      : client(std::move(c)), data(std::move(d)) {}
  // retain: the caller already holds a reference, so relaxed suffices (as shared_ptr).
  void retain() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  // release: acq_rel so the last owner's delete happens after every other owner's reads.
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
};

struct hub_slot {
  static constexpr std::uintptr_t snapshot_tag = 1;

  static bool is_snapshot(void* v) noexcept {
    return (reinterpret_cast<std::uintptr_t>(v) & snapshot_tag) != 0;
  }
  static hub_snapshot* as_snapshot(void* v) noexcept {
    return reinterpret_cast<hub_snapshot*>(reinterpret_cast<std::uintptr_t>(v) & ~snapshot_tag);
  }
  static void* tagged(hub_snapshot* s) noexcept {
    return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(s) | snapshot_tag);
  }

  // Runs in the parent inside go(): steps 1 and 2 above.
  static void* clone(void* parent) {
    if (is_snapshot(parent)) {
      as_snapshot(parent)->retain();
      return parent;
    }
    return tagged(static_cast<hub*>(parent)->owner_spawn_snapshot());
  }

  // Runs in the goroutine (or thread) that ends.
  static void destroy(void* v) {
    if (is_snapshot(v)) {
      as_snapshot(v)->release();
    } else {
      delete static_cast<hub*>(v);
    }
  }

  static int index() {
    static const int slot = register_task_local({.clone = &clone, .destroy = &destroy});
    return slot;
  }

  static hub& root() {
    static hub* const r = new hub();  // never destroyed: threads may outlive static destructors
    return *r;
  }

  // Step 3: the calling goroutine's (or thread's) hub, materialised on first use.
  static hub& current() {
    void*& v = task_local_value(index());
    if (v == nullptr) {
      hub_snapshot* s = root().spawn_snapshot();
      v = tagged(s);
    }
    if (is_snapshot(v)) {
      hub_snapshot* s = as_snapshot(v);
      v = new hub(*s);
      s->release();
    }
    return *static_cast<hub*>(v);
  }
};

namespace {

// Captures a panicking goroutine's exception on its own hub, then flushes (bounded, Go's
// customary 2 s) because the runtime may end the process right after the observers.
void capture_panic(std::exception_ptr e) {
  hub& h = hub_slot::current();
  if (!h.client()) return;
  h.recover(e);
  h.flush(std::chrono::seconds(2));
}

}  // namespace

void install_panic_observer() {
  static std::once_flag once;
  std::call_once(once, [] { add_panic_observer(&capture_panic); });
}

}  // namespace detail

hub::hub(std::shared_ptr<rt::client> client, rt::scope scope) {
  auto s = std::make_shared<rt::scope>(std::move(scope));
  watch(*s);
  stack_.push_back({std::move(client), std::move(s)});
}

hub::hub(const detail::hub_snapshot& from) {
  std::shared_ptr<rt::scope> s(new rt::scope(from.data));
  watch(*s);
  stack_.push_back({from.client, std::move(s)});
}

void hub::watch(rt::scope& s) {
  s.stamp_ = &stamp_;  // before `s` is reachable by anyone else
}

hub::~hub() {
  if (spawned_) spawned_->release();
}

detail::hub_snapshot* hub::owner_spawn_snapshot() const {
  if (spawned_ != nullptr && stamp_.load(std::memory_order_acquire) == spawned_stamp_) {
    spawned_->retain();
    return spawned_;
  }
  return spawn_snapshot();
}

detail::hub_snapshot* hub::spawn_snapshot() const {
  std::lock_guard lk(mu_);
  // Read before the layer: a change made after this point bumps the stamp again.
  spawned_stamp_ = stamp_.load(std::memory_order_acquire);
  const layer& t = stack_.back();
  if (!spawned_ || spawned_->client != t.client || !t.scope->holds(spawned_->data.get())) {
    auto* fresh = new detail::hub_snapshot(t.client, t.scope->snapshot());
    if (spawned_) spawned_->release();
    spawned_ = fresh;
  }
  spawned_->retain();
  return spawned_;
}

hub::layer hub::top() const {
  std::lock_guard lk(mu_);
  return stack_.back();
}

void hub::remember(const std::string& id) {
  if (id.empty()) return;
  std::lock_guard lk(mu_);
  last_event_id_ = id;
}

std::shared_ptr<hub> hub::clone() const {
  layer t = top();
  return std::make_shared<hub>(t.client, *t.scope);
}

std::shared_ptr<rt::client> hub::client() const {
  return top().client;
}

rt::scope& hub::scope() {
  std::lock_guard lk(mu_);
  return *stack_.back().scope;
}

rt::scope& hub::push_scope() {
  layer t = top();
  auto pushed = std::make_shared<rt::scope>(*t.scope);  // O(1): shares the snapshot
  watch(*pushed);
  std::lock_guard lk(mu_);
  stamp_.fetch_add(1, std::memory_order_release);
  stack_.push_back({std::move(t.client), pushed});
  return *pushed;
}

void hub::pop_scope() {
  layer popped;  // destroyed after the lock is released
  std::lock_guard lk(mu_);
  if (stack_.size() > 1) {
    stamp_.fetch_add(1, std::memory_order_release);
    popped = std::move(stack_.back());
    stack_.pop_back();
  }
}

void hub::bind_client(std::shared_ptr<rt::client> client) {
  std::lock_guard lk(mu_);
  stamp_.fetch_add(1, std::memory_order_release);
  stack_.back().client.swap(client);  // the old client is released after the lock
}

std::string hub::capture_message(std::string_view message, level lvl) {
  layer t = top();
  if (!t.client) return {};
  std::string id = t.client->capture_message(message, lvl, {}, t.scope.get());
  remember(id);
  return id;
}

std::string hub::capture_exception(std::exception_ptr e) {
  layer t = top();
  if (!t.client) return {};
  std::string id = t.client->capture_exception(e, {.original_exception = e}, t.scope.get());
  remember(id);
  return id;
}

std::string hub::capture_event(event ev) {
  layer t = top();
  if (!t.client) return {};
  std::string id = t.client->capture_event(std::move(ev), {}, t.scope.get());
  remember(id);
  return id;
}

std::string hub::recover(std::exception_ptr e) {
  layer t = top();
  if (!t.client || !e) return {};
  return t.client->recover(e, {.recovered_exception = e}, t.scope.get());
}

void hub::add_breadcrumb(breadcrumb b) {
  layer t = top();
  if (!t.client) {
    t.scope->add_breadcrumb(std::move(b));
    return;
  }
  const client_options& o = t.client->options();
  if (o.max_breadcrumbs < 0) return;
  if (o.before_breadcrumb) {
    std::optional<breadcrumb> kept = o.before_breadcrumb(std::move(b));
    if (!kept) return;
    b = std::move(*kept);
  }
  t.scope->add_breadcrumb(std::move(b), o.max_breadcrumbs);
}

std::string hub::last_event_id() const {
  std::lock_guard lk(mu_);
  return last_event_id_;
}

bool hub::flush_for(std::chrono::nanoseconds timeout) {
  std::shared_ptr<rt::client> c = client();
  return c ? c->flush(timeout) : false;
}

hub& current_hub() {
  return detail::hub_slot::current();
}

std::shared_ptr<client> init_client(client_options options) {
  auto c = std::make_shared<client>(std::move(options));
  detail::hub_slot::root().bind_client(c);
  current_hub().bind_client(c);
  return c;
}

std::string capture_message(std::string_view message, level lvl) {
  return current_hub().capture_message(message, lvl);
}
std::string capture_exception(std::exception_ptr e) {
  return current_hub().capture_exception(e);
}
std::string capture_event(event ev) {
  return current_hub().capture_event(std::move(ev));
}
std::string recover(std::exception_ptr e) {
  return current_hub().recover(e);
}
void add_breadcrumb(breadcrumb b) {
  current_hub().add_breadcrumb(std::move(b));
}
std::string last_event_id() {
  return current_hub().last_event_id();
}

}  // namespace rt
