// rtbench — rt's side of every benchmark, one per invocation:
//   rtbench list               the registry: `name group size tags about`, one a line
//   rtbench <name> [-n N]      run one; -n overrides its size for quick checks
// The benchmarks live in rt/ (foundation.cpp, coordination.cpp, hub.cpp), each group a
// registry table (rt/groups.hpp); this file joins them and hands them to bench_main
// (bench_util.hpp), which runs the chosen one inside rt::run. Each prints `RESULT
// name=<result> impl=rt value=<v> unit=<u>`, the lines of its twins in go/ and
// boostfiber/bfbench.cpp. Worker threads: GOMAXPROCS, as in Go. Only rt's public API.
#include <vector>

#include <rt/rt.hpp>

#include "rt/groups.hpp"

int main(int argc, char** argv) {
  std::vector<rt_bench::benchmark> all;
  for (auto group : {rt_bench::foundation, rt_bench::coordination, rt_bench::hub}) {
    all.insert(all.end(), group.begin(), group.end());
  }
  return rt_bench::bench_main(argc, argv, all, [](auto fn) { return rt::run(fn); });
}
