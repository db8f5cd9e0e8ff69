// Tests for the local run queue alone (rt::sched::basic_runq in scheduler/src/internal.hpp):
// one owner thread pushing and popping distinct tokens while 1 to 3 thief threads steal
// half the queue at a time, at capacities 2, 4, 8 and 256, near empty, mixed and always full
// (the owner then moves half the ring out itself, as push_local does). Checks that every
// token comes out exactly once (none lost, none taken twice), that every steal is a run
// of consecutive tokens in push order, that each taker sees tokens in increasing order,
// and the bounds (push fails exactly when full, a steal takes half rounded up).
//
// Tokens are fake fiber pointers, never dereferenced. Plain threads only: the doctest
// session runs inside rt::run, but no goroutine is involved. When the queue has a
// push_front, the owner also puts new tokens at the head with it, racing the thieves:
// a push_front that moved the head back without a tag let a thief's CAS succeed on a
// stale slot (seen here as tokens lost and taken twice within a second).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "../stress/stress.hpp"
#include "internal.hpp"

namespace {

using rt::sched::fiber;

fiber* token(std::uint64_t i) {
  return reinterpret_cast<fiber*>(static_cast<std::uintptr_t>(i + 1) << 4);
}
std::uint64_t index_of(fiber* f) {
  return (reinterpret_cast<std::uintptr_t>(f) >> 4) - 1;
}

// A queue with a push_front gets it exercised (see the top of the file).
template <class Q>
constexpr bool has_push_front = requires(Q& q, fiber* f) {
  q.push_front(f);
};

enum class mode { near_empty, mixed, full };

const char* name_of(mode m) {
  return m == mode::near_empty ? "near empty" : m == mode::mixed ? "mixed" : "full";
}

// What one taker (owner or thief) saw: tokens must come out in increasing order for each,
// and every steal must be a run of consecutive tokens.
struct taker_log {
  std::uint64_t last = 0;
  bool any = false;
  long order_errors = 0;
  long gap_errors = 0;
  long oversize_errors = 0;

  void took(rt_stress::tally& t, fiber** batch, std::uint32_t n, std::uint32_t max_n) {
    if (n > max_n) ++oversize_errors;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::uint64_t k = index_of(batch[i]);
      t.mark(k);
      if (i > 0 && k != index_of(batch[i - 1]) + 1) ++gap_errors;
      if (any && k <= last) ++order_errors;
      last = k;
      any = true;
    }
  }
};

template <class Q>
void hammer(int thieves, mode m, long tokens) {
  const std::string where = "runq<" + std::to_string(Q::capacity) + ">, " +
                            std::to_string(thieves) + " thieves, " + name_of(m);
  Q q;
  rt_stress::tally seen(static_cast<std::size_t>(tokens));
  std::atomic<bool> owner_done{false};
  std::vector<taker_log> logs(static_cast<std::size_t>(thieves) + 1);
  std::atomic<long> pushed{0};
  rt_stress::watchdog wd(where);
  wd.track("tokens pushed", pushed);

  std::vector<std::thread> ts;
  for (int k = 1; k <= thieves; ++k) {
    ts.emplace_back([&, k] {
      fiber* batch[Q::capacity / 2];
      taker_log& log = logs[static_cast<std::size_t>(k)];
      for (;;) {
        const bool last_round = owner_done.load(std::memory_order_acquire);
        if (!q.empty()) log.took(seen, batch, q.steal_half(batch), Q::capacity / 2);
        if (last_round) return;
      }
    });
  }

  // The owner.
  taker_log& own = logs[0];
  long bad_size = 0, bad_push = 0;
  rt_stress::rng r(static_cast<std::uint64_t>(thieves) * 31 + static_cast<int>(m));
  std::uint64_t next = 0;
  fiber* batch[Q::capacity / 2 + 1];
  const std::uint32_t push_pct = m == mode::near_empty ? 50 : m == mode::mixed ? 60 : 100;
  while (next < static_cast<std::uint64_t>(tokens)) {
    const std::uint32_t dice = r.below(100);
    if (dice < push_pct) {
      if constexpr (has_push_front<Q>) {
        // A queue with push_front: put some new tokens at the head (as a displaced
        // run-next goroutine would go), so thieves race it.
        if (dice % 4 == 0 && q.push_front(token(next))) {
          ++next;
          pushed.store(static_cast<long>(next), std::memory_order_relaxed);
          continue;
        }
      }
      if (!q.push(token(next))) {
        // Full: move half out to make room, as push_local does with the global queue
        // (thieves may have emptied it meanwhile: then there is nothing to move).
        own.took(seen, batch, q.steal_half(batch), Q::capacity / 2);
        if (!q.push(token(next))) ++bad_push;  // only the owner pushes: room now
      }
      ++next;
      pushed.store(static_cast<long>(next), std::memory_order_relaxed);
    } else if (fiber* f = q.pop()) {
      own.took(seen, &f, 1, 1);
    }
    if (q.size() > Q::capacity) ++bad_size;
  }
  while (fiber* f = q.pop()) own.took(seen, &f, 1, 1);
  owner_done.store(true, std::memory_order_release);
  for (auto& t : ts) t.join();
  CHECK_MESSAGE(q.empty(), where);
  CHECK_MESSAGE(q.size() == 0, where);
  CHECK_MESSAGE(bad_size == 0, where, ": size() above capacity");
  CHECK_MESSAGE(bad_push == 0, where, ": push refused right after making room");
  std::string verdict = seen.verdict();
  CHECK_MESSAGE(verdict.empty(), where, ": ", verdict);
  for (std::size_t k = 0; k < logs.size(); ++k) {
    const std::string who = where + (k == 0 ? ", owner" : ", thief " + std::to_string(k));
    if (!has_push_front<Q>) {  // tokens put at the head come out of push order
      CHECK_MESSAGE(logs[k].order_errors == 0, who, ": took tokens out of push order");
      CHECK_MESSAGE(logs[k].gap_errors == 0, who, ": a steal was not a run of consecutive tokens");
    }
    CHECK_MESSAGE(logs[k].oversize_errors == 0, who, ": a steal took more than half");
  }
}

