// lifecycle_stress — whole-process stress cases: what happens around rt::run's start and
// end, and across processes. Each case is one run of this program (CTest registers each
// at 1, 2, 4 and 8 workers, tests/stress/CMakeLists.txt); it exits 0 after printing
// "<case>: ok", else prints what went wrong (or the watchdog's stall report) and exits
// non-zero.
//   run_after_run      200 rt::run in a row (fewer under ASan), each spawning and
//                      counting goroutines: exact counts, no goroutine left, and no file
//                      descriptor or thread leaked across runs
//   two_runs           two plain threads call rt::run at the same time, repeatedly: both
//                      return their own main's result and both mains' goroutines all ran
//   shutdown_wakes     plain threads keep waking goroutines (try_send, send, wait_group
//                      done) while rt::run returns and afterwards: no crash, clean under
//                      ASan
//   chan_across_runs   channels and a wait group kept from one rt::run wake that run's
//                      abandoned goroutines from the next run and from plain threads:
//                      nothing crashes and the abandoned goroutines never run again
//   wg_negative        wg.go(f) where f also calls wg.done(): must panic ("panic:
//                      goroutine N: std::logic_error: ...", exit 2), not terminate; CTest
//                      matches the output
//   fork_exec          a goroutine forks and the child execs /bin/true (status 0), while
//                      the parent's other goroutines run, some always runnable
//   fork_exit          the same, the child _exits at once without calling rt
//   fork_park, fork_yield, fork_go, fork_sleep
//                      the child parks on a channel / yields / spawns / sleeps: it must
//                      die with "rt: fatal error: ... fork ..." (exit 2)
//                      In every fork case no goroutine of the parent may ever run in the
//                      child (each reports its pid on a pipe when it finds itself in one).
//   wide_pool          96 workers, whatever GOMAXPROCS says: 88 goroutines each spawn a
//                      child that never yields until all 88 parents ran again, so each
//                      parent waits in the run-next slot of a worker its child holds, on
//                      workers of every index (past 64 included), and only an idle
//                      worker's run-next steal can run it
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <rt/rt.hpp>

#include "stress.hpp"

