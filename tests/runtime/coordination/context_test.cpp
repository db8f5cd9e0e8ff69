// Tests for rt::context: background, cancel, deadlines, trees (cascading down, never
// up), detaching of finished children, many waiters, races between cancels, and plain
// threads.
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
