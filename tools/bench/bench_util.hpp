// bench_util.hpp — what both C++ benchmark programs here share (rt's rtbench and the raw
// Boost.Fiber twin boostfiber/bfbench.cpp): the registry entry and the one main() that lists
// and runs them (`<prog> list`, `<prog> <name> [-n N]`), the RESULT line that go/ prints too
// (so run.sh puts rt, Go and Boost.Fiber in one table), failing loudly on a wrong result,
// the clock, CPU time and RSS. Needs no rt header.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
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

// benchmark: one entry of a program's registry. go/main.go's registry has the same fields
// and `list` prints them the same way, so run.sh reads all three programs' lists alike.
struct benchmark {
  const char* name;   // the command-line name (run.sh's ONLY= name)
  const char* group;  // foundation, coordination, hub (net: Go's only); ONLY= takes it too
  long size;          // the real size, which -n overrides; 0: the benchmark has none
  const char* tags;   // for run.sh, comma-separated, "-" for none: p1 (run again at
                      // GOMAXPROCS=1), peak_rss (report the process's peak RSS too)
  const char* about;  // one line
  void (*run)(long n);
};

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

// bench_main is the programs' main(): `<prog> list` prints the registry, one benchmark a
// line as `name group size tags about`; `<prog> <name> [-n N]` runs that benchmark at size
// N (default: its real size) inside `in`, the program's runtime (rt::run, or bfbench's
// fiber pool), which is given a void() callable.
template <class In>
int bench_main(int argc, char** argv, std::span<const benchmark> registry, In in) {
  const std::string prog = argc > 0 ? argv[0] : "bench";
  if (argc < 2) fail("usage: " + prog + " list | <benchmark> [-n N]");
  const std::string name = argv[1];
  if (name == "list") {
    if (argc > 2) fail("usage: " + prog + " list");
    for (const benchmark& b : registry) {
      std::printf("%s %s %ld %s %s\n", b.name, b.group, b.size, b.tags, b.about);
    }
    return 0;
  }
  for (const benchmark& b : registry) {
    if (name != b.name) continue;
    const long n = arg_n(argc, argv, 2);
    if (n > 0 && b.size == 0) fail(name + " has no size to override");
    const long size = n > 0 ? n : b.size;
    return in([&b, size] { b.run(size); });
  }
  fail("unknown benchmark " + name + " (" + prog + " list: the benchmarks)");
}

}  // namespace rt_bench