namespace {

using namespace std::chrono_literals;
using rt_stress::fail;

int count_dir(const char* path) {
  DIR* d = ::opendir(path);
  if (d == nullptr) return -1;
  int n = 0;
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

// One ordinary run's main: `goroutines` goroutines (wg.go) each send a number, main
// sums them; returns the sum. When wg.wait() returns, those goroutines are gone (wg.go's
// contract), so none may be reported still alive.
int busy_main(int goroutines) {
  auto c = rt::make_chan<int>(static_cast<std::size_t>(goroutines));
  rt::wait_group wg;
  for (int i = 1; i <= goroutines; ++i) {
    wg.go([c, i] {
      if (i % 3 == 0) rt::yield();
      c.send(i);
    });
  }
  wg.wait();
  c.close();
  int sum = 0;
  for (int v : c) sum += v;
  return sum;
}

int run_after_run() {
  const int runs = static_cast<int>(rt_stress::scaled(200, 4));
  const int g = 100;
  const int want = g * (g + 1) / 2;
  rt_stress::watchdog wd("run_after_run");
  std::atomic<long> done{0};
  wd.track("runs done", done);
  // Warm up once (one-time allocations: the guard-page handler, stacks' slabs).
  if (int r = rt::run([] { return busy_main(10); }); r != 55) fail("warm-up run returned %d", r);
  const int fds = count_dir("/proc/self/fd");
  const int threads = count_dir("/proc/self/task");
  for (int k = 0; k < runs; ++k) {
    wd.stage("run " + std::to_string(k));
    int r = rt::run([] { return busy_main(g); });
    if (r != want) fail("run %d returned %d, want %d", k, r, want);
    if (rt::goroutines_left() != 0) fail("run %d left %d goroutines", k, rt::goroutines_left());
    done.fetch_add(1);
  }
  const int fds_after = count_dir("/proc/self/fd");
  if (fds_after != fds) fail("%d file descriptors before %d runs, %d after", fds, runs, fds_after);
  // A joined thread can still be listed for a moment (pthread_join returns when the
  // thread has cleared its tid, before the kernel reaps it), so either count may include
  // the last run's workers on their way out: a leak is a count that stays above the
  // count before, not one that is above it once.
  int threads_after = count_dir("/proc/self/task");
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (threads_after > threads && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
    threads_after = count_dir("/proc/self/task");
  }
  if (threads_after > threads) {
    fail("%d threads before %d runs, still %d after", threads, runs, threads_after);
  }
  std::printf("run_after_run: ok (%d runs, %d fds, %d threads)\n", runs, fds, threads);
  return 0;
}

int two_runs() {
  // Which run starts the pool and which returns first is left to chance: each round
  // has both orders about equally often.
  const int rounds = static_cast<int>(rt_stress::scaled(20, 2));
  rt_stress::watchdog wd("two_runs");
  std::atomic<long> returned{0};
  wd.track("rt::run calls returned", returned);
  for (int round = 0; round < rounds; ++round) {
    wd.stage("round " + std::to_string(round) + ": two rt::run at once");
    std::atomic<int> ready{0};
    int result[2] = {-1, -1};
    std::atomic<int> ran[2] = {0, 0};
    std::string error[2];
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; ++t) {
      ts.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < 2) std::this_thread::yield();  // start together
        try {
          result[t] = rt::run([&, t] {
            const int n = 200 * (t + 1);
            rt::wait_group wg;
            for (int i = 0; i < n; ++i) {
              wg.go([&, t] {
                rt::yield();
                ran[t].fetch_add(1);
              });
            }
            // Walks the pool's registry, which the other run's ended main once stayed
            // linked into (its freed fiber, then a new one on the same stack: a loop).
            if (rt::goroutines().empty()) fail("goroutines() does not list main");
            wg.wait();
            return busy_main(10) + t;  // 55 or 56
          });
        } catch (const std::exception& e) {
          error[t] = e.what();
        }
        returned.fetch_add(1);
      });
    }
    for (auto& t : ts) t.join();
    for (int t = 0; t < 2; ++t) {
      if (!error[t].empty())
        fail("round %d: rt::run on thread %d threw: %s", round, t, error[t].c_str());
      if (result[t] != 55 + t)
        fail("round %d: run %d returned %d, want %d", round, t, result[t], 55 + t);
      if (ran[t].load() != 200 * (t + 1)) {
        fail("round %d: run %d's goroutines ran %d times, want %d", round, t, ran[t].load(),
             200 * (t + 1));
      }
    }
  }
  std::printf("two_runs: ok (%d rounds)\n", rounds);
  return 0;
}

int shutdown_wakes() {
  // Abandoned goroutines keep their stacks (rt::run leaks them on purpose): few per round.
  const int rounds = static_cast<int>(rt_stress::scaled(80, 2));
  const int loopers = 8, once = 64, threads = 2;
  rt_stress::watchdog wd("shutdown_wakes");
  std::atomic<long> wakes{0};
  wd.track("wake-ups from plain threads", wakes);
  for (int round = 0; round < rounds; ++round) {
    wd.stage("round " + std::to_string(round));
    // in[0, loopers): receivers that park again after every value; the rest receive once.
    // A try_send that finds its receiver parked is a wake-up (unpark) from a plain thread.
    std::vector<rt::chan<long>> in;
    for (int i = 0; i < loopers + once; ++i) in.push_back(rt::make_chan<long>());
    // Also wake-ups through a buffered channel's send() and wait groups' done().
    const long sink_sends = 1000;
    auto sink = rt::make_chan<long>(static_cast<std::size_t>(sink_sends) * threads);
    std::vector<std::unique_ptr<rt::wait_group>> wgs;
    for (int i = 0; i < 16; ++i) {
      wgs.push_back(std::make_unique<rt::wait_group>());
      wgs.back()->add(1);
    }
    std::atomic<bool> run_returned{false};
    std::atomic<long> woken_before{0};
    std::vector<std::thread> ts;
    int r = rt::run([&] {
      for (int i = 0; i < loopers + once; ++i) {
        rt::go([c = in[static_cast<std::size_t>(i)], loop = i < loopers] {
          do {
            if (!c.recv()) return;
          } while (loop);
        });
      }
      for (auto& wg : wgs) rt::go([w = wg.get()] { w->wait(); });
      rt::go([sink] {
        while (sink.recv()) {
        }
      });
      for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
          rt_stress::rng rg(static_cast<std::uint64_t>(round) * 16 + static_cast<std::uint64_t>(t));
          long after_return = 0;
          for (long k = 0; after_return < 2000; ++k) {
            if (in[rg.below(loopers + once)].try_send(k)) {
              wakes.fetch_add(1, std::memory_order_relaxed);
              if (!run_returned.load(std::memory_order_relaxed)) woken_before.fetch_add(1);
            }
            if (k < sink_sends) sink.send(k);  // room for every one: never blocks
            if (k % 8 == 0 && k / 8 < 8) wgs[static_cast<std::size_t>(t * 8 + k / 8)]->done();
            if (run_returned.load(std::memory_order_relaxed)) ++after_return;
          }
        });
      }
      // Return while the threads are mid-storm.
      while (woken_before.load() < 50) rt::yield();
      return 7;
    });
    run_returned.store(true);
    for (auto& t : ts) t.join();
    if (r != 7) fail("round %d: run returned %d", round, r);
  }
  std::printf("shutdown_wakes: ok (%d rounds)\n", rounds);
  return 0;
}

