// Tests for rt::select: default, readiness, fairness (uniform choice), nil and closed
// channels, exactly-one delivery under contention, timeouts with rt::after, ctx.done(),
// and plain threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <numeric>
#include <optional>
#include <thread>
#include <vector>

#include <rt/rt.hpp>

TEST_CASE("default runs when nothing is ready, and its index is returned") {
  auto a = rt::make_chan<int>();
  auto b = rt::make_chan<int>(1);
  bool ran_default = false;
  std::size_t i = rt::select(rt::case_recv(a, [](std::optional<int>) { FAIL("a was not ready"); }),
                             rt::case_default([&] { ran_default = true; }), rt::case_recv(b));
  CHECK(i == 1);
  CHECK(ran_default);
}

TEST_CASE("a ready receive runs its callback with the value; a send delivers") {
  auto in = rt::make_chan<int>(1);
  auto out = rt::make_chan<int>(1);
  in.send(9);
  std::optional<int> got;
  std::size_t i = rt::select(
      rt::case_recv(in, [&](std::optional<int> v) { got = v; }),
      rt::case_send(rt::make_chan<int>(), 1, [] { FAIL("unbuffered, nobody receives"); }));
  CHECK(i == 0);
  CHECK(got == 9);
  bool sent = false;
  i = rt::select(rt::case_recv(in), rt::case_send(out, 5, [&] { sent = true; }));
  CHECK(i == 1);
  CHECK(sent);
  CHECK(out.recv() == 5);
}

TEST_CASE("a send case moves an lvalue only when it runs") {
  auto full = rt::make_chan<std::unique_ptr<int>>(1);
  full.send(std::make_unique<int>(0));
  auto p = std::make_unique<int>(1);
  std::size_t i = rt::select(rt::case_send(full, p), rt::case_default());
  CHECK(i == 1);
  REQUIRE(p != nullptr);
  CHECK(*p == 1);
  auto room = rt::make_chan<std::unique_ptr<int>>(1);
  i = rt::select(rt::case_send(full, p), rt::case_send(room, p));
  CHECK(i == 1);
  CHECK(p == nullptr);
  CHECK(**room.recv() == 1);
}

TEST_CASE("fairness: each of two ready cases is chosen 45-55% of 100,000 times") {
  auto a = rt::make_chan<int>();
  auto b = rt::make_chan<int>();
  a.close();  // a closed channel is always ready
  b.close();
  int count[2] = {0, 0};
  for (int k = 0; k < 100000; ++k) ++count[rt::select(rt::case_recv(a), rt::case_recv(b))];
  CHECK(count[0] >= 45000);
  CHECK(count[0] <= 55000);
  CHECK(count[0] + count[1] == 100000);

  // Also with buffered values always present, and three cases.
  auto c = rt::make_chan<int>(1), d = rt::make_chan<int>(1), e = rt::make_chan<int>(1);
  c.send(0);
  d.send(0);
  e.send(0);
  std::vector<int> n3(3, 0);
  for (int k = 0; k < 30000; ++k) {
    std::size_t i = rt::select(rt::case_recv(c), rt::case_recv(d), rt::case_recv(e));
    ++n3.at(i);
    (i == 0 ? c : i == 1 ? d : e).send(0);
  }
  for (int x : n3) {
    CHECK(x >= 9000);
    CHECK(x <= 11000);
  }
}

TEST_CASE("nil channels are never ready in a select") {
  rt::chan<int> nil;
  auto ready = rt::make_chan<int>();
  ready.close();
  for (int k = 0; k < 1000; ++k) {
    CHECK(rt::select(rt::case_recv(nil), rt::case_send(nil, 1), rt::case_recv(ready)) == 2);
  }
  CHECK(rt::select(rt::case_recv(nil), rt::case_send(nil, 1), rt::case_default()) == 2);
}

TEST_CASE("closed channels: a receive case gets nullopt, a chosen send case throws") {
  auto ch = rt::make_chan<int>();
  ch.close();
  bool closed = false;
  rt::select(rt::case_recv(ch, [&](std::optional<int> v) { closed = !v; }));
  CHECK(closed);
  CHECK_THROWS_WITH_AS(rt::select(rt::case_send(ch, 1)), "send on closed channel",
                       rt::channel_closed);
}

TEST_CASE("a parked select wakes for the case that becomes ready") {
  for (int round = 0; round < 200; ++round) {
    auto a = rt::make_chan<int>(), b = rt::make_chan<int>();
    rt::go([=] { (round % 2 ? a : b).send(round); });
    std::optional<int> got;
    std::size_t i = rt::select(rt::case_recv(a, [&](std::optional<int> v) { got = v; }),
                               rt::case_recv(b, [&](std::optional<int> v) { got = v; }));
    CHECK(i == (round % 2 ? 0u : 1u));
    CHECK(got == round);
  }
}

