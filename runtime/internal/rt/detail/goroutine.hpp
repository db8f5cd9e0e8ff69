// rt/detail/goroutine.hpp — internal: the runtime's per-goroutine record.
//
// Owns: what the runtime keeps per goroutine, placed in the payload area of the
// scheduler fiber that runs it (no allocation per spawn).
// Invariant: a record is constructed by go_begin() in the parent and destroyed by the
// goroutine itself when its job ends (or by go_cancel() if it never starts).
#pragma once

#include "rt/detail/job.hpp"
#include "rt/runtime.hpp"
#include "rt/scheduler/scheduler.hpp"
#include "rt/task_local.hpp"

namespace rt::detail {

struct goroutine {
  job work;                            // first member: go_commit finds the record from it
  void* locals[max_task_locals] = {};  // task-local values; see rt/task_local.hpp
  exit_hook on_exit;                   // run last, after the record is destroyed
};
static_assert(sizeof(goroutine) <= sched::fiber::payload_size);
static_assert(offsetof(sched::fiber, payload) == 0);

inline goroutine* record_of(sched::fiber* f) noexcept {
  return std::launder(reinterpret_cast<goroutine*>(f->payload));
}
inline sched::fiber* fiber_of_job(job& j) noexcept {
  return reinterpret_cast<sched::fiber*>(&j);
}

// The calling goroutine's task-local table, or the calling thread's.
void** current_locals() noexcept;

// Clones the caller's task-locals into `into` (clone hooks run here); on a throwing
// hook, destroys what was cloned and rethrows.
void clone_locals(void** into);
// Destroys a table's values through the destroy hooks.
void destroy_locals(void** table) noexcept;

}  // namespace rt::detail
