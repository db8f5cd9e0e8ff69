// run_programs — small programs CTest runs whole, for behaviour that ends or starts a
// process: what run() does with goroutines left blocked, panics, GOMAXPROCS, options
// (stack overflows: stack_programs.cpp). CTest checks each one's output and exit status
// (tests/runtime/CMakeLists.txt).
//   run_programs blocked        main returns while 3 goroutines are blocked forever
//   run_programs panic          a goroutine throws (default policy: crash, exit 2)
//   run_programs panic_continue same with panic_policy::report_and_continue
//   run_programs procs N        prints gomaxprocs() with options{.gomaxprocs = N}
//   run_programs plain_go       go() from main() with no run(): the default runtime
//   run_programs options_after_plain_go   run() with options after the default runtime
//                               went idle: restarted with them
//   run_programs options_conflict         the same while a plain-thread goroutine lives:
//                               run() throws, naming both configurations
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <rt/rt.hpp>

namespace {

int blocked() {
  int rc = rt::run([] {
    static rt::wait_group never;
    never.add(1);
    rt::wait_group started;
    for (int i = 0; i < 3; ++i) {
      started.go([] {});
      rt::go([] { never.wait(); });
    }
    started.wait();
    return 7;
  });
  std::printf("run returned %d, goroutines_left=%d\n", rc, rt::goroutines_left());
  // A second run() after the first starts a fresh pool.
  int again = rt::run([] { return rt::num_goroutine(); });
  std::printf("second run returned %d\n", again);
  return 0;
}

// crash: main waits for something the panicking goroutine never delivers, so only the
// panic can end the process (exit status 2). report_and_continue: wg.go's done() runs
// once the panic was reported, and main goes on.
int panic(rt::panic_policy policy) {
  int rc = rt::run(
      [policy] {
        rt::wait_group wg;
        if (policy == rt::panic_policy::crash) wg.add(1);
        wg.go([] { throw std::runtime_error("boom from a goroutine"); });
        wg.wait();
        std::printf("main goes on after the panic\n");
      },
      rt::options{.on_panic = policy});
  std::printf("run returned %d\n", rc);
  return 0;
}

int procs(int n) {
  return rt::run(
      [] {
        std::printf("gomaxprocs=%d\n", rt::gomaxprocs());
        return 0;
      },
      rt::options{.gomaxprocs = n});
}

int plain_go() {
  rt::wait_group wg;
  std::atomic<int> sum{0};
  for (int i = 1; i <= 100; ++i) wg.go([&sum](int v) { sum += v; }, i);
  wg.wait();
  std::printf("plain go sum=%d workers=%d\n", sum.load(), rt::gomaxprocs());
  return 0;
}

int options_after_plain_go() {
  rt::wait_group wg;
  wg.go([] {});
  wg.wait();
  const int want = rt::gomaxprocs() + 5;
  rt::run(
      [want] {
        std::printf("gomaxprocs=%d (asked %d): %s\n", rt::gomaxprocs(), want,
                    rt::gomaxprocs() == want ? "honoured" : "ignored");
        rt::wait_group inner;
        inner.go([] {  // a frame the default 64 KiB stack could not hold
          volatile char big[200 * 1024];
          big[0] = 1;
          big[sizeof big - 1] = big[0];
          std::printf("big frame ok %d\n", big[sizeof big - 1]);
        });
        inner.wait();
      },
      rt::options{.gomaxprocs = want, .stack_size = 1024 * 1024});
  return 0;
}

int options_conflict() {
  static rt::wait_group never;
  never.add(1);
  rt::go([] { never.wait(); });  // keeps the default runtime busy
  try {
    rt::run([] {}, rt::options{.gomaxprocs = rt::gomaxprocs() + 5});
    std::printf("run accepted options it cannot honour\n");
  } catch (const std::logic_error& e) {
    std::printf("refused: %s\n", e.what());
  }
  // Compatible options join the running pool.
  int rc = rt::run([] { return 7; });
  std::printf("compatible run returned %d\n", rc);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "";
  if (what == "blocked") return blocked();
  if (what == "panic") return panic(rt::panic_policy::crash);
  if (what == "panic_continue") return panic(rt::panic_policy::report_and_continue);
  if (what == "procs" && argc > 2) return procs(std::atoi(argv[2]));
  if (what == "plain_go") return plain_go();
  if (what == "options_after_plain_go") return options_after_plain_go();
  if (what == "options_conflict") return options_conflict();
  std::fprintf(stderr,
               "usage: run_programs blocked|panic|panic_continue|procs N|plain_go|"
               "options_after_plain_go|options_conflict\n");
  return 64;
}