int chan_across_runs() {
  const int rounds = static_cast<int>(rt_stress::scaled(40, 4));
  rt_stress::watchdog wd("chan_across_runs");
  std::atomic<long> rounds_done{0};
  wd.track("rounds done", rounds_done);
  static std::atomic<int> resumed{0};  // abandoned goroutines that ran again
  for (int round = 0; round < rounds; ++round) {
    wd.stage("round " + std::to_string(round));
    const int n = 8;
    // kept[i]: goroutine i parks on it; kept[n + i]: the second case of i's select.
    std::vector<rt::chan<int>> kept;
    for (int i = 0; i < 2 * n; ++i) kept.push_back(rt::make_chan<int>());
    auto kept_wg = std::make_shared<rt::wait_group>();
    kept_wg->add(1);
    // Run 1: goroutines park on the kept channels (receive, select, send) and the wait
    // group; main returns and abandons them.
    rt::run([&] {
      rt::wait_group started;
      for (int i = 0; i < n; ++i) {
        started.go(
            [c = kept[static_cast<std::size_t>(i)], d = kept[static_cast<std::size_t>(n + i)], i] {
              rt::go([c, d, i] {
                if (i % 3 == 0) {
                  c.recv();
                } else if (i % 3 == 1) {
                  rt::select(rt::case_recv(c), rt::case_recv(d));
                } else {
                  c.send(i);  // parks as a sender
                }
                resumed.fetch_add(1);
              });
            });
      }
      started.go([kept_wg] {
        rt::go([kept_wg] {
          kept_wg->wait();
          resumed.fetch_add(1);
        });
      });
      started.wait();
      // Let them all park (bounded: the watchdog reports a hang).
      while (rt::num_goroutine() > n + 2) rt::yield();
    });
    // Between runs, from this plain thread: wake them (nothing may run).
    for (int i = 0; i < n; i += 4) {
      kept[static_cast<std::size_t>(i)].try_send(1);
      kept[static_cast<std::size_t>(i) + 2].try_recv();
    }
    // Run 2: wake the rest from a goroutine and from a plain thread, with new goroutines
    // busy meanwhile.
    int r = rt::run([&] {
      std::thread th([&] {
        for (int i = 1; i < n; i += 4) kept[static_cast<std::size_t>(i)].try_send(2);
      });
      for (int i = 3; i < n; i += 4) {
        kept[static_cast<std::size_t>(i)].try_send(3);
        kept[static_cast<std::size_t>(i)].try_recv();
      }
      kept_wg->done();
      int sum = busy_main(50);
      rt::blocking([&] { th.join(); });
      return sum;
    });
    if (r != 50 * 51 / 2) fail("round %d: second run returned %d", round, r);
    if (resumed.load() != 0) {
      fail("round %d: %d goroutine(s) of an earlier rt::run ran again", round, resumed.load());
    }
    rounds_done.fetch_add(1);
  }
  std::printf("chan_across_runs: ok (%d rounds)\n", rounds);
  return 0;
}

