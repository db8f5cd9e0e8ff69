// Stress: wake-up storms. Owns the cases where goroutines are unparked in bursts — by
// goroutines (two or more wake-ups back to back, so each displaces the previous one from
// the worker's run-next slot), by many plain threads at once (the global queue path), by
// close() waking every parked receiver, and along relay rings with many tokens in
// flight. Checks that every value is delivered exactly once and every goroutine ends
// (a goroutine resumed twice shows up as a duplicate or a crash, a lost wake-up as a
// missing value and a hang the watchdog reports).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include <rt/rt.hpp>

#include "stress.hpp"

namespace {

using rt_stress::tally;

std::string ids(int a, int b) {
  return std::to_string(a) + "/" + std::to_string(b);
}

// N receivers, each looping on its own unbuffered channel; `drivers` goroutines each
// send `per_driver` values, two at a time to two different random receivers, now and
// then yielding. Every value is received exactly once, by the receiver it was sent to.
void double_wake(int receivers, int drivers, long per_driver, bool yields) {
  const std::string where = "double wake-up, receivers/drivers " + ids(receivers, drivers);
  rt_stress::watchdog wd(where);
  std::atomic<long> received{0}, sent{0};
  wd.track("values sent", sent);
  wd.track("values received", received);
  tally values(static_cast<std::size_t>(drivers * per_driver));
  std::vector<rt::chan<long>> in;
  for (int i = 0; i < receivers; ++i) in.push_back(rt::make_chan<long>());
  // to[v]: the receiver value v was sent to (written before the send).
  std::vector<int> to(values.size(), -1);
  std::vector<long> wrong_receiver(static_cast<std::size_t>(receivers), 0);
  std::vector<long> got(static_cast<std::size_t>(receivers), 0);

  rt::wait_group rx;
  for (int i = 0; i < receivers; ++i) {
    rx.go([&, i] {
      for (long v : in[static_cast<std::size_t>(i)]) {
        values.mark(static_cast<std::size_t>(v));
        if (to[static_cast<std::size_t>(v)] != i) ++wrong_receiver[static_cast<std::size_t>(i)];
        ++got[static_cast<std::size_t>(i)];
        received.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  rt::wait_group tx;
  for (int d = 0; d < drivers; ++d) {
    tx.go([&, d] {
      rt_stress::rng r(static_cast<std::uint64_t>(d) + 1);
      const long base = d * per_driver;
      for (long k = 0; k + 1 < per_driver; k += 2) {
        const int a = static_cast<int>(r.below(static_cast<std::uint32_t>(receivers)));
        const int b =
            (a + 1 + static_cast<int>(r.below(static_cast<std::uint32_t>(receivers - 1)))) %
            receivers;
        to[static_cast<std::size_t>(base + k)] = a;
        to[static_cast<std::size_t>(base + k + 1)] = b;
        in[static_cast<std::size_t>(a)].send(base + k);      // wakes a: run-next
        in[static_cast<std::size_t>(b)].send(base + k + 1);  // wakes b: displaces a
        sent.fetch_add(2, std::memory_order_relaxed);
        if (yields && r.below(4) == 0) rt::yield();
      }
      if (per_driver % 2 != 0) {
        to[static_cast<std::size_t>(base + per_driver - 1)] = d % receivers;
        in[static_cast<std::size_t>(d % receivers)].send(base + per_driver - 1);
        sent.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  wd.stage("drivers sending");
  tx.wait();
  for (auto& c : in) c.close();
  wd.stage("receivers draining after close");
  rx.wait();
  std::string v = values.verdict();
  CHECK_MESSAGE(v.empty(), where, ": ", v);
  CHECK_MESSAGE(received.load() == drivers * per_driver, where);
  for (int i = 0; i < receivers; ++i) {
    CHECK_MESSAGE(wrong_receiver[static_cast<std::size_t>(i)] == 0, where, ", receiver ", i);
    // Every receiver made progress.
    CHECK_MESSAGE(got[static_cast<std::size_t>(i)] > 0, where, ", receiver ", i);
  }
}

}  // namespace

TEST_CASE("two wake-ups back to back: 32 receivers, one driver, exact receipts") {
  double_wake(32, 1, rt_stress::scaled(200'000), true);
}

TEST_CASE("two wake-ups back to back: one driver per worker, with and without yields") {
  const int w = rt::gomaxprocs();
  double_wake(32, w, rt_stress::scaled(120'000) / w + 1, true);
  double_wake(8, 2 * w, rt_stress::scaled(80'000) / w + 1, false);
  double_wake(2, w, rt_stress::scaled(40'000) / w + 1, true);
}

TEST_CASE("wake-ups from many plain threads: unbuffered and buffered channels") {
  const int threads = 8, receivers = 16;
  const long per_thread = rt_stress::scaled(20'000);
  rt_stress::watchdog wd("plain-thread wake storm");
  std::atomic<long> received{0}, sent{0};
  wd.track("values sent", sent);
  wd.track("values received", received);
  tally values(static_cast<std::size_t>(threads * per_thread));
  std::vector<rt::chan<long>> in;
  // Half unbuffered (each send hands off to a parked goroutine), half buffered.
  for (int i = 0; i < receivers; ++i) in.push_back(rt::make_chan<long>(i % 2 == 0 ? 0 : 4));
  rt::wait_group rx;
  for (int i = 0; i < receivers; ++i) {
    rx.go([&, i] {
      for (long v : in[static_cast<std::size_t>(i)]) {
        values.mark(static_cast<std::size_t>(v));
        received.fetch_add(1, std::memory_order_relaxed);
        if ((v & 63) == 0) rt::yield();
      }
    });
  }
  wd.stage("plain threads sending");
  rt_stress::on_plain_threads(threads, [&](int t) {
    rt_stress::rng r(static_cast<std::uint64_t>(t) + 100);
    for (long k = 0; k < per_thread; ++k) {
      const long v = t * per_thread + k;
      auto& c = in[r.below(receivers)];
      // try_send first (a non-blocking wake-up), then the blocking send.
      if (!c.try_send(v)) c.send(v);
      sent.fetch_add(1, std::memory_order_relaxed);
    }
  });
  for (auto& c : in) c.close();
  wd.stage("receivers draining after close");
  rx.wait();
  std::string v = values.verdict();
  CHECK_MESSAGE(v.empty(), v);
}

TEST_CASE("plain threads that exit as soon as a goroutine woke them") {
  // The waker must be done with a woken thread's parking state before the thread can
  // leave (once, Boost's schedule_from_remote went on using the thread's scheduler after
  // waking it: a write into freed memory when the thread had exited meanwhile).
  const int threads = 32;
  const int rounds = static_cast<int>(rt_stress::scaled(40, 4));
  rt_stress::watchdog wd("plain threads exit after their wake-up");
  std::atomic<long> woken{0};
  wd.track("threads woken", woken);
  for (int round = 0; round < rounds; ++round) {
    wd.stage("round " + std::to_string(round));
    tally got(threads);
    std::vector<rt::chan<int>> in;
    for (int t = 0; t < threads; ++t) in.push_back(rt::make_chan<int>());
    rt::wait_group senders;
    for (int t = 0; t < threads; ++t)
      senders.go([&in, t] { in[static_cast<std::size_t>(t)].send(t); });
    rt_stress::on_plain_threads(threads, [&](int t) {
      got.mark(static_cast<std::size_t>(in[static_cast<std::size_t>(t)].recv().value_or(-1)));
      woken.fetch_add(1, std::memory_order_relaxed);
    });
    senders.wait();
    std::string v = got.verdict();
    CHECK_MESSAGE(v.empty(), "round ", round, ": ", v);
  }
}

TEST_CASE("close wakes every parked receiver exactly once, from a goroutine or a thread") {
  const int rounds = static_cast<int>(rt_stress::scaled(40, 4));
  const int n = static_cast<int>(rt_stress::scaled(2000, 4));
  rt_stress::watchdog wd("close wake storm");
  std::atomic<long> woke{0};
  wd.track("receivers woken", woke);
  for (int round = 0; round < rounds; ++round) {
    wd.stage("round " + std::to_string(round));
    auto c = rt::make_chan<int>();
    auto other = rt::make_chan<int>();  // half the receivers select on both
    tally each(static_cast<std::size_t>(n));
    std::atomic<int> got_value{0};
    rt::wait_group parked, done;
    parked.add(n);
    for (int i = 0; i < n; ++i) {
      done.go([&, i] {
        parked.done();
        std::optional<int> v;
        if (i % 2 == 0) {
          v = c.recv();
        } else {
          rt::select(rt::case_recv(c, [&](std::optional<int> x) { v = x; }),
                     rt::case_recv(other, [&](std::optional<int> x) { v = x; }));
        }
        if (v) got_value.fetch_add(1);
        each.mark(static_cast<std::size_t>(i));
        woke.fetch_add(1, std::memory_order_relaxed);
      });
    }
    parked.wait();  // all started; most are parked (a late one finds c closed: also fine)
    if (round % 2 == 0) {
      c.close();
    } else {
      rt_stress::on_plain_threads(1, [&](int) { c.close(); });
    }
    done.wait();
    std::string v = each.verdict();
    CHECK_MESSAGE(v.empty(), v);
    CHECK(got_value.load() == 0);
  }
}

// close wakes its waiters a batch at a time; receivers that come meanwhile must see the
// channel closed: the buffered value once, then nullopt, never a value of a parked sender.
TEST_CASE("close with senders parked on a full buffer: receivers racing it get only the buffer") {
  const int rounds = static_cast<int>(rt_stress::scaled(40, 4));
  const int senders = static_cast<int>(rt_stress::scaled(1000, 4));
  constexpr int receivers = 4;
  rt_stress::watchdog wd("close with parked senders");
  std::atomic<long> failed_sends{0};
  wd.track("senders failed", failed_sends);
  for (int round = 0; round < rounds; ++round) {
    wd.stage("round " + std::to_string(round));
    failed_sends = 0;
    auto c = rt::make_chan<int>(1);
    c.send(-1);  // the buffer's one value
    rt::wait_group parked, done;
    parked.add(senders);
    for (int i = 0; i < senders; ++i) {
      done.go([&, i] {
        parked.done();
        try {
          c.send(i);
        } catch (const rt::channel_closed&) {
          failed_sends.fetch_add(1);
        }
      });
    }
    parked.wait();
    // Receivers start once a sender has failed (close has set `closed` and woken its
    // first batch) and loop until the channel reports closed, yielding between receives:
    // at two or more workers most of their receives run while close wakes the rest.
    std::atomic<int> values{0}, buffered{0};
    rt::wait_group rx;
    rx.go([&] {  // from a plain thread in odd rounds: every worker is free to receive
      if (round % 2 == 0) {
        c.close();
      } else {
        rt_stress::on_plain_threads(1, [&](int) { c.close(); });
      }
    });
    for (int r = 0; r < receivers; ++r) {
      rx.go([&] {
        while (failed_sends.load() == 0) rt::yield();
        while (std::optional<int> v = c.recv()) {
          (*v == -1 ? buffered : values).fetch_add(1);
          rt::yield();
        }
      });
    }
    rx.wait();
    done.wait();
    CHECK_MESSAGE(values.load() == 0, "round ", round, ": a receive after close took a value");
    CHECK(buffered.load() == 1);
    CHECK(failed_sends.load() == senders);
  }
}

TEST_CASE("relay rings: many tokens in flight, every token makes every hop") {
  const int w = rt::gomaxprocs();
  const int ring = 64, tokens = 4 * w + 3;
  const long hops = rt_stress::scaled(4000);
  rt_stress::watchdog wd("relay ring");
  std::atomic<long> hop_count{0};
  wd.track("hops", hop_count);
  std::vector<rt::chan<long>> link;
  for (int i = 0; i < ring; ++i) link.push_back(rt::make_chan<long>(i % 3 == 0 ? 1 : 0));
  auto finished = rt::make_chan<long>(static_cast<std::size_t>(tokens));
  rt::wait_group nodes;
  for (int i = 0; i < ring; ++i) {
    nodes.go([&, i] {
      auto& from = link[static_cast<std::size_t>(i)];
      auto& to = link[static_cast<std::size_t>((i + 1) % ring)];
      // A token is (id << 32) | hops so far.
      for (long t : from) {
        hop_count.fetch_add(1, std::memory_order_relaxed);
        if ((t & 0xffffffff) + 1 == hops) {
          finished.send(t + 1);
        } else {
          to.send(t + 1);
        }
      }
    });
  }
  for (long id = 0; id < tokens; ++id) {
    rt::go([&, id] { link[static_cast<std::size_t>(id % ring)].send(id << 32); });
  }
  wd.stage("tokens travelling");
  tally arrived(static_cast<std::size_t>(tokens));
  for (int k = 0; k < tokens; ++k) {
    long t = *finished.recv();
    CHECK((t & 0xffffffff) == hops);
    arrived.mark(static_cast<std::size_t>(t >> 32));
  }
  for (auto& c : link) c.close();
  wd.stage("nodes ending");
  nodes.wait();
  std::string v = arrived.verdict();
  CHECK_MESSAGE(v.empty(), v);
  CHECK(hop_count.load() == tokens * hops);
}
