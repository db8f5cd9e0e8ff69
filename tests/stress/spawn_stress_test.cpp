// Stress: spawn storms. Owns the cases where goroutines are created in bulk: deep and
// wide trees of goroutines spawning goroutines (parents parked on their children),
// thousands parked at once then released together, chains where each goroutine spawns
// its successor and ends (fiber recycling under stealing), and goroutines started from
// many plain threads (the global queue path) that spawn in turn. Every goroutine marks
// its own slot: the checks are exact (none lost, none run twice) and every goroutine
// of every tree, chain and thread ran.
#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <rt/rt.hpp>

#include "stress.hpp"

namespace {

using rt_stress::tally;

// A node of a tree of goroutines: marks itself, spawns `fanout` children and waits for
// them (so parents stay parked while their subtrees run, on any worker).
void node(tally& t, std::atomic<long>& ran, std::size_t id, int depth, int fanout) {
  t.mark(id);
  ran.fetch_add(1, std::memory_order_relaxed);
  if (depth == 0) return;
  rt::wait_group kids;
  for (int j = 0; j < fanout; ++j) {
    kids.go([&t, &ran, id, depth, fanout, j] {
      node(t, ran, id * static_cast<std::size_t>(fanout) + 1 + static_cast<std::size_t>(j),
           depth - 1, fanout);
    });
    if ((id + static_cast<std::size_t>(j)) % 5 == 0) rt::yield();
  }
  kids.wait();
}

std::size_t tree_size(int depth, int fanout) {
  std::size_t n = 1, level = 1;
  for (int d = 0; d < depth; ++d) n += (level *= static_cast<std::size_t>(fanout));
  return n;
}

}  // namespace

TEST_CASE("trees of goroutines spawning goroutines: deep and wide, every node once") {
  struct shape {
    int depth, fanout;
  };
  for (shape s : {shape{rt_stress::asan ? 5 : 7, 4}, shape{rt_stress::asan ? 9 : 13, 2},
                  shape{2, rt_stress::asan ? 60 : 200}, shape{rt_stress::asan ? 150 : 600, 1}}) {
    const std::size_t n = tree_size(s.depth, s.fanout);
    const std::string where =
        "tree of depth " + std::to_string(s.depth) + ", fanout " + std::to_string(s.fanout);
    rt_stress::watchdog wd(where);
    std::atomic<long> ran{0};
    wd.track("nodes ran", ran);
    tally t(n);
    rt::wait_group root;
    root.go([&] { node(t, ran, 0, s.depth, s.fanout); });
    root.wait();
    std::string v = t.verdict();
    CHECK_MESSAGE(v.empty(), where, ": ", v);
    CHECK_MESSAGE(ran.load() == static_cast<long>(n), where);
  }
}

TEST_CASE("thousands of goroutines parked at once, released together") {
  const int n = static_cast<int>(rt_stress::scaled(5000, 5));
  const int rounds = 3;
  rt_stress::watchdog wd("mass park and release");
  std::atomic<long> started{0}, finished{0};
  wd.track("started", started);
  wd.track("finished", finished);
  for (int round = 0; round < rounds; ++round) {
    wd.stage("round " + std::to_string(round));
    auto go_ahead = rt::make_chan<int>();
    tally t(static_cast<std::size_t>(n));
    rt::wait_group wg;
    for (int i = 0; i < n; ++i) {
      wg.go([&, i] {
        started.fetch_add(1, std::memory_order_relaxed);
        go_ahead.recv();  // parks until closed
        t.mark(static_cast<std::size_t>(i));
        finished.fetch_add(1, std::memory_order_relaxed);
      });
    }
    go_ahead.close();
    wg.wait();
    std::string v = t.verdict();
    CHECK_MESSAGE(v.empty(), v);
  }
}

TEST_CASE("chains: each goroutine spawns its successor and ends") {
  // Child-first: a link's parent waits in run-next until its child parks or ends, so a
  // chain keeps up to `length` goroutines alive; keep chains short and many.
  const int chains = 16 * rt::gomaxprocs();
  const int length = static_cast<int>(rt_stress::scaled(1000, 4));
  rt_stress::watchdog wd("spawn chains");
  std::atomic<long> links{0};
  wd.track("links ran", links);
  tally t(static_cast<std::size_t>(chains) * static_cast<std::size_t>(length));
  rt::wait_group ends;
  ends.add(chains);
  struct link {
    static void run(tally& t, std::atomic<long>& links, rt::wait_group& ends, int chain, int length,
                    int k) {
      t.mark(static_cast<std::size_t>(chain) * static_cast<std::size_t>(length) +
             static_cast<std::size_t>(k));
      links.fetch_add(1, std::memory_order_relaxed);
      if (k + 1 == length) {
        ends.done();
        return;
      }
      rt::go(&link::run, std::ref(t), std::ref(links), std::ref(ends), chain, length, k + 1);
    }
  };
  for (int c = 0; c < chains; ++c) {
    rt::go(&link::run, std::ref(t), std::ref(links), std::ref(ends), c, length, 0);
  }
  ends.wait();
  std::string v = t.verdict();
  CHECK_MESSAGE(v.empty(), v);
  CHECK(links.load() == static_cast<long>(t.size()));
}

TEST_CASE("plain threads start goroutines that spawn goroutines") {
  const int threads = 6;
  const int per_thread = static_cast<int>(rt_stress::scaled(10'000));
  rt_stress::watchdog wd("spawn from plain threads");
  std::atomic<long> ran{0};
  wd.track("goroutines ran", ran);
  // Slot 2k: the goroutine a thread started; 2k+1: the child it spawned.
  tally t(static_cast<std::size_t>(threads) * static_cast<std::size_t>(per_thread) * 2);
  rt::wait_group all;
  all.add(threads * per_thread * 2);
  rt_stress::on_plain_threads(threads, [&](int th) {
    for (int i = 0; i < per_thread; ++i) {
      const std::size_t k = static_cast<std::size_t>(th) * static_cast<std::size_t>(per_thread) +
                            static_cast<std::size_t>(i);
      rt::go([&, k] {
        t.mark(2 * k);
        ran.fetch_add(1, std::memory_order_relaxed);
        rt::go([&, k] {
          t.mark(2 * k + 1);
          ran.fetch_add(1, std::memory_order_relaxed);
          all.done();
        });
        all.done();
      });
    }
  });
  wd.stage("waiting for the goroutines the threads started");
  all.wait();
  std::string v = t.verdict();
  CHECK_MESSAGE(v.empty(), v);
}