template <class Q>
void hammer_all() {
  const long tokens = rt_stress::scaled(Q::capacity <= 8 ? 600'000 : 1'000'000, 5);
  for (int thieves = 1; thieves <= 3; ++thieves) {
    for (mode m : {mode::near_empty, mode::mixed, mode::full}) hammer<Q>(thieves, m, tokens);
  }
}

template <class Q>
void bounds() {
  Q q;
  CHECK(q.empty());
  CHECK(q.pop() == nullptr);
  fiber* batch[Q::capacity / 2];
  CHECK(q.steal_half(batch) == 0);
  for (std::uint32_t i = 0; i < Q::capacity; ++i) REQUIRE(q.push(token(i)));
  CHECK(q.size() == Q::capacity);
  CHECK_FALSE(q.push(token(Q::capacity)));  // full: refused, nothing overwritten
  CHECK(q.size() == Q::capacity);
  CHECK(q.steal_half(batch) == Q::capacity / 2);  // half
  for (std::uint32_t i = 0; i < Q::capacity / 2; ++i) CHECK(index_of(batch[i]) == i);
  // Refill to full across the wrap of the ring, then drain in order.
  for (std::uint32_t i = 0; i < Q::capacity / 2; ++i) REQUIRE(q.push(token(Q::capacity + i)));
  CHECK_FALSE(q.push(token(0)));
  for (std::uint32_t i = Q::capacity / 2; i < Q::capacity + Q::capacity / 2; ++i) {
    fiber* f = q.pop();
    REQUIRE(f != nullptr);
    CHECK(index_of(f) == i);
  }
  CHECK(q.empty());
  if constexpr (has_push_front<Q>) {
    // push_front: before everything queued, across the ring's wrap; refused when full.
    for (std::uint32_t i = 0; i + 1 < Q::capacity; ++i) REQUIRE(q.push(token(i)));
    CHECK(q.push_front(token(1000)));
    CHECK_FALSE(q.push_front(token(1001)));
    CHECK_FALSE(q.push(token(1002)));
    fiber* f = q.pop();
    REQUIRE(f != nullptr);
    CHECK(index_of(f) == 1000);
    CHECK(q.steal_half(batch) == Q::capacity / 2);
    for (std::uint32_t i = 0; i < Q::capacity / 2; ++i) CHECK(index_of(batch[i]) == i);
    while (q.pop() != nullptr) {
    }
    CHECK(q.empty());
  }
  // steal_half of 1, 2, 3 queued takes 1, 1, 2 (half rounded up).
  for (std::uint32_t n = 1; n <= 3; ++n) {
    for (std::uint32_t i = 0; i < n; ++i) REQUIRE(q.push(token(i)));
    CHECK(q.steal_half(batch) == n - n / 2);
    while (q.pop() != nullptr) {
    }
  }
}

}  // namespace

TEST_CASE("runq bounds: full refuses, steal_half takes half, order survives the ring's wrap") {
  bounds<rt::sched::basic_runq<4>>();
  bounds<rt::sched::basic_runq<8>>();
  bounds<rt::sched::basic_runq<256>>();
}

TEST_CASE("runq<4>: owner push/pop vs 1-3 thieves: every token exactly once") {
  hammer_all<rt::sched::basic_runq<4>>();
}

TEST_CASE("runq<8>: owner push/pop vs 1-3 thieves: every token exactly once") {
  hammer_all<rt::sched::basic_runq<8>>();
}

TEST_CASE("runq<256>: owner push/pop vs 1-3 thieves: every token exactly once") {
  hammer_all<rt::sched::basic_runq<256>>();
}

TEST_CASE("runq<2>: the smallest ring, always at its bounds") {
  const long tokens = rt_stress::scaled(300'000, 5);
  for (int thieves = 1; thieves <= 3; ++thieves) {
    for (mode m : {mode::near_empty, mode::full})
      hammer<rt::sched::basic_runq<2>>(thieves, m, tokens);
  }
}
