// rt/hub.cpp — rtbench's hub group, the hub layer's benchmarks, and their registry
// entries:
//   clone_cost      spawn_join of N goroutines (one wait_group) from a parent that never
//                   touched its hub (a plain spawn: no hub work at all), whose hub exists
//                   but is empty, and whose hub has a client bound, 10 tags and 100
//                   breadcrumbs; interleaved rounds in one process; ns per goroutine.
//   capture         capture_message to a counting transport from 8 goroutines, N events
//                   each; events/s (its sentry-go twin: ../go/hub.go).
//   throw_catch     a std::runtime_error thrown 8 calls deep and caught, N times, with
//                   throw-site recording on and off (interleaved rounds); ns per throw.
//   capture_traced  capture_message from one goroutine, N events, with attach_stacktrace
//                   on and off (interleaved); ns per event.
// Each prints `RESULT name=<result> impl=rt value=<v> unit=<u>` (../run.sh adds the ratios).
#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <rt/rt.hpp>

#include "groups.hpp"

namespace {

using rt_bench::clk;
using rt_bench::fail;
using rt_bench::result;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One spawn_join round in a fresh goroutine; `prepare` runs first in it; ns/goroutine.
template <class Prepare>
double spawn_join_round(long n, Prepare prepare) {
  double ns = 0;
  rt::wait_group outer;
  outer.go([&] {
    prepare();
    ns = rt_bench::spawn_join_ns(n);
  });
  outer.wait();
  return ns;
}

void bench_clone_cost(long n) {
  // The main goroutine never touches its hub, so a goroutine it spawns starts without one.
  auto plain = [] {};
  auto empty = [] { rt::current_hub(); };
  auto client = std::make_shared<rt::client>(
      rt::client_options{.transport = std::make_shared<rt::memory_transport>()});
  auto loaded = [&client] {
    rt::hub& h = rt::current_hub();
    h.bind_client(client);
    for (int t = 0; t < 10; ++t) {
      h.scope().set_tag("tag" + std::to_string(t), "value " + std::to_string(t));
    }
    for (int b = 0; b < 100; ++b) {
      h.add_breadcrumb({.category = "bench", .message = "breadcrumb number " + std::to_string(b)});
    }
  };
  spawn_join_round(n / 10, plain);  // warm up stacks and pools
  std::vector<double> p, e, l;
  for (int round = 0; round < 5; ++round) {  // interleaved, so drift hits all alike
    p.push_back(spawn_join_round(n, plain));
    e.push_back(spawn_join_round(n, empty));
    l.push_back(spawn_join_round(n, loaded));
  }
  result("spawn_join_plain", median(p), "ns/op");
  result("spawn_join_hub_empty", median(e), "ns/op");
  result("spawn_join_hub10", median(l), "ns/op");
}

// counting_transport takes each event and drops it, counting under a mutex: what a
// transport that sends and frees does, without the network. The Go twin's transport does
// the same, so neither side measures the growth of a heap that keeps every event.
class counting_transport final : public rt::transport {
 public:
  void send_event(rt::event) override {
    std::lock_guard lk(mu_);
    ++count_;
  }
  bool flush(std::chrono::nanoseconds) override { return true; }
  std::size_t count() const {
    std::lock_guard lk(mu_);
    return count_;
  }

