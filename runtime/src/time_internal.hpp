// time_internal.hpp — internal to the coordination sources: what time.cpp shares with
// context.cpp.
//
// Owns: need_scheduler(), the one place that makes sure the scheduler's timer heaps
// exist before a timer is started.
// Invariant: after need_scheduler() returns, sched::running() is true (until an
// rt::run that owns the pool returns).
#pragma once

namespace rt::detail {

// need_scheduler starts the default runtime (as a plain-thread rt::go does) when no
// pool runs, so that timers started from a plain thread outside rt::run have heaps.
// Throws what rt::go throws when the pool cannot start.
void need_scheduler();

}  // namespace rt::detail
