// rt/foundation.cpp — rtbench's foundation group (issue 2): skynet, spawn_join,
// yield_ping, idle_cpu, and their registry entries. Each prints `RESULT name=<bench>
// impl=rt value=<v> unit=<u>`, the line of its twins in ../go/foundation.go and
// ../boostfiber/bfbench.cpp (same workloads, same timed regions), so run.sh puts all three
// in one table.
#include <atomic>
#include <chrono>
#include <string>

#include <rt/rt.hpp>

#include "groups.hpp"

namespace {

using rt_bench::clk;
using rt_bench::cpu_seconds;
using rt_bench::fail;
using rt_bench::ns_since;
using rt_bench::result;

// skynet: a 10-ary tree of goroutines with `leaves` leaves (a power of 10); each node sums its
// children's numbers received over an unbuffered channel.
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

void bench_skynet(long leaves) {
  auto t0 = clk::now();
  auto c = rt::make_chan<long>();
  rt::go(skynet, c, 0L, leaves, 10L);
  long sum = *c.recv();
  double ns = ns_since(t0);
  if (sum != leaves * (leaves - 1) / 2) fail("skynet sum " + std::to_string(sum));
  result("skynet", ns / 1e6, "ms");
}

// spawn_join: rt_bench::spawn_join_ns.
void bench_spawn_join(long n) {
  result("spawn_join", rt_bench::spawn_join_ns(n), "ns/op");
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

// idle_cpu: 10,000 goroutines asleep for 5 s; the CPU the process uses during 4 s of that
// sleep.
void bench_idle_cpu(long) {
  using std::chrono::seconds;
  result("idle_cpu", rt_bench::idle_cpu_percent(10000, seconds(5), seconds(4)), "percent");
}

}  // namespace

namespace rt_bench {

constexpr benchmark foundation_table[] = {
    {"skynet", "foundation", 1000000, "-", "a 10-ary tree of goroutines summing N leaves; ms",
     bench_skynet},
    {"spawn_join", "foundation", 1000000, "peak_rss",
     "N goroutines bump a counter, one wait_group; ns/op", bench_spawn_join},
    {"yield_ping", "foundation", 1000000, "p1", "two goroutines yield N times each; ns/op",
     bench_yield_ping},
    {"idle_cpu", "foundation", 0, "-", "CPU while 10,000 goroutines sleep 5 s; percent",
     bench_idle_cpu},
};
const std::span<const benchmark> foundation{foundation_table};

double spawn_join_ns(long n) {
  rt::wait_group wg;
  std::atomic<long> count{0};
  const auto t0 = clk::now();
  wg.add(static_cast<int>(n));
  for (long i = 0; i < n; ++i) {
    rt::go([&] {
      count.fetch_add(1, std::memory_order_relaxed);
      wg.done();
    });
  }
  wg.wait();
  const double ns = ns_since(t0);
  if (count != n) {
    fail("spawn_join ran " + std::to_string(count.load()) + " of " + std::to_string(n));
  }
  return ns / static_cast<double>(n);
}

double idle_cpu_percent(int sleepers, std::chrono::milliseconds sleep,
                        std::chrono::milliseconds window) {
  rt::wait_group wg;
  std::atomic<int> started{0};
  for (int i = 0; i < sleepers; ++i) {
    wg.go([&started, sleep] {
      started.fetch_add(1);
      rt::sleep_for(sleep);
    });
  }
  while (started.load() < sleepers) rt::sleep_for(std::chrono::milliseconds(1));
  rt::sleep_for(std::chrono::milliseconds(20));  // let the last ones actually park
  const double c0 = cpu_seconds();
  const auto t0 = clk::now();
  rt::sleep_for(window);
  const double used = cpu_seconds() - c0;
  const double wall = ns_since(t0) / 1e9;
  wg.wait();
  return 100.0 * used / wall;
}

}  // namespace rt_bench