int wg_negative() {
  rt_stress::watchdog wd("wg_negative: neither a panic nor an exit");
  return rt::run([] {
    static rt::wait_group wg;
    wg.go([] { wg.done(); });     // the goroutine's own done() on exit takes it below zero
    rt::make_chan<int>().recv();  // only the panic ends this process
  });
}

// ---- fork -------------------------------------------------------------------------

enum class child_does { exec, exit, park, yield, go, sleep };

[[noreturn]] void child_body(child_does what) {
  switch (what) {
    case child_does::exec:
      ::execl("/bin/true", "true", static_cast<char*>(nullptr));
      ::_exit(127);
    case child_does::exit:
      ::_exit(0);
    case child_does::park:
      rt::make_chan<int>().recv();
      break;
    case child_does::yield:
      for (int i = 0; i < 1000; ++i) rt::yield();
      break;
    case child_does::go:
      rt::go([] {});
      rt::yield();
      break;
    case child_does::sleep:
      rt::sleep_for(1h);  // long enough that it must park (a past deadline returns at once)
      break;
  }
  std::fprintf(stderr, "child went on after an rt call\n");
  ::_exit(0);
}

std::string drain(int fd) {
  std::string s;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return s;
    s.append(buf, static_cast<std::size_t>(n));
  }
}

int fork_case(const char* name, child_does what) {
  const bool must_die = what != child_does::exec && what != child_does::exit;
  const int rounds = must_die ? 4 : static_cast<int>(rt_stress::scaled(20, 3));
  const auto child_bound = rt_stress::asan ? 30s : 10s;
  rt_stress::watchdog wd(name);
  std::atomic<long> forks{0}, ticks{0};
  wd.track("children reaped", forks);
  wd.track("parent goroutines' turns", ticks);
  std::string failure;
  rt::run([&] {
    const pid_t parent = ::getpid();
    int report[2], err[2], reaped[2];
    if (::pipe2(report, O_CLOEXEC | O_NONBLOCK) != 0 || ::pipe2(err, O_CLOEXEC | O_NONBLOCK) != 0 ||
        ::pipe2(reaped, O_CLOEXEC) != 0) {
      fail("pipe2: %s", std::strerror(errno));
    }
    std::atomic<bool> stop{false};
    rt::wait_group others;
    // The parent's other goroutines: odd ones always runnable (yield), even ones asleep
    // on timers. Any of them that finds itself in a child writes the child's pid.
    for (int i = 0; i < 2 * rt::gomaxprocs() + 2; ++i) {
      others.go([&, i] {
        while (!stop.load(std::memory_order_relaxed)) {
          if (::getpid() != parent) {
            pid_t me = ::getpid();
            (void)!::write(report[1], &me, sizeof me);
          }
          ticks.fetch_add(1, std::memory_order_relaxed);
          if (i % 2 == 1) {
            rt::yield();
          } else {
            rt::sleep_for(100us);
          }
        }
      });
    }
    for (int round = 0; round < rounds && failure.empty(); ++round) {
      wd.stage(std::string(name) + ": child " + std::to_string(round));
      rt::yield();  // let the others fill this worker's queues
      const pid_t child = ::fork();
      if (child < 0) fail("fork: %s", std::strerror(errno));
      if (child == 0) {
        ::dup2(err[1], 2);
        child_body(what);
      }
      // A plain thread kills the child if it hangs or runs a parent goroutine.
      std::atomic<int> verdict{0};  // 1: ran a parent goroutine, 2: hung
      std::thread killer([&] {
        pollfd p[2] = {{report[0], POLLIN, 0}, {reaped[0], POLLIN, 0}};
        int r = ::poll(p, 2, static_cast<int>(std::chrono::milliseconds(child_bound).count()));
        if (r > 0 && (p[1].revents & POLLIN) != 0) return;
        verdict.store(r > 0 ? 1 : 2);
        ::kill(child, SIGKILL);
      });
      int status = 0;
      rt::blocking([&] { ::waitpid(child, &status, 0); });
      char one = 1;
      (void)!::write(reaped[1], &one, 1);
      killer.join();
      char drop;
      (void)!::read(reaped[0], &drop, 1);
      forks.fetch_add(1);
      const std::string child_err = drain(err[0]);
      const std::string pids = drain(report[0]);
      char buf[512];
      if (!pids.empty()) {
        pid_t who = 0;
        std::memcpy(&who, pids.data(), sizeof who);
        std::snprintf(buf, sizeof buf, "a goroutine of the parent ran in the child (pid %d)",
                      static_cast<int>(who));
        failure = buf;
      } else if (verdict.load() == 2) {
        std::snprintf(buf, sizeof buf, "the child hung (killed after %lld s)",
                      static_cast<long long>(std::chrono::seconds(child_bound).count()));
        failure = buf;
      } else if (!WIFEXITED(status)) {
        std::snprintf(buf, sizeof buf, "the child died of signal %d", WTERMSIG(status));
        failure = buf;
      } else if (!must_die && WEXITSTATUS(status) != 0) {
        std::snprintf(buf, sizeof buf, "the child exited %d, want 0", WEXITSTATUS(status));
        failure = buf;
      } else if (must_die && (WEXITSTATUS(status) != 2 ||
                              child_err.find("rt: fatal error:") == std::string::npos ||
                              child_err.find("fork") == std::string::npos)) {
        std::snprintf(buf, sizeof buf,
                      "the child exited %d, want 2 with \"rt: fatal error: ... fork ...\"",
                      WEXITSTATUS(status));
        failure = buf;
      }
      if (!failure.empty()) failure += "; child's stderr: [" + child_err + "]";
    }
    wd.stage(std::string(name) + ": stopping the parent's goroutines");
    stop.store(true);
    others.wait();
    for (int fd : {report[0], report[1], err[0], err[1], reaped[0], reaped[1]}) ::close(fd);
  });
  if (!failure.empty()) fail("%s: %s", name, failure.c_str());
  std::printf("%s: ok (%ld children)\n", name, forks.load());
  return 0;
}