 private:
  mutable std::mutex mu_;
  std::size_t count_ = 0;
};

void bench_capture(long per_goroutine) {
  constexpr int goroutines = 8;
  auto transport = std::make_shared<counting_transport>();
  auto client = std::make_shared<rt::client>(
      rt::client_options{.release = "bench@1", .transport = transport});
  rt::current_hub().bind_client(client);
  // One capture before the clock starts, as the Go twin does: the first one reads the
  // program's debug information for the goroutine context's creation site (~0.2 s).
  rt::capture_message("warm-up");
  rt::wait_group wg;
  const auto t0 = clk::now();
  for (int g = 0; g < goroutines; ++g) {
    wg.go([g, per_goroutine] {
      rt::configure_scope([g](rt::scope& s) { s.set_tag("goroutine", std::to_string(g)); });
      for (long i = 0; i < per_goroutine; ++i) rt::capture_message("benchmark message");
    });
  }
  wg.wait();
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  const std::size_t got = transport->count() - 1;
  if (got != static_cast<std::size_t>(goroutines * per_goroutine))
    fail("capture kept " + std::to_string(got));
  result("capture_message_8g", static_cast<double>(got) / secs, "events/s");
}

// thrower throws from `depth` calls below its first caller (each a real frame).
[[gnu::noinline]] void thrower(int depth) {
  if (depth == 0) throw std::runtime_error("benchmark");
  thrower(depth - 1);
  asm volatile("");  // not a tail call
}

double throw_round(long n) {
  long caught = 0;
  const auto t0 = clk::now();
  for (long i = 0; i < n; ++i) {
    try {
      thrower(8);
    } catch (const std::runtime_error&) {
      ++caught;
    }
    if (i % 1024 == 0) rt::yield();  // a long loop still lets the worker run others
  }
  const double ns = rt_bench::ns_since(t0) / static_cast<double>(n);
  if (caught != n) fail("throw_catch caught " + std::to_string(caught));
  return ns;
}

void bench_throw_catch(long n) {
  const bool was = rt::throw_stacktraces();
  throw_round(n / 10);  // warm up the unwinders' caches
  std::vector<double> on, off;
  for (int round = 0; round < 5; ++round) {
    rt::set_throw_stacktraces(true);
    on.push_back(throw_round(n));
    rt::set_throw_stacktraces(false);
    off.push_back(throw_round(n));
  }
  rt::set_throw_stacktraces(was);
  result("throw_catch_traced", median(on), "ns/op");
  result("throw_catch_plain", median(off), "ns/op");
}

double capture_round(const std::shared_ptr<rt::client>& client, long n) {
  auto& t = static_cast<rt::memory_transport&>(*client->transport());
  t.clear();
  rt::hub h(client);
  const auto t0 = clk::now();
  for (long i = 0; i < n; ++i) {
    h.capture_message("benchmark message");
    if (i % 1024 == 0) rt::yield();
  }
  const double ns = rt_bench::ns_since(t0) / static_cast<double>(n);
  if (t.events().size() != static_cast<std::size_t>(n)) fail("capture_traced lost events");
  return ns;
}

void bench_capture_traced(long n) {
  auto traced = std::make_shared<rt::client>(rt::client_options{
      .attach_stacktrace = true, .transport = std::make_shared<rt::memory_transport>()});
  auto plain = std::make_shared<rt::client>(
      rt::client_options{.transport = std::make_shared<rt::memory_transport>()});
  capture_round(traced, n / 10);  // symbolise the addresses once
  std::vector<double> on, off;
  for (int round = 0; round < 5; ++round) {
    on.push_back(capture_round(traced, n));
    off.push_back(capture_round(plain, n));
  }
  result("capture_message_traced", median(on), "ns/op");
  result("capture_message_plain", median(off), "ns/op");
}

}  // namespace

namespace rt_bench {

constexpr benchmark hub_table[] = {
    {"clone_cost", "hub", 1000000, "-",
     "spawn_join of N from a plain, an empty and a loaded hub; ns/op", bench_clone_cost},
    {"capture", "hub", 25000, "-",
     "capture_message, 8 goroutines x N, counting transport; events/s", bench_capture},
    {"throw_catch", "hub", 200000, "-", "N throws 8 calls deep, throw sites on and off; ns/op",
     bench_throw_catch},
    {"capture_traced", "hub", 20000, "-", "N captures, attach_stacktrace on and off; ns/op",
     bench_capture_traced},
};
const std::span<const benchmark> hub{hub_table};

}  // namespace rt_bench
