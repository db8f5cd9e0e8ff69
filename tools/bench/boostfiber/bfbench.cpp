// bfbench — the raw Boost.Fiber twins of five rt benchmarks (../rt/foundation.cpp and
// ../rt/coordination.cpp): the same workloads, sizes and timed regions, on stock
// boost::fibers::algo::work_stealing over GOMAXPROCS threads (2 when unset: the calling
// thread and one helper), default stacks, fibers launched with launch::post (stealable,
// Go's semantics). Prints `RESULT name=<bench> impl=boostfiber value=<v> unit=<u>`.
//   bfbench list | skynet | spawn_join | pingpong_unbuf | chan_buf1024 | mutex_counter  [-n N]
// -n overrides the size for quick checks, as on rt's side; without it the real sizes apply.
// Its registry and main() are bench_util.hpp's, as rtbench's.
// Links Boost.Fiber only, not rt: the baseline rt is built on.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/fiber/algo/work_stealing.hpp>
#include <boost/fiber/all.hpp>

#define RT_BENCH_IMPL "boostfiber"
#include "../bench_util.hpp"

namespace {

namespace bf = boost::fibers;
using rt_bench::clk;
using rt_bench::fail;
using rt_bench::ns_since;
using rt_bench::result;

// go(fn): a detached fiber any thread of the pool may steal (launch::post).
template <class Fn>
void go(Fn&& fn) {
  bf::fiber(bf::launch::post, std::forward<Fn>(fn)).detach();
}

// wait_group: Go's WaitGroup from an atomic counter and a fiber mutex + condition
// variable, which only the last done() and the waiter touch. The waiter returns only
// after the last done() let go of the mutex, so it may destroy the wait_group at once.
class wait_group {
 public:
  void add(long k) { n_.fetch_add(k, std::memory_order_relaxed); }
  void done() {
    if (n_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::unique_lock lk(mu_);
      zero_ = true;
      cv_.notify_all();
    }
  }
  void wait() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return zero_; });
  }

 private:
  std::atomic<long> n_{0};
  bf::mutex mu_;
  bf::condition_variable cv_;
  bool zero_ = false;  // guarded by mu_
};

// pool: work_stealing on `threads` threads, the calling one included. Every thread must
// install the algorithm itself; the helpers then park their main fiber until the pool
// ends, running the fibers they are given or steal meanwhile.
class pool {
 public:
  explicit pool(unsigned threads) {
    for (unsigned i = 1; i < threads; ++i) {
      helpers_.emplace_back([this, threads] {
        bf::use_scheduling_algorithm<bf::algo::work_stealing>(threads);
        std::unique_lock lk(mu_);
        cv_.wait(lk, [this] { return done_; });
      });
    }
    bf::use_scheduling_algorithm<bf::algo::work_stealing>(threads);
  }
  ~pool() {
    {
      std::unique_lock lk(mu_);
      done_ = true;
    }
    cv_.notify_all();
    for (auto& t : helpers_) t.join();
  }

 private:
  std::vector<std::thread> helpers_;
  bf::mutex mu_;
  bf::condition_variable cv_;
  bool done_ = false;
};

// skynet: a 10-ary tree of fibers; each node sums its children's numbers received over
// an unbuffered channel. Children share the channel by reference count, as rt's handles
// do (a child may still be returning from push() when its parent has its value).
using skynet_chan = std::shared_ptr<bf::unbuffered_channel<long>>;

void skynet(skynet_chan c, long num, long size, long div) {
  if (size == 1) {
    c->push(num);
    return;
  }
  auto rc = std::make_shared<bf::unbuffered_channel<long>>();
  for (long i = 0; i < div; ++i) {
    go([rc, sub = num + i * (size / div), size, div] { skynet(rc, sub, size / div, div); });
  }
  long sum = 0;
  for (long i = 0; i < div; ++i) sum += rc->value_pop();
  c->push(sum);
}

void bench_skynet(long leaves) {
  auto t0 = clk::now();
  auto c = std::make_shared<bf::unbuffered_channel<long>>();
  go([c, leaves] { skynet(c, 0, leaves, 10); });
  long sum = c->value_pop();
  double ns = ns_since(t0);
  if (sum != leaves * (leaves - 1) / 2) fail("skynet sum " + std::to_string(sum));
  result("skynet", ns / 1e6, "ms");
}