int wide_pool() {
  constexpr int workers = 96, parents = 88;
  rt_stress::watchdog wd("wide_pool");
  std::atomic<long> resumed{0};  // parents that ran again after their child started
  wd.track("parents resumed", resumed);
  rt::options opts;
  opts.gomaxprocs = workers;
  const int r = rt::run(
      [&] {
        rt::wait_group wg;
        for (int i = 0; i < parents; ++i) {
          wg.go([&] {
            // Child-first: the child runs at once and this parent waits in run-next.
            wg.go([&] {
              // Holds its worker (no rt call) until every parent ran again; the OS
              // yield only lends the CPU to the other worker threads.
              while (resumed.load() < parents) std::this_thread::yield();
            });
            resumed.fetch_add(1);
          });
        }
        wg.wait();
        return 0;
      },
      opts);
  if (r != 0 || resumed.load() != parents)
    fail("wide_pool: %ld of %d parents resumed", resumed.load(), parents);
  std::printf("wide_pool: ok (%d parents stolen back from run-next on %d workers)\n", parents,
              workers);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  if (what == "run_after_run") return run_after_run();
  if (what == "two_runs") return two_runs();
  if (what == "shutdown_wakes") return shutdown_wakes();
  if (what == "chan_across_runs") return chan_across_runs();
  if (what == "wg_negative") return wg_negative();
  if (what == "fork_exec") return fork_case("fork_exec", child_does::exec);
  if (what == "fork_exit") return fork_case("fork_exit", child_does::exit);
  if (what == "fork_park") return fork_case("fork_park", child_does::park);
  if (what == "fork_yield") return fork_case("fork_yield", child_does::yield);
  if (what == "fork_go") return fork_case("fork_go", child_does::go);
  if (what == "fork_sleep") return fork_case("fork_sleep", child_does::sleep);
  if (what == "wide_pool") return wide_pool();
  std::fprintf(
      stderr,
      "usage: lifecycle_stress run_after_run|two_runs|shutdown_wakes|chan_across_runs|"
      "wg_negative|fork_exec|fork_exit|fork_park|fork_yield|fork_go|fork_sleep|wide_pool\n");
  return 64;
}
