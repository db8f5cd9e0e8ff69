// diagnostics_internal.hpp — internal: what runtime.cpp hands the scheduler's monitor
// (diagnostics.cpp implements it).
//
// Owns: the hooks' declarations. Invariant: each runs on the monitor thread, never on a
// worker, and only reads the scheduler's state.
#pragma once

#include <cstdint>
#include <string>

#include "rt/diagnostics.hpp"
#include "rt/scheduler/scheduler.hpp"

namespace rt::detail {

// describe symbolises v's creation site; its time in state is counted up to `now` (ns).
goroutine_info describe(const sched::goroutine_view& v, std::int64_t now);
std::string count(std::size_t n);  // "1 goroutine", "3 goroutines"

void report_stuck(const sched::goroutine_view& g, std::int64_t held_ns);
[[noreturn]] void report_deadlock();       // the message, the dump, exit status 2
void report_dump();                        // SIGQUIT
void report_alive(std::uint64_t main_id);  // options::report_leaks: what is left but main

}  // namespace rt::detail