// spawn_join: n fibers that each bump a counter, joined by one wait_group.
void bench_spawn_join(long n) {
  wait_group wg;
  std::atomic<long> cnt{0};
  auto t0 = clk::now();
  wg.add(n);
  for (long i = 0; i < n; ++i) {
    go([&] {
      cnt.fetch_add(1, std::memory_order_relaxed);
      wg.done();
    });
  }
  wg.wait();
  double ns = ns_since(t0);
  if (cnt != n) fail("spawn_join count " + std::to_string(cnt.load()));
  result("spawn_join", ns / static_cast<double>(n), "ns/op");
}

// pingpong_unbuf: a driver sends i on `ping`, an echo fiber sends it back on `pong`.
void bench_pingpong(long n) {
  bf::unbuffered_channel<long> ping;
  bf::unbuffered_channel<long> pong;
  wait_group wg;
  long sum = 0;
  auto t0 = clk::now();
  wg.add(2);
  go([&] {
    long v;
    while (ping.pop(v) == bf::channel_op_status::success) pong.push(v);
    wg.done();
  });
  go([&] {
    for (long i = 0; i < n; ++i) {
      ping.push(i);
      sum += pong.value_pop();
    }
    ping.close();
    wg.done();
  });
  wg.wait();
  double ns = ns_since(t0);
  if (sum != n * (n - 1) / 2) fail("pingpong sum " + std::to_string(sum));
  result("pingpong_unbuf", ns / static_cast<double>(n), "ns/op");
}

// chan_buf1024: one producer, one consumer, capacity 1024. Boost's buffered_channel
// wants a power of two and keeps one slot free: 1024 slots hold 1023 items (2048 would
// hold 2047), the nearest it can come to rt's and Go's 1024.
void bench_buffered(long n) {
  bf::buffered_channel<long> ch(1024);
  wait_group wg;
  long sum = 0;
  auto t0 = clk::now();
  wg.add(2);
  go([&] {
    for (long i = 0; i < n; ++i) ch.push(i);
    ch.close();
    wg.done();
  });
  go([&] {
    long v;
    while (ch.pop(v) == bf::channel_op_status::success) sum += v;
    wg.done();
  });
  wg.wait();
  double ns = ns_since(t0);
  if (sum != n * (n - 1) / 2) fail("buffered sum " + std::to_string(sum));
  result("chan_buf1024", ns / static_cast<double>(n), "ns/op");
}

// mutex_counter: 1000 fibers x 1000 increments of one counter under one fiber mutex.
void bench_mutex(long tasks, long iters) {
  bf::mutex mu;
  long counter = 0;  // guarded by mu
  wait_group wg;
  auto t0 = clk::now();
  wg.add(tasks);
  for (long t = 0; t < tasks; ++t) {
    go([&] {
      for (long i = 0; i < iters; ++i) {
        std::lock_guard lk(mu);
        ++counter;
      }
      wg.done();
    });
  }
  wg.wait();
  double ns = ns_since(t0);
  if (counter != tasks * iters) fail("mutex counter " + std::to_string(counter));
  result("mutex_counter", ns / (static_cast<double>(tasks) * static_cast<double>(iters)), "ns/op");
}

// threads: GOMAXPROCS when set (as rt and Go read it), else 2.
unsigned threads() {
  const char* env = std::getenv("GOMAXPROCS");
  if (env == nullptr || *env == '\0') return 2;
  char* end = nullptr;
  long n = std::strtol(env, &end, 10);
  if (*end != '\0' || n < 1 || n > 1024) fail(std::string("bad GOMAXPROCS=") + env);
  return static_cast<unsigned>(n);
}

}  // namespace

int main(int argc, char** argv) {
  static constexpr rt_bench::benchmark registry[] = {
      {"skynet", "foundation", 1000000, "-", "a 10-ary tree of fibers summing N leaves; ms",
       bench_skynet},
      {"spawn_join", "foundation", 1000000, "-", "N fibers bump a counter, one wait_group; ns/op",
       bench_spawn_join},
      {"pingpong_unbuf", "coordination", 1000000, "-",
       "N round trips over two unbuffered channels; ns/op", bench_pingpong},
      {"chan_buf1024", "coordination", 10000000, "-",
       "N items, one producer, one consumer, capacity 1024; ns/op", bench_buffered},
      {"mutex_counter", "coordination", 1000000, "-",
       "N increments by 1000 fibers under one mutex; ns/op",
       [](long n) { bench_mutex(1000, n / 1000); }},
  };
  return rt_bench::bench_main(argc, argv, registry, [](auto fn) {
    pool p(threads());
    fn();
    return 0;
  });
}
