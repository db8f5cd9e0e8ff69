// diagnostics_test.cpp — rt::goroutines, rt::dump_goroutines, rt::leak_check and
// rt::current_goroutine, in process (the diagnostics that end a process are in
// programs/diag_programs.cpp). No doctest INFO/CAPTURE here: they are kept per thread,
// and a goroutine that parks may resume on another.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <sstream>
#include <string>

#include "rt/rt.hpp"

namespace {

using namespace std::chrono_literals;

std::string here(int line) {
  return std::string("diagnostics_test.cpp:") + std::to_string(line);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<rt::goroutine_info> started_at(const std::string& site) {
  std::vector<rt::goroutine_info> out;
  for (auto& g : rt::goroutines()) {
    if (ends_with(g.created_at, site)) out.push_back(g);
  }
  return out;
}

// Waits until n goroutines from `site` are parked with `state`; fails the test with the
// dump when that has not happened after 20,000 looks (a wrong site or state, not a hang).
void await_parked(const std::string& site, const std::string& state, std::size_t n) {
  for (int look = 0; look < 20000; ++look) {
    auto gs = started_at(site);
    if (gs.size() == n &&
        std::all_of(gs.begin(), gs.end(), [&](auto& g) { return g.state == state; })) {
      return;
    }
    rt::sleep_for(1ms);
  }
  std::ostringstream dump;
  rt::dump_goroutines(dump);
  FAIL("no " << n << " goroutines [" << state << "] @ " << site << " in:\n" << dump.str());
}

}  // namespace

TEST_CASE("goroutines(): every live goroutine with its creation site, parent and wait reason") {
  const std::uint64_t me = rt::goroutine_id();
  for (int round = 0; round < 20; ++round) {
    auto gate = rt::make_chan<int>();
    rt::wait_group wg;
    const int line = __LINE__ + 1;
    for (int i = 0; i < 100; ++i) wg.go([gate] { gate.recv(); });
    await_parked(here(line), "chan receive", 100);
    const auto gs = started_at(here(line));
    std::set<std::uint64_t> ids;
    for (const auto& g : gs) {
      ids.insert(g.id);
      CHECK(g.parent == me);
      CHECK(g.worker == -1);
      CHECK(g.function.find("DOCTEST_ANON_FUNC") == 0);  // the function that called go()
    }
    CHECK(ids.size() == 100);  // no goroutine twice
    CHECK(ids.count(me) == 0);
    gate.close();
    wg.wait();
    // wg.wait returned: each goroutine has called done() and is leaving (as in Go, it may
    // still be listed for a moment); they all go, none stays behind.
    while (!started_at(here(line)).empty()) rt::yield();
  }
}

TEST_CASE("goroutines(): the wait reason of each rt primitive") {
  rt::mutex mu;
  rt::mutex cv_mu;
  rt::rw_mutex rw;
  rt::cond cv;
  bool signalled = false;
  rt::wait_group pending;
  pending.add(1);
  auto ch = rt::make_chan<int>();
  rt::wait_group wg;
  mu.lock();
  const int line_mutex = __LINE__ + 1;
  wg.go([&] {
    mu.lock();
    mu.unlock();
  });
  rw.lock();
  const int line_rw = __LINE__ + 1;
  wg.go([&] {
    rw.lock_shared();
    rw.unlock_shared();
  });
  const int line_wg = __LINE__ + 1;
  wg.go([&] { pending.wait(); });
  const int line_send = __LINE__ + 1;
  wg.go([&] { ch.send(1); });
  auto quiet = rt::make_chan<int>();
  const int line_select = __LINE__ + 1;
  wg.go([&] { rt::select(rt::case_recv(quiet), rt::case_recv(rt::make_chan<int>())); });
  const int line_cond = __LINE__ + 1;
  wg.go([&] {
    std::unique_lock lk(cv_mu);
    cv.wait(lk, [&] { return signalled; });
  });
  const int line_block = __LINE__ + 1;
  wg.go([&] { rt::blocking([&] { quiet.recv(); }); });
  await_parked(here(line_mutex), "mutex lock", 1);
  await_parked(here(line_rw), "rw_mutex lock_shared", 1);
  await_parked(here(line_wg), "wait_group wait", 1);
  await_parked(here(line_send), "chan send", 1);
  await_parked(here(line_select), "select", 1);
  await_parked(here(line_cond), "cond wait", 1);
  await_parked(here(line_block), "blocking call", 1);
  mu.unlock();
  rw.unlock();
  pending.done();
  CHECK(*ch.recv() == 1);
  {
    std::lock_guard lk(cv_mu);
    signalled = true;
  }
  cv.broadcast();
  quiet.close();  // ends the select and the blocking call
  wg.wait();
}

TEST_CASE("current_goroutine(): the caller's id, parent and creation site") {
  const std::uint64_t me = rt::goroutine_id();
  const rt::goroutine_info self = rt::current_goroutine();
  CHECK(self.id == me);
  CHECK(self.state == "running");
  CHECK(self.worker >= 0);
  rt::goroutine_info child;
  rt::wait_group wg;
  const int line = __LINE__ + 1;
  wg.go([&] { child = rt::current_goroutine(); });
  wg.wait();
  CHECK(child.parent == me);
  CHECK(child.id != me);
  CHECK(ends_with(child.created_at, here(line)));
}

TEST_CASE("dump_goroutines: grouped by creation site and state, as text and as JSON") {
  auto gate = rt::make_chan<int>();
  rt::wait_group wg;
  const int line_recv = __LINE__ + 1;
  for (int i = 0; i < 50; ++i) wg.go([gate] { gate.recv(); });
  std::atomic<bool> stop{false};
  auto sleeper = [&stop] {
    while (!stop) rt::sleep_for(20ms);
  };
  const int line_sleep = __LINE__ + 1;
  for (int i = 0; i < 3; ++i) wg.go(sleeper);
  await_parked(here(line_recv), "chan receive", 50);
  await_parked(here(line_sleep), "sleep", 3);
  std::ostringstream text;
  rt::dump_goroutines(text);
  const std::string t = text.str();
  CHECK_MESSAGE(t.find("50 goroutines @ ") != std::string::npos, t);
  CHECK_MESSAGE(t.find(here(line_recv) + " in DOCTEST_ANON_FUNC_") != std::string::npos, t);
  CHECK_MESSAGE(t.find("3 goroutines @ ") != std::string::npos, t);
  CHECK_MESSAGE(t.find(here(line_sleep) + " in DOCTEST_ANON_FUNC_") != std::string::npos, t);
  CHECK_MESSAGE(t.find("... (50), created by goroutine " + std::to_string(rt::goroutine_id())) !=
                    std::string::npos,
                t);
  CHECK_MESSAGE(t.find("[running on worker ") != std::string::npos, t);  // the caller itself
  std::ostringstream json;
  rt::dump_goroutines(json, rt::dump_format::json);
  const std::string j = json.str();
  CHECK_MESSAGE(j.rfind("{\"goroutines\": ", 0) == 0, j);
  CHECK_MESSAGE(j.find("{\"count\": 50, \"created_at\": \"") != std::string::npos, j);
  CHECK_MESSAGE(
      j.find(here(line_recv) + "\", \"function\": \"DOCTEST_ANON_FUNC_") != std::string::npos, j);
  gate.close();
  stop = true;
  wg.wait();
}

TEST_CASE("leak_check: goroutines started since, still alive, with their sites") {
  for (int round = 0; round < 10; ++round) {
    rt::leak_check leaks;
    auto gate = rt::make_chan<int>();
    rt::wait_group wg;
    const int line = __LINE__ + 1;
    for (int i = 0; i < 3; ++i) wg.go([gate] { gate.recv(); });
    await_parked(here(line), "chan receive", 3);
    const auto left = leaks.leaked(0ms);
    CHECK(left.size() == 3);
    const std::string report = leaks.verify(0ms);
    CHECK(report.rfind("3 goroutines leaked:\n3 goroutines @ ", 0) == 0);
    CHECK(report.find(here(line) + " in DOCTEST_ANON_FUNC_") != std::string::npos);
    gate.close();
    // Woken, maybe not ended yet: the grace period lets them finish.
    CHECK(leaks.verify() == "");
    wg.wait();
  }
}

TEST_CASE("leak_check: goroutines alive before it are not its business") {
  auto gate = rt::make_chan<int>();
  rt::wait_group wg;
  wg.go([gate] { gate.recv(); });
  rt::leak_check leaks;
  CHECK(leaks.verify(0ms) == "");
  gate.close();
  wg.wait();
}

TEST_CASE("goroutines(): snapshots while goroutines start and end on every worker") {
  std::atomic<bool> stop{false};
  rt::wait_group churners;
  std::atomic<long> spawned{0};
  for (int c = 0; c < 4; ++c) {
    churners.go([&] {
      while (!stop) {
        rt::wait_group inner;
        for (int i = 0; i < 64; ++i) inner.go([&] { spawned.fetch_add(1); });
        inner.wait();
      }
    });
  }
  auto gate = rt::make_chan<int>();
  rt::wait_group parked;
  const int line = __LINE__ + 1;
  for (int i = 0; i < 200; ++i) parked.go([gate] { gate.recv(); });
  await_parked(here(line), "chan receive", 200);
  for (int k = 0; k < 200; ++k) {
    const auto gs = rt::goroutines();
    std::set<std::uint64_t> ids;
    std::size_t at_line = 0;
    for (const auto& g : gs) {
      ids.insert(g.id);
      if (ends_with(g.created_at, here(line))) {
        ++at_line;
        CHECK(g.state == "chan receive");
      }
    }
    CHECK(ids.size() == gs.size());
    CHECK(at_line == 200);  // the parked ones are seen in every snapshot, exactly once
  }
  stop = true;
  churners.wait();
  gate.close();
  parked.wait();
  CHECK(spawned.load() > 0);
}
