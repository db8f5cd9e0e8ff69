// rtbench — rt's side of the foundation benchmarks (issue 2), one per invocation:
//   rtbench skynet | spawn_join | yield_ping | idle_cpu
// Each prints `RESULT name=<bench> impl=rt value=<v> unit=<u>` like the Go and Boost.Fiber
// peers in ../shared/peers, so run.sh can put all three in one table.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <rt/rt.hpp>

#include "bench_util.hpp"

namespace {

using rt_bench::clk;
using rt_bench::cpu_seconds;
using rt_bench::fail;
using rt_bench::ns_since;
using rt_bench::result;

// skynet: a 10-ary tree of goroutines, 1,000,000 leaves; each node sums its children's
// numbers received over an unbuffered channel (Go's version in ../shared/peers).
void skynet(rt::chan<long> c, long num, long size, long div) {
  if (size == 1) {
    c.send(num);
    return;
  }
  auto rc = rt::make_chan<long>();
  for (long i = 0; i < div; ++i) rt::go(skynet, rc, num + i * (size / div), size / div, div);
  long sum = 0;
  for (long i = 0; i < div; ++i) sum += *rc.recv();
  c.send(sum);
}

void bench_skynet() {
  auto t0 = clk::now();
  auto c = rt::make_chan<long>();
  rt::go(skynet, c, 0L, 1000000L, 10L);
  long sum = *c.recv();
  double ns = ns_since(t0);
  if (sum != 499999500000L) fail("skynet sum " + std::to_string(sum));
  result("skynet", ns / 1e6, "ms");
}

// spawn_join: 1,000,000 goroutines that each bump a counter, joined by one wait_group.
void bench_spawn_join(long n) {
  rt::wait_group wg;
  std::atomic<long> cnt{0};
  auto t0 = clk::now();
  wg.add(static_cast<int>(n));
  for (long i = 0; i < n; ++i) {
    rt::go([&] {
      cnt.fetch_add(1, std::memory_order_relaxed);
      wg.done();
    });
  }
  wg.wait();
  double ns = ns_since(t0);
  if (cnt != n) fail("spawn_join count " + std::to_string(cnt.load()));
  result("spawn_join", ns / n, "ns/op");
}

// yield_ping: two goroutines each yielding n times; ns per yield.
void bench_yield_ping(long n) {
  rt::wait_group wg;
  auto t0 = clk::now();
  for (int g = 0; g < 2; ++g) {
    wg.go([n] {
      for (long i = 0; i < n; ++i) rt::yield();
    });
  }
  wg.wait();
  result("yield_ping", ns_since(t0) / (2.0 * n), "ns/op");
}

// idle_cpu: 10,000 goroutines asleep for 5 s; the CPU the process uses during 4 s of
// that sleep (main sleeps too), % of one core.
void bench_idle_cpu() {
  rt::wait_group wg;
  for (int i = 0; i < 10000; ++i) wg.go([] { rt::sleep_for(std::chrono::seconds(5)); });
  double c0 = cpu_seconds();
  auto t0 = clk::now();
  rt::sleep_for(std::chrono::seconds(4));
  double used = cpu_seconds() - c0;
  double wall = ns_since(t0) / 1e9;
  wg.wait();
  result("idle_cpu", 100.0 * used / wall, "pct_core");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: rtbench skynet|spawn_join|yield_ping|idle_cpu [n]");
  std::string bench = argv[1];
  long n = argc > 2 ? std::atol(argv[2]) : 0;
  return rt::run([&] {
    if (bench == "skynet") {
      bench_skynet();
    } else if (bench == "spawn_join") {
      bench_spawn_join(n > 0 ? n : 1000000);
    } else if (bench == "yield_ping") {
      bench_yield_ping(n > 0 ? n : 1000000);
    } else if (bench == "idle_cpu") {
      bench_idle_cpu();
    } else {
      fail("unknown bench " + bench);
    }
  });
}
