// Tests for rt::context: background, cancel, deadlines (saturating), trees (cascading
// down, never up), detaching of finished children, many waiters, races between cancels,
// plain threads, and chains deep enough to overflow a goroutine's stack if cancelling or
// destroying them recursed.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <rt/rt.hpp>

#include "../../common/plain_thread.hpp"

using namespace std::chrono_literals;

namespace {

bool is_done(const rt::context& ctx) {
  return rt::select(rt::case_recv(ctx.done()), rt::case_default()) == 0;
}

// chain builds `depth` contexts under root, each the child of the one before; every
// third has its own deadline an hour away (each earlier than its parent's, so each has
// its own timer).
std::vector<rt::context> chain(const rt::context& root, int depth) {
  std::vector<rt::context> levels;
  levels.reserve(depth);
  const auto far = rt::clock::now() + std::chrono::hours(1);
  for (int i = 0; i < depth; ++i) {
    const rt::context& parent = i == 0 ? root : levels.back();
    levels.push_back(i % 3 == 2 ? rt::with_deadline(parent, far - std::chrono::nanoseconds(i)).first
                                : rt::with_cancel(parent).first);
  }
  return levels;
}

// cancelled_with counts the levels cancelled with `why` whose done channel is closed.
int cancelled_with(const std::vector<rt::context>& levels, rt::context_error why) {
  int n = 0;
  for (const rt::context& c : levels) {
    if (c.err() == why && is_done(c) && rt::detail::context_children(c) == 0) ++n;
  }
  return n;
}

// in_goroutine runs f on a goroutine of its own (a 64 KiB stack) and waits for it.
template <class F>
void in_goroutine(F f) {
  rt::wait_group wg;
  wg.go(std::move(f));
  wg.wait();
}

}  // namespace

TEST_CASE("background is never cancelled: nil done channel, no err, no deadline") {
  auto bg = rt::context::background();
  CHECK_FALSE(bg.err().has_value());
  CHECK_FALSE(static_cast<bool>(bg.done()));
  CHECK_FALSE(bg.deadline().has_value());
  CHECK_FALSE(is_done(bg));
  CHECK_FALSE(rt::context{}.err());
}

TEST_CASE("with_cancel: cancel closes done and sets err once; cancel is idempotent") {
  auto [ctx, cancel] = rt::with_cancel(rt::context::background());
  CHECK_FALSE(ctx.err());
  CHECK_FALSE(is_done(ctx));
  cancel();
  CHECK(ctx.err() == rt::context_error::canceled);
  CHECK_FALSE(ctx.done().recv().has_value());  // closed
  CHECK(is_done(ctx));
  cancel();
  CHECK(ctx.err() == rt::context_error::canceled);
  CHECK(std::string(rt::to_string(*ctx.err())) == "context canceled");
  CHECK(std::string(rt::to_string(rt::context_error::deadline_exceeded)) ==
        "context deadline exceeded");
}

TEST_CASE("cancellation cascades to all descendants and never to ancestors or siblings") {
  auto [root, cancel_root] = rt::with_cancel(rt::context::background());
  auto [mid, cancel_mid] = rt::with_cancel(root);
  auto [sibling, cancel_sibling] = rt::with_cancel(root);
  std::vector<rt::context> leaves;
  std::vector<rt::cancel_func> keep;
  for (int i = 0; i < 10; ++i) {
    auto [child, c] = rt::with_cancel(mid);
    auto [grandchild, gc] = rt::with_timeout(child, std::chrono::hours(1));
    leaves.push_back(child);
    leaves.push_back(grandchild);
    keep.push_back(c);
    keep.push_back(gc);
  }
  cancel_mid();
  CHECK(mid.err() == rt::context_error::canceled);
  for (auto& l : leaves) CHECK(l.err() == rt::context_error::canceled);
  CHECK_FALSE(root.err());
  CHECK_FALSE(sibling.err());
  CHECK(rt::detail::context_children(root) == 1);  // mid detached, sibling remains
  cancel_root();
  CHECK(sibling.err() == rt::context_error::canceled);
  CHECK(rt::detail::context_children(root) == 0);
}

TEST_CASE("a child of a cancelled parent is cancelled at once, with the parent's cause") {
  auto [p, cancel] = rt::with_timeout(rt::context::background(), -1ms);
  CHECK(p.err() == rt::context_error::deadline_exceeded);
  auto [c, cc] = rt::with_cancel(p);
  CHECK(c.err() == rt::context_error::deadline_exceeded);
  CHECK(is_done(c));
  cancel();
  cc();
  CHECK(c.err() == rt::context_error::deadline_exceeded);  // the first cause stays
}

