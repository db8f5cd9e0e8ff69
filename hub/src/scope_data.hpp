// scope_data.hpp — internal: the immutable snapshot behind rt::scope, and the
// copy-on-write helper (not installed; used by scope.cpp and hub.cpp).
//
// Owns: the field layout of a scope's data. Each field is its own shared, immutable part,
// so a write copies only the part it changes, and breadcrumbs are shared by pointer.
// Invariant: an object reachable from more than one shared_ptr is never written; a writer
// first makes itself the sole owner (unshare), copying when it is not.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rt/hub/scope.hpp"
#include "rt/scheduler/race.hpp"

namespace rt::detail {

template <class T>
using shared = std::shared_ptr<const T>;  // null = the empty value

struct scope_data {
  shared<std::map<std::string, std::string>> tags;
  shared<std::map<std::string, json>> extra;
  shared<std::map<std::string, json>> contexts;
  shared<rt::user> user;
  shared<std::vector<std::string>> fingerprint;
  std::optional<rt::level> level;
  std::string transaction;
  shared<std::vector<std::shared_ptr<const breadcrumb>>> breadcrumbs;  // oldest first
  shared<std::vector<event_processor>> processors;
};

// unshare makes `p` the sole owner of a writable T and returns it: creates an empty T when
// `p` is null, copies *p when others share it. Every T reached here was created non-const
// (make_shared<T>), so writing through the const_cast is defined.
template <class T>
T& unshare(shared<T>& p) {
  if (!p) {
    p = std::make_shared<T>();
  } else if (p.use_count() != 1 || sched::tsan_enabled) {
    p = std::make_shared<T>(*p);
  } else {
    // The last other owner released its reference with a release decrement; this fence
    // (after our read of the count) makes its reads of *p happen before our writes.
    // ThreadSanitizer does not model fences: under it, unshare always copies.
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  return const_cast<T&>(*p);
}

}  // namespace rt::detail
