// demo — rt in one screen: a million goroutines, skynet over channels, a pipeline
// fanned in with select and a timeout, and per-goroutine hubs that never mix tags.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <rt/rt.hpp>

namespace {

using clk = std::chrono::steady_clock;

double ms_since(clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}

void skynet(rt::chan<long> c, long num, long size) {
  if (size == 1) {
    c.send(num);
    return;
  }
  auto rc = rt::make_chan<long>();
  for (long i = 0; i < 10; ++i) rt::go(skynet, rc, num + i * (size / 10), size / 10);
  long sum = 0;
  for (long i = 0; i < 10; ++i) sum += *rc.recv();
  c.send(sum);
}

}  // namespace

int main() {
  return rt::run([] {
    std::printf("rt demo on %d worker threads (GOMAXPROCS)\n\n", rt::gomaxprocs());

    // 1. A million goroutines, joined by one wait_group.
    auto t0 = clk::now();
    rt::wait_group wg;
    std::atomic<long> count{0};
    for (int i = 0; i < 1000000; ++i) wg.go([&count] { count.fetch_add(1); });
    wg.wait();
    std::printf("1. %ld goroutines spawned and joined in %.0f ms\n", count.load(), ms_since(t0));

    // 2. Skynet: a tree of 1,111,111 goroutines summing over unbuffered channels.
    t0 = clk::now();
    auto root = rt::make_chan<long>();
    rt::go(skynet, root, 0L, 1000000L);
    long sum = *root.recv();
    std::printf("2. skynet over 1,000,000 leaves: sum %ld in %.0f ms\n", sum, ms_since(t0));

    // 3. A pipeline: numbers -> 4 squarers -> fan-in with select, with a deadline.
    auto numbers = rt::make_chan<long>(64);
    auto squares = rt::make_chan<long>(64);
    rt::go([numbers] {
      for (long i = 1; i <= 1000; ++i) numbers.send(i);
      numbers.close();
    });
    rt::wait_group squarers;
    for (int w = 0; w < 4; ++w) {
      squarers.go([numbers, squares] {
        for (long v : numbers) squares.send(v * v);
      });
    }
    rt::go([&squarers, squares] {
      squarers.wait();
      squares.close();
    });
    long total = 0;
    bool open = true, late = false;
    auto deadline = rt::after(std::chrono::seconds(5));
    while (open && !late) {
      rt::select(rt::case_recv(squares,
                               [&](std::optional<long> v) {
                                 if (v)
                                   total += *v;
                                 else
                                   open = false;
                               }),
                 rt::case_recv(deadline, [&](auto) { late = true; }));
    }
    std::printf("3. pipeline: sum of squares 1..1000 = %ld%s\n", total, late ? " (timed out)" : "");

    // 4. Hubs: each goroutine tags its own scope; events never carry another's tag.
    auto events = std::make_shared<rt::memory_transport>();
    rt::init_client({.release = "demo@1.0", .transport = events});
    rt::wait_group hubs;
    for (int g = 1; g <= 2; ++g) {
      hubs.go(
          [](int id) {
            rt::configure_scope(
                [id](rt::scope& s) { s.set_tag("secretTag", "go#" + std::to_string(id)); });
            rt::capture_message("Hello from Goroutine! #" + std::to_string(id));
          },
          g);
    }
    hubs.wait();
    for (const auto& ev : events->events()) {
      std::printf("4. event \"%s\" carries secretTag=%s\n", ev.message.c_str(),
                  ev.tags.at("secretTag").c_str());
    }
    std::printf("\n%d goroutine(s) alive at the end of main\n", rt::num_goroutine() - 1);
  });
}
