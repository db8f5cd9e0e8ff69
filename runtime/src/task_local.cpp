// task_local.cpp — inheritable task-local slots (see rt/task_local.hpp).
//
// Owns: the registry of slot hooks and each plain thread's own table.
// Invariant: slots are only ever added; `registered` is published (release) after the
// hooks of the new slot are written, so a reader that sees n slots sees their hooks.
#include <atomic>
#include <mutex>
#include <stdexcept>

#include "rt/detail/goroutine.hpp"
#include "rt/task_local.hpp"

namespace rt {
namespace {

task_local_hooks hooks[max_task_locals];
std::atomic<int> registered{0};
std::mutex registry_mu;

// A plain thread's table; its values are destroyed when the thread exits.
struct thread_table {
  void* locals[max_task_locals] = {};
  ~thread_table() { detail::destroy_locals(locals); }
};

}  // namespace

int register_task_local(task_local_hooks h) {
  std::lock_guard lk(registry_mu);
  int n = registered.load(std::memory_order_relaxed);
  if (n == max_task_locals) {
    throw std::length_error("rt::register_task_local: all " + std::to_string(max_task_locals) +
                            " task-local slots are taken");
  }
  hooks[n] = h;
  registered.store(n + 1, std::memory_order_release);
  return n;
}

void*& task_local_value(int slot) noexcept {
  return detail::current_locals()[slot];
}

namespace detail {

void** current_locals() noexcept {
  if (sched::fiber* f = sched::current()) return record_of(f)->locals;
  thread_local thread_table table;
  return table.locals;
}

void clone_locals(void** into) {
  const int n = registered.load(std::memory_order_acquire);
  if (n == 0) return;
  void** from = current_locals();
  int i = 0;
  try {
    for (; i < n; ++i) into[i] = from[i] != nullptr ? hooks[i].clone(from[i]) : nullptr;
  } catch (...) {
    for (int k = 0; k < i; ++k) {
      if (into[k] != nullptr) hooks[k].destroy(into[k]);
      into[k] = nullptr;
    }
    throw;
  }
}

void destroy_locals(void** table) noexcept {
  const int n = registered.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    if (void* v = table[i]) {
      table[i] = nullptr;
      hooks[i].destroy(v);
    }
  }
}

}  // namespace detail
}  // namespace rt
