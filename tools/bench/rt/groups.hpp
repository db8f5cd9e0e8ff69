// rt/groups.hpp — the registries of rtbench's groups, one .cpp each here (foundation,
// coordination with the million bench, hub); ../rtbench.cpp's main() runs them in this
// order. Each is a constant table, so it is complete before any static initialiser runs.
#pragma once

#include <span>

#include "../bench_util.hpp"

namespace rt_bench {

extern const std::span<const benchmark> foundation;
extern const std::span<const benchmark> coordination;
extern const std::span<const benchmark> hub;

}  // namespace rt_bench
