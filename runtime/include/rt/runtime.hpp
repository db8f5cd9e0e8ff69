// rt/runtime.hpp — running goroutines: rt::run, rt::go, rt::yield and the runtime's
// introspection calls.
//
// Example:
//   int main() {
//     return rt::run([] {                 // the main goroutine
//       rt::wait_group wg;
//       for (int i = 1; i <= 3; ++i) wg.go([](int id) { std::printf("worker %d\n", id); }, i);
//       wg.wait();
//     });
//   }
//
// Owns: the public entry points of the goroutine runtime. Goroutines are Boost.Fiber
// fibers run by rt's M:N work-stealing scheduler (scheduler/), GOMAXPROCS worker threads.
// Invariant: a goroutine never blocks its worker thread through an rt call; rt calls
// that wait park the goroutine, and from a plain thread they block that thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

#include "rt/detail/job.hpp"

namespace rt {

// What happens when an exception escapes a goroutine (a panic). In every case the
// panic observers (the hub's capture among them) run first, on the panicking goroutine.
enum class panic_policy {
  crash,                // print "panic: goroutine N: <what>" on stderr, exit status 2 (Go's rule)
  report_and_continue,  // print the same line, then let the other goroutines go on
};

// What rt::run does when every goroutine is asleep for good: parked on rt's channels,
// mutexes, conditions or wait groups, with no timer, socket or blocking call pending that
// could wake one. It then prints "rt: fatal error: all goroutines are asleep - deadlock!"
// and the goroutine dump on stderr and exits with status 2, as Go does.
enum class deadlock_detection {
  // Only while no thread rt does not know of exists: a plain thread (std::thread, a
  // library's) may still send on a channel or call done() on a wait group, so rt cannot
  // tell a deadlock from a wait for it. rt's own threads (workers, blocking-pool
  // threads, the threads blocked in rt::run) do not count.
  automatic,
  // Also while other threads exist: for programs whose plain threads never wake a
  // goroutine (a logger's thread, a metrics exporter).
  ignore_plain_threads,
  off,  // never: the program hangs, as it would without rt's help
};

struct options {
  // Worker threads. 0: the GOMAXPROCS environment variable, else the CPUs this process
  // may use (sched_getaffinity and the cgroup v2 cpu.max quota).
  int gomaxprocs = 0;
  // Usable stack of each goroutine in bytes, rounded up to pages. 0: 64 KiB. Only the
  // pages a goroutine touches cost memory. The main goroutine gets at least 1 MiB.
  std::size_t stack_size = 0;
  panic_policy on_panic = panic_policy::crash;
  deadlock_detection deadlock = deadlock_detection::automatic;
  // A goroutine that holds its worker this long without parking or yielding (a blocking
  // system call outside rt::blocking, a busy loop) is reported once on stderr with its id
  // and creation site. 0: never.
  std::chrono::milliseconds stuck_worker_threshold{100};
  // When run returns with goroutines alive: besides their count, list them as
  // rt::dump_goroutines does (creation site, state, how long).
  bool report_leaks = false;
};

namespace detail {
// What a goroutine does last: called on the goroutine after its function returned (or
// its panic was reported) and after its task-locals were destroyed, so a waiter it
// releases sees everything the goroutine owned gone. A throwing hook is a panic.
struct exit_hook {
  void (*fn)(void*) = nullptr;
  void* arg = nullptr;
};

int run_main(job& main, const options& opts);  // the main goroutine's site: its caller
void ensure_runtime();                         // starts the default runtime unless a pool runs
// go_begin reserves a goroutine and returns its (empty) job; the goroutine's creation
// site is go_begin's return address, in the user's function: go(), wait_group::go and
// spawn are always inlined there (Go's gopc, symbolised only when a dump asks).
job& go_begin();
void go_cancel(job&) noexcept;  // gives the reserved goroutine back (the job's emplace threw)
void go_commit(job&, exit_hook on_exit = {});  // starts the reserved goroutine

// spawn is go() with an exit hook (wait_group::go's done()).
template <class F, class... Args>
[[gnu::always_inline]] inline void spawn(exit_hook on_exit, F&& f, Args&&... args) {
  job& j = go_begin();
  try {
    j.emplace(std::forward<F>(f), std::forward<Args>(args)...);
  } catch (...) {
    go_cancel(j);
    throw;
  }
  go_commit(j, on_exit);
}
}  // namespace detail

// run starts the worker pool, runs `main` as the main goroutine on it and returns main's
// int result (0 for a void main). Blocks the calling thread until main returns. Like Go,
// goroutines still alive then do not keep the program alive: run stops the pool at once,
// prints "rt: N goroutine(s) still alive when main returned" on stderr when N > 0, and
// goroutines_left() tells N. While another goroutine's panic is being reported (its
// observers run, e.g. the hub sending the event), run waits for it: the process never
// exits under a panic in flight (crash policy: the panic ends it with status 2). Not
// reentrant: calling run inside a goroutine throws
// std::logic_error. A later run() after an earlier one returned starts a fresh pool.
template <class F>
[[gnu::always_inline]] inline int run(F&& main, options opts = {}) {
  int result = 0;
  detail::job j;
  if constexpr (std::is_convertible_v<std::invoke_result_t<F&>, int>) {
    j.emplace([&result, &main] { result = static_cast<int>(main()); });
  } else {
    j.emplace([&main] { main(); });
  }
  int rc = detail::run_main(j, opts);
  return rc != 0 ? rc : result;
}

// go starts a goroutine running f(args...). The arguments are evaluated and decay-copied
// in the caller at the call (Go's `go f(x)` rule); the child also gets a clone of the
// caller's task-locals (rt/task_local.hpp), among them its hub. Never blocks. Inside a
// goroutine the child starts running at once on this worker while the caller waits in
// the worker's run-next slot, where an idle worker can steal it. From a plain thread
// outside run(), the first go() starts a default runtime that lives until exit.
// Throws what copying f or args throws (then no goroutine starts).
template <class F, class... Args>
[[gnu::always_inline]] inline void go(F&& f, Args&&... args) {
  detail::spawn({}, std::forward<F>(f), std::forward<Args>(args)...);
}

// yield lets other goroutines run (Go's runtime.Gosched); the caller stays runnable.
// From a plain thread: std::this_thread::yield().
void yield();

// num_goroutine returns the number of goroutines that exist now (started, not ended).
int num_goroutine();

// gomaxprocs returns the number of worker threads of the running (or default) pool.
int gomaxprocs();

// goroutine_id returns the calling goroutine's id (1 for the first main goroutine,
// unique over the process lifetime), or 0 outside any goroutine.
std::uint64_t goroutine_id() noexcept;

// goroutines_left returns how many goroutines were still alive when the last run()
// returned (0 before any run() returned).
int goroutines_left();

// A panic observer runs on the panicking goroutine, inside the handler, before the
// panic policy applies. It must not throw (a throwing observer is ignored).
using panic_observer = void (*)(std::exception_ptr);

// add_panic_observer registers an observer for all goroutines. Thread-safe.
void add_panic_observer(panic_observer observer);

}  // namespace rt
