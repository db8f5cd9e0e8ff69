// Stress: select storms. Owns the cases where many goroutines (and plain threads) run
// rt::select over shared channels at once: selectors receiving from shared buffered and
// unbuffered channels fed by producers, selects on both sides (select-send producers
// against select-receive and plain-receive consumers), and selects that mostly time out
// (rt::after) while values arrive. A select parks one waiter per case; a wake-up from
// any one of them must run the selector exactly once. Checks every value is received
// exactly once and every selector ends.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <rt/rt.hpp>

#include "stress.hpp"

namespace {

using rt_stress::tally;

// A selector over four channels until all four are closed and drained: a closed
// channel's case is then replaced by a nil channel (never ready), as in Go.
template <class Mark>
void select_until_closed(std::array<rt::chan<long>, 4> ch, Mark mark) {
  for (;;) {
    int closed = -1;
    auto on = [&](int k) {
      return [&, k](std::optional<long> v) {
        if (v) {
          mark(*v);
        } else {
          closed = k;
        }
      };
    };
    rt::select(rt::case_recv(ch[0], on(0)), rt::case_recv(ch[1], on(1)),
               rt::case_recv(ch[2], on(2)), rt::case_recv(ch[3], on(3)));
    if (closed >= 0) {
      ch[static_cast<std::size_t>(closed)] = rt::chan<long>();
      if (!ch[0] && !ch[1] && !ch[2] && !ch[3]) return;
    }
  }
}

}  // namespace

TEST_CASE("selectors over shared channels, goroutines and plain threads: each value once") {
  const int w = rt::gomaxprocs();
  const int producers = 2 * w, selectors = 3 * w, thread_selectors = 2;
  const long per_producer = rt_stress::scaled(200'000) / producers + 1;
  rt_stress::watchdog wd("select receive storm");
  std::atomic<long> sent{0}, received{0};
  wd.track("values sent", sent);
  wd.track("values received", received);
  tally values(static_cast<std::size_t>(producers * per_producer));
  std::array<rt::chan<long>, 4> ch = {rt::make_chan<long>(), rt::make_chan<long>(),
                                      rt::make_chan<long>(1), rt::make_chan<long>(8)};
  auto mark = [&](long v) {
    values.mark(static_cast<std::size_t>(v));
    received.fetch_add(1, std::memory_order_relaxed);
  };
  rt::wait_group consumers;
  for (int s = 0; s < selectors; ++s) consumers.go([&] { select_until_closed(ch, mark); });
  consumers.go([&] {
    rt_stress::on_plain_threads(thread_selectors, [&](int) { select_until_closed(ch, mark); });
  });
  rt::wait_group prod;
  for (int p = 0; p < producers; ++p) {
    prod.go([&, p] {
      rt_stress::rng r(static_cast<std::uint64_t>(p) + 7);
      for (long k = 0; k < per_producer; ++k) {
        ch[r.below(4)].send(p * per_producer + k);
        sent.fetch_add(1, std::memory_order_relaxed);
        if (r.below(16) == 0) rt::yield();
      }
    });
  }
  wd.stage("producers sending");
  prod.wait();
  for (auto& c : ch) c.close();
  wd.stage("selectors draining after close");
  consumers.wait();
  std::string v = values.verdict();
  CHECK_MESSAGE(v.empty(), v);
}

TEST_CASE("select-send producers against select and plain receivers: each value once") {
  const int w = rt::gomaxprocs();
  const int producers = 2 * w, select_rx = 2 * w, plain_rx = 3;
  const long per_producer = rt_stress::scaled(200'000) / producers + 1;
  rt_stress::watchdog wd("select send storm");
  std::atomic<long> sent{0}, received{0};
  wd.track("values sent", sent);
  wd.track("values received", received);
  tally values(static_cast<std::size_t>(producers * per_producer));
  // Three channels the producers choose among; plain receivers own one each.
  std::array<rt::chan<long>, 4> ch = {rt::make_chan<long>(), rt::make_chan<long>(2),
                                      rt::make_chan<long>(), rt::chan<long>()};
  auto mark = [&](long v) {
    values.mark(static_cast<std::size_t>(v));
    received.fetch_add(1, std::memory_order_relaxed);
  };
  rt::wait_group consumers;
  for (int s = 0; s < select_rx; ++s) consumers.go([&] { select_until_closed(ch, mark); });
  for (int k = 0; k < plain_rx; ++k) {
    consumers.go([&, k] {
      for (long v : ch[static_cast<std::size_t>(k)]) mark(v);
    });
  }
  rt::wait_group prod;
  std::atomic<int> not_one{0};
  for (int p = 0; p < producers; ++p) {
    prod.go([&, p] {
      for (long k = 0; k < per_producer; ++k) {
        long v = p * per_producer + k;
        int ran = 0;
        rt::select(rt::case_send(ch[0], v, [&] { ++ran; }), rt::case_send(ch[1], v, [&] { ++ran; }),
                   rt::case_send(ch[2], v, [&] { ++ran; }));
        if (ran != 1) not_one.fetch_add(1);
        sent.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  wd.stage("producers select-sending");
  prod.wait();
  for (int k = 0; k < 3; ++k) ch[static_cast<std::size_t>(k)].close();
  wd.stage("receivers draining after close");
  consumers.wait();
  CHECK(not_one.load() == 0);
  std::string v = values.verdict();
  CHECK_MESSAGE(v.empty(), v);
}

TEST_CASE("selects that time out while values arrive: each value once, all end") {
  const int w = rt::gomaxprocs();
  const int producers = w + 1, consumers_n = 2 * w + 1;
  const long per_producer = rt_stress::scaled(60'000) / producers + 1;
  rt_stress::watchdog wd("select timeout storm");
  std::atomic<long> received{0}, timeouts{0};
  wd.track("values received", received);
  wd.track("timeouts", timeouts);
  tally values(static_cast<std::size_t>(producers * per_producer));
  auto data = rt::make_chan<long>();  // unbuffered: a finished send was received
  auto done = rt::make_chan<int>();
  rt::wait_group consumers;
  for (int c = 0; c < consumers_n; ++c) {
    consumers.go([&, c] {
      rt_stress::rng r(static_cast<std::uint64_t>(c) + 99);
      for (bool more = true; more;) {
        rt::select(rt::case_recv(data,
                                 [&](std::optional<long> v) {
                                   values.mark(static_cast<std::size_t>(*v));
                                   received.fetch_add(1, std::memory_order_relaxed);
                                 }),
                   rt::case_recv(rt::after(std::chrono::microseconds(r.below(100))),
                                 [&] { timeouts.fetch_add(1, std::memory_order_relaxed); }),
                   rt::case_recv(done, [&] { more = false; }));
      }
    });
  }
  rt::wait_group prod;
  for (int p = 0; p < producers; ++p) {
    prod.go([&, p] {
      for (long k = 0; k < per_producer; ++k) data.send(p * per_producer + k);
    });
  }
  wd.stage("producers sending");
  prod.wait();
  done.close();
  wd.stage("consumers seeing done");
  consumers.wait();
  std::string v = values.verdict();
  CHECK_MESSAGE(v.empty(), v);
}
