// rt/groups.hpp — the registries of rtbench's groups, one .cpp each here (foundation,
// coordination with the million bench, hub); ../rtbench.cpp's main() runs them in this
// order. Each is a constant table, so it is complete before any static initialiser runs.
// Also the measurements two groups share: spawn_join_ns, idle_cpu_percent.
#pragma once

#include <chrono>
#include <span>

#include "../bench_util.hpp"

namespace rt_bench {

extern const std::span<const benchmark> foundation;
extern const std::span<const benchmark> coordination;
extern const std::span<const benchmark> hub;

// spawn_join_ns: n goroutines that each bump a counter, joined by one wait_group; ns per
// goroutine from the first spawn to the join. Parks; fails loudly on a lost goroutine.
// foundation.cpp's spawn_join and hub.cpp's clone_cost rounds.
double spawn_join_ns(long n);

// idle_cpu_percent: `sleepers` goroutines each asleep for `sleep`; once all have started
// (+ 20 ms for the last ones to park), the CPU the process uses (user + system, all
// threads) during `window` of that sleep, in percent of one core. The caller sleeps too.
// Parks; returns after every sleeper has woken. foundation.cpp's idle_cpu and
// coordination.cpp's timers_idle_cpu (../go's idleCPUPercent is the twin).
double idle_cpu_percent(int sleepers, std::chrono::milliseconds sleep,
                        std::chrono::milliseconds window);

}  // namespace rt_bench
