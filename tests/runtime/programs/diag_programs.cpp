// diag_programs.cpp — whole programs for the diagnostics that end or outlive a process:
// deadlocks (exit 2 and the dump), programs that must not be taken for deadlocked, stuck
// workers, SIGQUIT dumps and the leak report of rt::run. CTest matches the output
// (tests/runtime/CMakeLists.txt). Usage: diag_programs <mode>
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "rt/rt.hpp"

namespace {

using namespace std::chrono_literals;

// Every goroutine waits for a value nobody sends: main on a channel, others on a mutex,
// a condition and a wait group.
int deadlock_everywhere() {
  return rt::run([] {
    auto never = rt::make_chan<int>();
    rt::mutex mu;
    mu.lock();
    rt::wait_group inner;
    inner.add(1);
    rt::wait_group started;
    for (int i = 0; i < 3; ++i) started.go([&] { inner.wait(); });  // parked for good
    rt::go([&] {
      mu.lock();  // held by main: parked for good
      mu.unlock();
    });
    std::printf("main waits\n");
    std::fflush(stdout);
    never.recv();
    std::printf("unreachable\n");
  });
}

// A goroutine parked on a channel while main waits for it: a two-goroutine cycle.
int deadlock_select() {
  return rt::run([] {
    auto a = rt::make_chan<int>();
    auto b = rt::make_chan<int>();
    rt::go([&] { a.send(*b.recv()); });
    rt::select(rt::case_recv(a, [](std::optional<int>) {}));
  });
}

// Not a deadlock: main waits for a plain thread that will call done() later.
int plain_thread_wakes() {
  return rt::run([] {
    rt::wait_group wg;
    wg.add(1);
    std::thread t([&] {
      std::this_thread::sleep_for(400ms);  // the program's own pace, not the test's sync
      wg.done();
    });
    wg.wait();
    t.join();
    std::printf("woken by the plain thread\n");
  });
}

// Not a deadlock: everyone waits, but a timer will fire (a select with rt::after).
int timer_pending() {
  return rt::run([] {
    auto never = rt::make_chan<int>();
    bool timed_out = false;
    rt::select(rt::case_recv(never, [](std::optional<int>) {}),
               rt::case_recv(rt::after(400ms), [&](auto) { timed_out = true; }));
    std::printf("timer fired: %d\n", timed_out ? 1 : 0);
  });
}

// ignore_plain_threads: a thread that never wakes anyone does not hide the deadlock.
int deadlock_with_idle_thread() {
  std::thread idle([] { std::this_thread::sleep_for(std::chrono::hours(1)); });
  idle.detach();
  rt::options opts;
  opts.deadlock = rt::deadlock_detection::ignore_plain_threads;
  return rt::run(
      [] {
        auto never = rt::make_chan<int>();
        never.recv();
      },
      opts);
}

// A goroutine that blocks its worker in a system call for 600 ms: reported once.
int stuck_worker() {
  return rt::run([] {
    rt::wait_group wg;
    wg.go([] { ::usleep(600'000); });
    wg.wait();
    std::printf("stuck goroutine done\n");
  });
}

// SIGQUIT: the dump goes to stderr (read back here through a pipe) and the program goes on.
int sigquit_dump() {
  return rt::run([] {
    auto gate = rt::make_chan<int>();
    rt::wait_group wg;
    for (int i = 0; i < 4; ++i) wg.go([&] { gate.recv(); });
    int fds[2];
    if (::pipe(fds) != 0) return 1;
    const int saved = ::dup(2);
    ::dup2(fds[1], 2);
    ::close(fds[1]);
    ::raise(SIGQUIT);
    std::string dump;
    rt::blocking([&] {  // until the dump's last group (the 4 parked goroutines) is in
      char buf[4096];
      while (dump.find("\n", dump.find("ids ")) == std::string::npos) {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        dump.append(buf, static_cast<std::size_t>(n));
      }
    });
    ::dup2(saved, 2);
    ::close(saved);
    ::close(fds[0]);
    std::printf("dump read:\n%s", dump.c_str());
    for (int i = 0; i < 4; ++i) gate.send(i);
    wg.wait();
    std::printf("still running after SIGQUIT\n");
    return 0;
  });
}

// report_leaks: goroutines alive when main returns are listed with their sites.
int report_leaks() {
  rt::options opts;
  opts.report_leaks = true;
  return rt::run(
      [] {
        auto forgotten = rt::make_chan<int>();
        for (int i = 0; i < 3; ++i) rt::go([forgotten] { forgotten.recv(); });
        rt::go([] { rt::sleep_for(1h); });
        // Until all four are parked: a goroutine on another worker may not be yet.
        const auto parked = [] {
          int n = 0;
          for (const rt::goroutine_info& g : rt::goroutines()) {
            n += g.state == "chan receive" || g.state == "sleep" ? 1 : 0;
          }
          return n == 4;
        };
        while (!parked()) rt::yield();
      },
      opts);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "deadlock") return deadlock_everywhere();
  if (mode == "deadlock_select") return deadlock_select();
  if (mode == "plain_thread") return plain_thread_wakes();
  if (mode == "timer") return timer_pending();
  if (mode == "deadlock_idle_thread") return deadlock_with_idle_thread();
  if (mode == "stuck") return stuck_worker();
  if (mode == "sigquit") return sigquit_dump();
  if (mode == "leaks") return report_leaks();
  std::fprintf(stderr, "usage: diag_programs <mode>\n");
  return 64;
}
