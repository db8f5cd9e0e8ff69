// rt/hub/scope.hpp — rt::scope, the contextual data applied to every event captured
// through it (sentry-go's Scope).
//
// Example:
//   rt::configure_scope([](rt::scope& s) {
//     s.set_tag("region", "eu");
//     s.set_user({.id = "42"});
//   });
//
// Owns: tags, extras, contexts, user, fingerprint, level, transaction name, breadcrumbs and
// event processors, and the merge of them into an event (apply_to_event).
// Invariant: a scope behaves exactly like a deep copy of its data, yet copying it is O(1):
// the data is an immutable snapshot shared by copies (copy-on-write). A writer that shares
// its snapshot copies it first (only the part it changes, breadcrumbs by pointer), so no
// copy ever observes another's writes, in either direction.
//
// Thread safety: every member may be called concurrently from several goroutines/threads
// (each takes the scope's own short lock; none parks). No lock is held while user code
// (an event processor) runs, so a processor may call back into the same scope.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rt/hub/event.hpp"

namespace rt {

class hub;
namespace detail {
struct scope_data;
}

// An event processor returns the (possibly changed) event, or std::nullopt to drop it.
using event_processor = std::function<std::optional<event>(event, const event_hint&)>;

class scope {
 public:
  // Breadcrumbs a scope keeps when no client says otherwise.
  static constexpr int default_max_breadcrumbs = 100;

  scope() = default;
  // Copies share the snapshot; the first write on either side copies what it changes.
  scope(const scope& other);
  scope& operator=(const scope& other);
  ~scope();

  // Setters. None blocks or parks; they throw only std::bad_alloc, except set_context.
  void set_tag(std::string key, std::string value);
  void set_tags(const std::map<std::string, std::string>& tags);  // merges: overwrites given keys
  void remove_tag(const std::string& key);                        // a missing key is a no-op
  void set_extra(std::string key, json value);
  void set_extras(const std::map<std::string, json>& extras);
  void remove_extra(const std::string& key);
  // set_context replaces the whole context under `key`. Throws std::invalid_argument
  // ("rt::scope::set_context: context \"<key>\" must be a JSON object, not <type>") for a
  // non-object.
  void set_context(std::string key, json context);
  // set_contexts merges at the top level (set_context for each entry, same check).
  void set_contexts(const std::map<std::string, json>& contexts);
  void remove_context(const std::string& key);
  void set_user(rt::user user);                    // replaces the whole user
  void set_level(std::optional<rt::level> level);  // std::nullopt unsets it
  void set_fingerprint(std::vector<std::string> fingerprint);
  void set_transaction(std::string name);
  // add_breadcrumb stores `b` (timestamp set to now when unset), then keeps only the
  // newest `limit` breadcrumbs. Bypasses the client's before_breadcrumb; use
  // hub::add_breadcrumb for the full rules.
  void add_breadcrumb(breadcrumb b, int limit = default_max_breadcrumbs);
  void clear_breadcrumbs();
  void add_event_processor(event_processor processor);  // runs after the inherited ones
  // clear resets every field, event processors included, to a fresh scope's.
  void clear();

  // Getters return copies, never references into the shared state.
  std::map<std::string, std::string> tags() const;
  std::map<std::string, json> extras() const;
  std::map<std::string, json> contexts() const;
  rt::user user() const;
  std::vector<std::string> fingerprint() const;
  std::optional<rt::level> level() const;
  std::string transaction() const;
  std::vector<breadcrumb> breadcrumbs() const;
  std::size_t event_processor_count() const;

  // apply_to_event merges this scope into `ev` (as sentry-go's Scope.ApplyToEvent: scope wins for
  // tags, extras, level, transaction; the event wins for contexts, user, fingerprint; breadcrumbs
  // are the event's then the scope's), then runs the event processors in order, outside the lock.
  // Returns std::nullopt when a processor dropped the event. Throws what a processor throws.
  std::optional<event> apply_to_event(event ev, const event_hint& hint) const;
  // apply_to is apply_to_event in place (what the client uses: no event moves unless a
  // processor runs). Returns false when a processor dropped the event; `ev` is then
  // unspecified.
  bool apply_to(event& ev, const event_hint& hint) const;

 private:
  friend class hub;
  using data_ptr = std::shared_ptr<const detail::scope_data>;
  explicit scope(data_ptr data);
  data_ptr snapshot() const;  // the current snapshot (O(1), shared)
  bool holds(const detail::scope_data* data) const;
  detail::scope_data& writable();  // unshares the snapshot; requires mu_ held
  void changed() noexcept;         // tells the hub holding this scope; requires mu_ held

  mutable std::mutex mu_;
  data_ptr data_;  // guarded by mu_; null = empty. Immutable while shared (use_count > 1).
  // The change stamp of the hub whose layer this scope is (null for any other scope): set
  // by that hub before the scope is reachable, bumped by every change of data_. The hub
  // outlives its layers' scopes.
  std::atomic<std::uint64_t>* stamp_ = nullptr;
};

}  // namespace rt