TEST_CASE("a parked select on a send case: close throws, a receiver takes the value") {
  auto ch = rt::make_chan<int>();
  rt::wait_group wg;
  wg.go([ch] {
    CHECK_THROWS_AS(rt::select(rt::case_send(ch, 1), rt::case_recv(rt::chan<int>{})),
                    rt::channel_closed);
  });
  ch.close();
  wg.wait();
  auto ch2 = rt::make_chan<int>();
  wg.go([ch2] { CHECK(rt::select(rt::case_recv(rt::chan<int>{}), rt::case_send(ch2, 3)) == 1); });
  CHECK(ch2.recv() == 3);
  wg.wait();
}

TEST_CASE("many selectors on shared channels: every value received exactly once") {
  constexpr int senders = 8, per = 2000, selectors = 8;
  for (std::size_t cap : {0, 3}) {
    auto a = rt::make_chan<int>(cap), b = rt::make_chan<int>(cap);
    auto quit = rt::make_chan<int>();
    rt::wait_group send_wg, sel_wg;
    for (int s = 0; s < senders; ++s) {
      send_wg.go([=] {
        for (int k = 0; k < per; ++k) (k % 2 ? a : b).send(s * per + k);
      });
    }
    std::vector<std::vector<int>> got(selectors);
    for (int r = 0; r < selectors; ++r) {
      sel_wg.go([=, &mine = got[r]] {
        for (bool done = false; !done;) {
          auto take = [&](std::optional<int> v) { mine.push_back(*v); };
          rt::select(rt::case_recv(a, take), rt::case_recv(b, take),
                     rt::case_recv(quit, [&] { done = true; }));
        }
      });
    }
    send_wg.wait();
    // Every send returned: each value was received or, with a buffer, is still queued.
    // Stop the selectors (a select may take quit while values wait: Go's select picks
    // among ready cases at random), then drain what they left in the buffers.
    quit.close();
    sel_wg.wait();
    std::vector<int> all;
    for (auto& g : got) all.insert(all.end(), g.begin(), g.end());
    a.close();
    b.close();
    for (int v : a) all.push_back(v);
    for (int v : b) all.push_back(v);
    std::sort(all.begin(), all.end());
    std::vector<int> want(senders * per);
    std::iota(want.begin(), want.end(), 0);
    CHECK_MESSAGE(all == want, "capacity ", cap);
  }
}

TEST_CASE("selects on both ends: senders and receivers are all selects") {
  constexpr int pairs = 16, per = 1000;
  auto a = rt::make_chan<int>(), b = rt::make_chan<int>();
  std::atomic<long> sum{0};
  rt::wait_group wg;
  for (int p = 0; p < pairs; ++p) {
    wg.go([=] {
      for (int k = 1; k <= per; ++k) rt::select(rt::case_send(a, k), rt::case_send(b, k));
    });
    wg.go([=, &sum] {
      for (int k = 0; k < per; ++k) {
        auto add = [&](std::optional<int> v) { sum.fetch_add(*v); };
        rt::select(rt::case_recv(a, add), rt::case_recv(b, add));
      }
    });
  }
  wg.wait();
  CHECK(sum == long{pairs} * per * (per + 1) / 2);
}

TEST_CASE("the same channel in two cases of one select") {
  auto ch = rt::make_chan<int>(1);
  rt::go([ch] { ch.send(1); });
  std::size_t i = rt::select(rt::case_recv(ch), rt::case_recv(ch));
  CHECK(i < 2);
  // A send and a receive case on one unbuffered channel: another goroutine takes the send.
  auto u = rt::make_chan<int>();
  rt::wait_group wg;
  wg.go([u] { CHECK(u.recv() == 2); });
  CHECK(rt::select(rt::case_recv(u), rt::case_send(u, 2)) == 1);
  wg.wait();  // its CHECK belongs to this test case
}

TEST_CASE("timeouts with rt::after and cancellation with ctx.done()") {
  rt::chan<int> never = rt::make_chan<int>();
  bool timed_out = false;
  std::size_t i = rt::select(
      rt::case_recv(never),
      rt::case_recv(rt::after(std::chrono::milliseconds(1)),
                    [&](std::optional<rt::clock::time_point> t) { timed_out = t.has_value(); }));
  CHECK(i == 1);
  CHECK(timed_out);

  auto [ctx, cancel] = rt::with_cancel(rt::context::background());
  rt::go([cancel = cancel] { cancel(); });
  bool cancelled = false;
  i = rt::select(rt::case_recv(never), rt::case_recv(ctx.done(), [&] { cancelled = true; }));
  CHECK(i == 1);
  CHECK(cancelled);
  CHECK(ctx.err() == rt::context_error::canceled);
}

TEST_CASE("a plain thread parks in select until a goroutine sends") {
  auto a = rt::make_chan<int>(), b = rt::make_chan<int>();
  std::optional<int> got;
  std::thread t([&] {
    rt::select(rt::case_recv(a), rt::case_recv(b, [&](std::optional<int> v) { got = v; }));
  });
  b.send(11);
  t.join();
  CHECK(got == 11);
}