TEST_CASE("with_timeout: done closes after the deadline with deadline_exceeded") {
  auto t0 = rt::clock::now();
  auto [ctx, cancel] = rt::with_timeout(rt::context::background(), 2ms);
  REQUIRE(ctx.deadline().has_value());
  CHECK(*ctx.deadline() >= t0 + 2ms);
  CHECK_FALSE(ctx.done().recv().has_value());
  CHECK(rt::clock::now() >= t0 + 2ms);
  CHECK(ctx.err() == rt::context_error::deadline_exceeded);
  cancel();
  CHECK(ctx.err() == rt::context_error::deadline_exceeded);
}

TEST_CASE("deadlines: the earlier of parent's and own applies; a parent's deadline cascades") {
  auto [p, pc] = rt::with_timeout(rt::context::background(), 2ms);
  auto [later, lc] = rt::with_deadline(p, rt::clock::now() + std::chrono::hours(1));
  CHECK(later.deadline() == p.deadline());
  auto [earlier, ec] = rt::with_timeout(p, -1ms);
  CHECK(earlier.err() == rt::context_error::deadline_exceeded);
  CHECK(*earlier.deadline() < *p.deadline());
  later.done().recv();
  CHECK(later.err() == rt::context_error::deadline_exceeded);
  CHECK(p.err() == rt::context_error::deadline_exceeded);
}

TEST_CASE("cancelled or dropped children are detached: a long-lived parent does not grow") {
  auto [parent, cancel_parent] = rt::with_cancel(rt::context::background());
  for (int i = 0; i < 100000; ++i) {
    auto [child, cancel] = i % 2 ? rt::with_cancel(parent) : rt::with_timeout(parent, 1h);
    CHECK(rt::detail::context_children(parent) == 1);
    if (i % 3) cancel();  // else: dropped uncancelled
  }
  CHECK(rt::detail::context_children(parent) == 0);
  CHECK_FALSE(parent.err());
  cancel_parent();
}

TEST_CASE("every goroutine selecting on done wakes on cancel") {
  auto [ctx, cancel] = rt::with_cancel(rt::context::background());
  auto jobs = rt::make_chan<int>();
  std::atomic<int> stopped{0};
  rt::wait_group wg;
  for (int i = 0; i < 100; ++i) {
    wg.go(
        [&stopped](rt::context c, rt::chan<int> j) {
          for (;;) {
            bool stop = false;
            rt::select(rt::case_recv(j), rt::case_recv(c.done(), [&] { stop = true; }));
            if (stop) break;
          }
          stopped.fetch_add(1);
        },
        ctx, jobs);
  }
  for (int i = 0; i < 500; ++i) jobs.send(i);
  cancel();
  wg.wait();
  CHECK(stopped == 100);
}

TEST_CASE("concurrent cancels of parents and children, and timers firing meanwhile") {
  for (int round = 0; round < 300; ++round) {
    auto [root, cancel_root] = rt::with_cancel(rt::context::background());
    std::vector<std::pair<rt::context, rt::cancel_func>> nodes;
    nodes.push_back(rt::with_cancel(root));
    for (int i = 1; i < 20; ++i) {
      const rt::context& parent = nodes[(i - 1) / 2].first;
      nodes.push_back(i % 3 ? rt::with_cancel(parent)
                            : rt::with_timeout(parent, std::chrono::microseconds(i * 5)));
    }
    rt::wait_group wg;
    for (int i = 0; i < 20; i += 4) wg.go([c = nodes[i].second] { c(); });
    wg.go([cancel_root = cancel_root] { cancel_root(); });
    wg.wait();
    for (auto& [ctx, c] : nodes) {
      CHECK(ctx.err().has_value());
      CHECK_FALSE(ctx.done().recv().has_value());
    }
    CHECK(rt::detail::context_children(root) == 0);
  }
}

TEST_CASE("a plain thread waits on done; a goroutine cancels") {
  auto [ctx, cancel] = rt::with_cancel(rt::context::background());
  std::optional<rt::context_error> seen;
  rt::go([cancel = cancel] { cancel(); });
  rt_test::on_plain_thread([&, c = ctx] {
    c.done().recv();
    seen = c.err();
    auto [t, tc] = rt::with_timeout(c, 1h);  // made from a plain thread, parent cancelled
    CHECK(t.err() == rt::context_error::canceled);
    auto [d, dc] = rt::with_timeout(rt::context::background(), 1ms);
    d.done().recv();
    CHECK(d.err() == rt::context_error::deadline_exceeded);
  });
  CHECK(seen == rt::context_error::canceled);
}

