// rt/coordination.cpp — rtbench's coordination group (issue 3) and the million bench:
// pingpong_unbuf, chan_buf1024, mutex_counter, select4, parked_memory(_1m), timers,
// million, and their registry entries. Each prints `RESULT name=<bench> impl=rt value=<v>
// unit=<u>`, the line of its twins in ../go/coordination.go (and ../boostfiber/bfbench.cpp
// for the first three), which do the same work with the same timed regions.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include <rt/rt.hpp>

#include "groups.hpp"

namespace {

using rt_bench::clk;
using rt_bench::cpu_seconds;
using rt_bench::fail;
using rt_bench::ns_since;
using rt_bench::result;
using rt_bench::rss_bytes;

// pingpong_unbuf: a driver sends i on `ping`, an echo goroutine sends it back on `pong`.
void bench_pingpong(long n) {
  auto ping = rt::make_chan<long>();
  auto pong = rt::make_chan<long>();
  rt::wait_group wg;
  long sum = 0;
  auto t0 = clk::now();
  wg.go([=] {
    for (long v : ping) pong.send(v);
  });
  wg.go([=, &sum] {
    for (long i = 0; i < n; ++i) {
      ping.send(i);
      sum += *pong.recv();
    }
    ping.close();
  });
  wg.wait();
  double ns = ns_since(t0);
  if (sum != n * (n - 1) / 2) fail("pingpong sum " + std::to_string(sum));
  result("pingpong_unbuf", ns / static_cast<double>(n), "ns/op");
}

// chan_buf1024: one producer, one consumer, capacity 1024.
void bench_buffered(long n) {
  auto ch = rt::make_chan<long>(1024);
  rt::wait_group wg;
  long sum = 0;
  auto t0 = clk::now();
  wg.go([=] {
    for (long i = 0; i < n; ++i) ch.send(i);
    ch.close();
  });
  wg.go([=, &sum] {
    for (long v : ch) sum += v;
  });
  wg.wait();
  double ns = ns_since(t0);
  if (sum != n * (n - 1) / 2) fail("buffered sum " + std::to_string(sum));
  result("chan_buf1024", ns / static_cast<double>(n), "ns/op");
}

// mutex_counter: 1000 goroutines x n/1000 increments of one counter under one mutex.
void bench_mutex(int tasks, int iters) {
  rt::mutex mu;
  long counter = 0;  // guarded by mu
  rt::wait_group wg;
  auto t0 = clk::now();
  for (int t = 0; t < tasks; ++t) {
    wg.go([&] {
      for (int i = 0; i < iters; ++i) {
        std::lock_guard lk(mu);
        ++counter;
      }
    });
  }
  wg.wait();
  double ns = ns_since(t0);
  if (counter != long{tasks} * iters) fail("mutex counter " + std::to_string(counter));
  result("mutex_counter", ns / (static_cast<double>(tasks) * iters), "ns/op");
}

// select4: four producers, each on its own unbuffered channel; one consumer selects over
// the four channels until it has received all n values.
void bench_select4(long n) {
  rt::chan<long> chans[4] = {rt::make_chan<long>(), rt::make_chan<long>(), rt::make_chan<long>(),
                             rt::make_chan<long>()};
  rt::wait_group wg;
  long sum = 0;
  auto t0 = clk::now();
  for (int p = 0; p < 4; ++p) {
    wg.go(
        [n, ch = chans[p]](long first) {
          for (long v = first; v < n; v += 4) ch.send(v);
        },
        long{p});
  }
  wg.go([&] {
    auto add = [&sum](std::optional<long> v) { sum += *v; };
    for (long i = 0; i < n; ++i) {
      rt::select(rt::case_recv(chans[0], add), rt::case_recv(chans[1], add),
                 rt::case_recv(chans[2], add), rt::case_recv(chans[3], add));
    }
  });
  wg.wait();
  double ns = ns_since(t0);
  if (sum != n * (n - 1) / 2) fail("select4 sum " + std::to_string(sum));
  result("select4", ns / static_cast<double>(n), "ns/op");
}

// parked_memory: n goroutines parked on one channel; bytes of RSS per goroutine, measured
// exactly as the Go twin does (RSS before spawning, RSS once all are parked + 20 ms).
void bench_parked(long n) {
  long before = rss_bytes();
  auto ch = rt::make_chan<int>();
  std::atomic<long> parked{0};
  rt::wait_group wg;
  auto t0 = clk::now();
  wg.add(static_cast<int>(n));
  for (long i = 0; i < n; ++i) {
    rt::go([&wg, &parked, ch] {
      parked.fetch_add(1);
      ch.recv();
      wg.done();
    });
  }
  while (parked.load() < n) rt::sleep_for(std::chrono::milliseconds(1));
  rt::sleep_for(std::chrono::milliseconds(20));  // let the last ones actually park
  long after = rss_bytes();
  double spawn_ms = ns_since(t0) / 1e6;
  ch.close();
  wg.wait();
  double total_ms = ns_since(t0) / 1e6;
  std::string name = "parked_memory_" + std::to_string(n);
  result(name, static_cast<double>(after - before) / static_cast<double>(n), "bytes");
  std::fprintf(stderr, "# %s rt: rss_before=%ld rss_after=%ld spawn+park=%.1fms total=%.1fms\n",
               name.c_str(), before, after, spawn_ms, total_ms);
}

// million: 1,000,000 goroutines each parked on one shared unbuffered channel's receive.
// million_spawn_park: from before the first spawn until all have called parked.done(),
// just before their receive (main waits on `parked`); million_rss_parked: the RSS then;
// million_release_join: closing the channel until all have called exited.done() after
// their receive returned; million_rss_after: the RSS then.
void bench_million(long n) {
  constexpr double mib = 1024.0 * 1024.0;
  auto ch = rt::make_chan<int>();
  rt::wait_group parked;
  rt::wait_group exited;
  auto t0 = clk::now();
  parked.add(static_cast<int>(n));
  exited.add(static_cast<int>(n));
  for (long i = 0; i < n; ++i) {
    rt::go([&parked, &exited, ch] {
      parked.done();
      ch.recv();
      exited.done();
    });
  }
  parked.wait();
  double spawn_park_ms = ns_since(t0) / 1e6;
  long rss_parked = rss_bytes();
  auto t1 = clk::now();
  ch.close();
  exited.wait();
  double release_join_ms = ns_since(t1) / 1e6;
  long rss_after = rss_bytes();
  result("million_spawn_park", spawn_park_ms, "ms");
  result("million_rss_parked", static_cast<double>(rss_parked) / mib, "MiB");
  result("million_release_join", release_join_ms, "ms");
  result("million_rss_after", static_cast<double>(rss_after) / mib, "MiB");
}

// splitmix64: the generator both twins use, so each goroutine sleeps the same
// durations on both sides (and seeding one costs nothing on either).
struct splitmix64 {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

// timers: n (100,000) goroutines each sleep a pseudo-random 1-10 ms (splitmix64 seeded with
// the goroutine's number), ten times; wall time in ms and the CPU seconds it took
// (timers_cpu). Then timers_idle_cpu: n goroutines all asleep for 3 s; once all
// are parked, the process's CPU use (user + system, all threads) over 300 ms, in percent
// of one CPU. (With 1 s sleeps the first sleepers woke inside the window on either side:
// spawning 100,000 goroutines on fresh stacks takes most of a second on the 2-core VM,
// page faults mostly.)
void bench_timers(int n, int rounds) {
  rt::wait_group wg;
  const double cpu0 = cpu_seconds();
  auto t0 = clk::now();
  for (int g = 0; g < n; ++g) {
    wg.go(
        [rounds](std::uint64_t seed) {
          splitmix64 rng{seed};
          for (int r = 0; r < rounds; ++r) {
            rt::sleep_for(std::chrono::milliseconds(1 + rng.next() % 10));
          }
        },
        static_cast<std::uint64_t>(g + 1));
  }
  wg.wait();
  result("timers", ns_since(t0) / 1e6, "ms");
  result("timers_cpu", cpu_seconds() - cpu0, "s");

  result("timers_idle_cpu",
         rt_bench::idle_cpu_percent(n, std::chrono::milliseconds(3000),
                                    std::chrono::milliseconds(300)),
         "percent");
}

}  // namespace

namespace rt_bench {

constexpr benchmark coordination_table[] = {
    {"pingpong_unbuf", "coordination", 1000000, "p1",
     "N round trips over two unbuffered channels; ns/op", bench_pingpong},
    {"chan_buf1024", "coordination", 10000000, "p1",
     "N items, one producer, one consumer, capacity 1024; ns/op", bench_buffered},
    {"mutex_counter", "coordination", 1000000, "p1",
     "N increments by 1000 goroutines under one mutex; ns/op",
     [](long n) { bench_mutex(1000, static_cast<int>(n / 1000)); }},
    {"select4", "coordination", 1000000, "p1",
     "N values from 4 producers, one consumer selecting; ns/op", bench_select4},
    {"parked_memory", "coordination", 100000, "-",
     "RSS per goroutine, N parked on one channel; bytes", bench_parked},
    {"parked_memory_1m", "coordination", 1000000, "-", "parked_memory with 1,000,000; bytes",
     bench_parked},
    {"timers", "coordination", 100000, "-",
     "N goroutines sleep 10 random 1-10 ms; ms, s (cpu), percent (idle)",
     [](long n) { bench_timers(static_cast<int>(n), 10); }},
    {"million", "million", 1000000, "-",
     "N goroutines parked on one channel, then released; ms, MiB", bench_million},
};
const std::span<const benchmark> coordination{coordination_table};

}  // namespace rt_bench
