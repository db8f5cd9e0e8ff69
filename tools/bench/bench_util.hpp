// bench_util.hpp — what every C++ benchmark program here shares (rt's rtbench, coordbench
// and hub_bench, and the raw Boost.Fiber twin boostfiber/bfbench.cpp): the RESULT line
// that go/main.go prints too (so run.sh puts rt, Go and Boost.Fiber in one table), failing
// loudly on a wrong result, the clock, CPU time and RSS. Needs no rt header.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

// The impl= of every RESULT line; bfbench defines it as "boostfiber" before including.
#ifndef RT_BENCH_IMPL
#define RT_BENCH_IMPL "rt"
#endif

namespace rt_bench {

using clk = std::chrono::steady_clock;

inline void result(const std::string& name, double value, const char* unit) {
  std::printf("RESULT name=%s impl=%s value=%.3f unit=%s\n", name.c_str(), RT_BENCH_IMPL, value,
              unit);
  std::fflush(stdout);
}

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

// cpu_seconds returns the user + system CPU time this process has used (all threads).
inline double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

inline double ns_since(clk::time_point t0) {
  return std::chrono::duration<double, std::nano>(clk::now() - t0).count();
}

// rss_bytes is the process's resident set: /proc/self/statm's resident pages times the
// page size (go/main.go's rssBytes reads the same).
inline long rss_bytes() {
  long size = 0, resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr || std::fscanf(f, "%ld %ld", &size, &resident) != 2)
    fail("read /proc/self/statm");
  std::fclose(f);
  return resident * ::sysconf(_SC_PAGESIZE);
}

// arg_n returns the value of `-n N` among argv[from..], or 0 when there is none (then the
// benchmark's real size applies). Anything else on the command line is an error.
inline long arg_n(int argc, char** argv, int from) {
  long n = 0;
  for (int i = from; i < argc; ++i) {
    if (std::strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
      n = std::atol(argv[++i]);
      if (n <= 0) fail(std::string("bad -n ") + argv[i]);
    } else {
      fail(std::string("unknown argument ") + argv[i]);
    }
  }
  return n;
}

}  // namespace rt_bench