TEST_CASE("with_timeout saturates: too long never expires, negative expires at once") {
  using std::chrono::hours;
  using std::chrono::nanoseconds;
  using std::chrono::seconds;
  auto [forever, cancel] = rt::with_timeout(rt::context::background(), nanoseconds::max());
  CHECK_FALSE(forever.err());
  CHECK_FALSE(is_done(forever));
  CHECK(forever.deadline() == rt::clock::time_point::max());
  for (auto [c, cc] : {rt::with_timeout(rt::context::background(), hours::max()),
                       rt::with_timeout(rt::context::background(), seconds::max()),
                       rt::with_deadline(rt::context::background(), rt::clock::time_point::max()),
                       rt::with_timeout(forever, nanoseconds::max())}) {
    CHECK_FALSE(c.err());
    CHECK(c.deadline() == rt::clock::time_point::max());
    cc();
    CHECK(c.err() == rt::context_error::canceled);
  }
  auto [child, cc] = rt::with_timeout(forever, 1h);  // an earlier deadline of its own
  CHECK(child.deadline() < forever.deadline());
  for (auto [expired, ec] :
       {rt::with_timeout(forever, nanoseconds::min()), rt::with_timeout(forever, hours::min()),
        rt::with_timeout(forever, seconds::min()), rt::with_timeout(forever, -1ns)}) {
    CHECK(expired.err() == rt::context_error::deadline_exceeded);
    CHECK(is_done(expired));
  }
  // A short timeout still expires while the saturated one never does.
  auto [soon, sc] = rt::with_timeout(forever, 1ms);
  CHECK_FALSE(soon.done().recv().has_value());
  CHECK(soon.err() == rt::context_error::deadline_exceeded);
  CHECK_FALSE(forever.err());
  cancel();
  CHECK(child.err() == rt::context_error::canceled);
}

TEST_CASE("cancelling a 1,000-deep chain from the root on a goroutine cancels every level") {
  in_goroutine([] {
    auto [root, cancel] = rt::with_cancel(rt::context::background());
    const std::vector<rt::context> levels = chain(root, 1000);
    cancel();
    CHECK(cancelled_with(levels, rt::context_error::canceled) == 1000);
    CHECK(rt::detail::context_children(root) == 0);
  });
}

TEST_CASE("cancelling a 100,000-deep chain from the middle and then the root") {
  in_goroutine([] {
    auto [root, cancel] = rt::with_cancel(rt::context::background());
    std::vector<rt::context> levels = chain(root, 100000);
    auto [mid, cancel_mid] = rt::with_cancel(levels[49999]);
    const std::vector<rt::context> below = chain(mid, 50000);
    cancel_mid();
    CHECK(cancelled_with(below, rt::context_error::canceled) == 50000);
    CHECK(rt::detail::context_children(levels[49999]) == 1);  // levels[50000] only
    cancel();
    CHECK(cancelled_with(levels, rt::context_error::canceled) == 100000);
    CHECK(mid.err() == rt::context_error::canceled);
  });
}

TEST_CASE("a deadline expiring above a 100,000-deep chain cancels every level") {
  // The deadline may pass while the chain is being built: the levels made after that
  // are cancelled at once, the others by the timer's fire (in scheduler context).
  auto [root, cancel] = rt::with_timeout(rt::context::background(), 20ms);
  const std::vector<rt::context> levels = chain(root, 100000);
  levels.back().done().recv();
  CHECK(cancelled_with(levels, rt::context_error::deadline_exceeded) == 100000);
  cancel();
}

TEST_CASE("dropping the last handle to a 100,000-deep chain destroys it") {
  in_goroutine([] {
    auto [root, cancel] = rt::with_cancel(rt::context::background());
    {
      rt::context leaf = chain(root, 100000).back();  // holds every level above it
      CHECK(rt::detail::context_children(root) == 1);
    }
    CHECK(rt::detail::context_children(root) == 0);  // all gone, the first level unlinked
    // Cancelled chains and a deep chain under a cancelled root go too.
    rt::context leaf = chain(root, 100000).back();
    cancel();
    CHECK(leaf.err() == rt::context_error::canceled);
  });
}
