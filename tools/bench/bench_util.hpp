// bench_util.hpp — what every rt benchmark program shares: the RESULT line format of
// the peers in ../shared/peers (so one table holds rt, Go and Boost.Fiber), failing
// loudly on a wrong result, and the clock.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace rt_bench {

using clk = std::chrono::steady_clock;

inline void result(const std::string& name, double value, const char* unit) {
  std::printf("RESULT name=%s impl=rt value=%.3f unit=%s\n", name.c_str(), value, unit);
  std::fflush(stdout);
}

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  std::exit(1);
}

// cpu_seconds returns the user + system CPU time this process has used.
inline double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

inline double ns_since(clk::time_point t0) {
  return std::chrono::duration<double, std::nano>(clk::now() - t0).count();
}

}  // namespace rt_bench
