// runtime.cpp — rt::run, rt::go and the runtime's introspection (rt/runtime.hpp).
//
// Owns: the runtime lifecycle (which pool runs, who stops it), the goroutine entry
// point handed to the scheduler, panics, and GOMAXPROCS resolution.
// Invariants: at most one pool runs at a time, shared by every run() in progress (two
// threads may call run() at once: the main goroutines of both run on it) and by plain-thread go()s;
// it stops when the last run() using it returns, unless a plain-thread go() started it (the default
// runtime), which lives until process exit. A run() whose options the running pool cannot honour
// throws, except that an idle default runtime is restarted with them. Every goroutine record built
// by go_begin() is destroyed exactly once.
#include <cxxabi.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>

#include "diagnostics_internal.hpp"
#include "rt/detail/goroutine.hpp"
#include "rt/runtime.hpp"
#include "rt/scheduler/fatal.hpp"

namespace rt {
namespace {

constexpr std::size_t page_size = 4096;
constexpr std::size_t default_stack = 64 * 1024;
constexpr std::size_t main_stack = 1024 * 1024;

std::mutex lifecycle_mu;          // guards starting and stopping pools and what follows
bool default_runtime = false;     // the running pool was started by a plain go()
int runs = 0;                     // run() calls using the running pool
sched::config running_cfg;        // the running pool's configuration
std::atomic<int> mains_alive{0};  // main goroutines of run() calls, not yet ended
std::atomic<panic_policy> policy{panic_policy::crash};
std::atomic<int> left_at_exit{0};

std::mutex observers_mu;
std::atomic<int> observer_count{0};
panic_observer observers[16];

// ---- GOMAXPROCS --------------------------------------------------------------------

int affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)) > 0
             ? static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN))
             : 1;
}

// The tightest cgroup v2 cpu.max quota on the path from this process's cgroup to the
// root, in CPUs rounded up (Go 1.25's rule), or 0 when there is none.
int cgroup_cpu_limit() {
  std::ifstream cg("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(cg, line)) {
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  }
  if (path.empty()) return 0;
  double best = 0;
  for (;;) {
    std::ifstream f("/sys/fs/cgroup" + path + "/cpu.max");
    std::string quota;
    double period = 0;
    if (f >> quota >> period && quota != "max" && period > 0) {
      double cpus = std::stod(quota) / period;
      if (best == 0 || cpus < best) best = cpus;
    }
    if (path == "/" || path.empty()) break;
    auto slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return best > 0 ? std::max(1, static_cast<int>(std::ceil(best))) : 0;
}

int resolve_gomaxprocs(int requested) {
  if (requested > 0) return requested;
  if (const char* env = std::getenv("GOMAXPROCS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (*end == '\0' && n > 0 && n <= 1024) return static_cast<int>(n);
    std::fprintf(stderr, "rt: ignoring GOMAXPROCS=%s: not a whole number from 1 to 1024\n", env);
  }
  int cpus = affinity_cpus();
  if (int limit = cgroup_cpu_limit(); limit > 0) cpus = std::min(cpus, limit);
  return cpus;
}

// ---- goroutines --------------------------------------------------------------------

// Panics being reported (observers running): run() does not return, and so the process
// does not exit, while one is in flight (Go's runningPanicDefers).
std::mutex panic_mu;
std::condition_variable panic_cv;
int panics_in_flight = 0;  // guarded by panic_mu

void report_panic(std::uint64_t goid, std::exception_ptr e) noexcept {
  {
    std::lock_guard lk(panic_mu);
    ++panics_in_flight;
  }
  const int n = observer_count.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    try {
      observers[i](e);
    } catch (...) {  // an observer must not throw; its failure must not hide the panic
    }
  }
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    int status = 0;
    char* type = abi::__cxa_demangle(typeid(ex).name(), nullptr, nullptr, &status);
    what = std::string(status == 0 ? type : typeid(ex).name()) + ": " + ex.what();
    std::free(type);
  } catch (...) {
  }
  std::fprintf(stderr, "panic: goroutine %llu: %s\n", static_cast<unsigned long long>(goid),
               what.c_str());
  if (policy.load(std::memory_order_relaxed) == panic_policy::crash) {
    sched::exit_now();
  }
  std::lock_guard lk(panic_mu);
  if (--panics_in_flight == 0) panic_cv.notify_all();
}

void wait_for_panics() {
  std::unique_lock lk(panic_mu);
  panic_cv.wait(lk, [] { return panics_in_flight == 0; });
}

// Order at a goroutine's end, which wait_group::go and run() rely on: the job ends (a
// panic is reported while the goroutine's task-locals, its hub among them, still exist),
// then the task-locals are destroyed, then the record, and only then the exit hook runs.
void goroutine_main(sched::fiber& f) noexcept {
  detail::goroutine* g = detail::record_of(&f);
  // A panic is reported outside the handler: its observers may park (the hub flushing,
  // symbolising a creation site), and a goroutine that parks inside a catch block may
  // resume on another thread, whose C++ runtime keeps its own list of caught exceptions.
  std::exception_ptr panic;
  try {
    g->work.run();
  } catch (...) {
    panic = std::current_exception();
  }
  if (panic) report_panic(f.goid, std::exchange(panic, nullptr));
  detail::destroy_locals(g->locals);
  const detail::exit_hook last = g->on_exit;
  g->~goroutine();
  sched::finished();  // gone as far as num_goroutine() and run()'s count are concerned
  if (last.fn != nullptr) {
    try {
      last.fn(last.arg);
    } catch (...) {
      panic = std::current_exception();
    }
    if (panic) report_panic(f.goid, std::exchange(panic, nullptr));
  }
}

sched::config make_config(const options& opts) {
  std::size_t stack = opts.stack_size == 0 ? default_stack : opts.stack_size;
  stack = (stack + page_size - 1) / page_size * page_size;
  sched::config cfg;
  cfg.workers = resolve_gomaxprocs(opts.gomaxprocs);
  cfg.stack_size = stack;
  cfg.big_stack_size = std::max(stack, main_stack);
  cfg.main = goroutine_main;
  cfg.stuck_ns = std::chrono::nanoseconds(opts.stuck_worker_threshold).count();
  cfg.on_stuck = detail::report_stuck;
  cfg.on_deadlock = detail::report_deadlock;
  cfg.on_dump = detail::report_dump;
  return cfg;
}

void stop_default_runtime() {
  std::lock_guard lk(lifecycle_mu);
  if (default_runtime && runs == 0) {
    sched::stop(std::chrono::milliseconds(1000));
    default_runtime = false;
  }
}

void start_pool(const sched::config& cfg) {  // lifecycle_mu held
  sched::start(cfg);
  running_cfg = cfg;
}

std::string describe(int workers, std::size_t stack, panic_policy on_panic) {
  return "gomaxprocs=" + std::to_string(workers) + ", stack_size=" + std::to_string(stack / 1024) +
         " KiB, on_panic=" + (on_panic == panic_policy::crash ? "crash" : "report_and_continue");
}

// A run() joining the running pool: throws when the pool cannot honour its options
// (lifecycle_mu held).
void join_running_pool(const options& opts) {
  const sched::config want = make_config(opts);
  const bool workers_ok = opts.gomaxprocs == 0 || want.workers == running_cfg.workers;
  const bool stack_ok = opts.stack_size == 0 || want.stack_size == running_cfg.stack_size;
  const bool policy_ok = runs == 0 || opts.on_panic == policy.load(std::memory_order_relaxed);
  if (workers_ok && stack_ok && policy_ok) return;
  if (runs == 0 && default_runtime && sched::live() == 0) {  // idle: restart as asked
    sched::stop(std::chrono::milliseconds(1000));
    default_runtime = false;
    start_pool(want);
    return;
  }
  throw std::logic_error("rt::run: options (" +
                         describe(want.workers, want.stack_size, opts.on_panic) +
                         ") cannot apply: the runtime already running (" +
                         (runs > 0 ? "another rt::run"
                                   : "started by rt::go on a plain thread, with " +
                                         std::to_string(sched::live()) + " goroutines alive") +
                         ") has " +
                         describe(running_cfg.workers, running_cfg.stack_size,
                                  policy.load(std::memory_order_relaxed)));
}

// The goroutine's record in a fiber from acquire(); clones the caller's task-locals.
detail::job& begin(sched::fiber* f) {
  auto* g = new (f->payload) detail::goroutine;
  try {
    detail::clone_locals(g->locals);
  } catch (...) {
    g->~goroutine();
    sched::release_unused(f);
    throw;
  }
  return g->work;
}

}  // namespace

namespace detail {

void ensure_runtime() {
  if (sched::running()) return;
  std::lock_guard lk(lifecycle_mu);
  if (sched::running()) return;
  start_pool(make_config(options{}));
  if (!default_runtime) {
    static std::once_flag once;
    std::call_once(once, [] { std::atexit(stop_default_runtime); });
  }
  default_runtime = true;
}

job& go_begin() {
  const auto site = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
  for (;;) {
    ensure_runtime();
    // nullptr: the pool stopped since ensure_runtime looked (a run() returned); the next
    // go() from a plain thread starts the default runtime.
    if (sched::fiber* f = sched::acquire(false)) {
      f->created_pc = site;
      return begin(f);
    }
  }
}

void go_cancel(job& j) noexcept {
  sched::fiber* f = fiber_of_job(j);
  goroutine* g = record_of(f);
  destroy_locals(g->locals);
  g->~goroutine();
  sched::release_unused(f);
}

void go_commit(job& j, exit_hook on_exit) {
  sched::fiber* f = fiber_of_job(j);
  record_of(f)->on_exit = on_exit;
  sched::launch(f);
}

sched::deadlock_mode deadlock_mode_of(const options& opts) {
  switch (opts.deadlock) {
    case deadlock_detection::automatic:
      return sched::deadlock_mode::automatic;
    case deadlock_detection::ignore_plain_threads:
      return sched::deadlock_mode::ignore_plain_threads;
    case deadlock_detection::off:
      break;
  }
  return sched::deadlock_mode::off;
}

int run_main(job& main, const options& opts) {
  const auto site = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
  if (sched::current() != nullptr) {
    throw std::logic_error(
        "rt::run: called from inside a goroutine (run is the program's entry, "
        "use rt::go to start goroutines)");
  }
  // This run's use of the pool: the last run() to leave stops it (unless it is the
  // default runtime, which lives until exit).
  struct pool_use {
    explicit pool_use(const options& opts) {
      std::lock_guard lk(lifecycle_mu);
      if (!sched::running()) {
        start_pool(make_config(opts));
      } else {
        join_running_pool(opts);
      }
      ++runs;
      mains_alive.fetch_add(1);
      policy.store(opts.on_panic, std::memory_order_relaxed);
      // Deadlocks are looked for only while run()s use the pool: the default runtime's
      // plain threads go on after their go()s. This thread waits in run: it wakes nobody.
      sched::set_deadlock_mode(default_runtime ? sched::deadlock_mode::off
                                               : deadlock_mode_of(opts));
      sched::count_known_thread(1);
    }
    ~pool_use() {
      std::lock_guard lk(lifecycle_mu);
      sched::count_known_thread(-1);
      if (--runs > 0) return;
      if (default_runtime) {
        sched::set_deadlock_mode(sched::deadlock_mode::off);
        return;
      }
      if (!sched::stop(std::chrono::milliseconds(1000))) {
        std::fprintf(stderr,
                     "rt: a worker thread is stuck in a goroutine that never parks; "
                     "left it running\n");
      }
    }
  } use(opts);

  // The main goroutine's exit hook: runs after main's panic (if any) was reported, its
  // task-locals are gone and it no longer counts as live. Counts everyone but the other
  // runs' main goroutines; goroutines whose last statement woke main may still be finishing (a
  // wg.go goroutine never is: its done() comes after finished()): give them a moment.
  struct done_signal {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    bool panicked = false;
    int left = 0;
    std::uint64_t main_id = 0;  // still listed while it finishes: not a leak
    static void notify(void* arg) {
      auto* s = static_cast<done_signal*>(arg);
      s->main_id = goroutine_id();
      const int other_mains = mains_alive.fetch_sub(1) - 1;  // this main is already done
      for (int i = 0; i < 100 && sched::live() > other_mains; ++i) sched::yield();
      s->left = std::max(0, sched::live() - other_mains);
      std::lock_guard lk(s->mu);
      s->done = true;
      s->cv.notify_one();
    }
  } sig;
  job* j = nullptr;
  try {
    sched::fiber* f = sched::acquire(true);  // never nullptr: `use` keeps the pool running
    f->created_pc = site;
    j = &begin(f);
    j->emplace([&main, &sig] {
      try {
        main.run();
      } catch (...) {
        sig.panicked = true;
        throw;  // a panic in main, handled like any goroutine's
      }
    });
  } catch (...) {
    if (j != nullptr) go_cancel(*j);
    mains_alive.fetch_sub(1);
    throw;
  }
  go_commit(*j, {&done_signal::notify, &sig});
  {
    std::unique_lock lk(sig.mu);
    sig.cv.wait(lk, [&] { return sig.done; });
  }
  wait_for_panics();  // another goroutine's panic being reported keeps the program alive
  left_at_exit.store(sig.left, std::memory_order_relaxed);
  if (sig.left > 0) {
    std::fprintf(stderr, "rt: %d goroutine%s still alive when main returned\n", sig.left,
                 sig.left == 1 ? "" : "s");
    if (opts.report_leaks) detail::report_alive(sig.main_id);
  }
  return sig.panicked ? 2 : 0;
}

}  // namespace detail

void yield() {
  sched::yield();
}

int num_goroutine() {
  return sched::live();
}

int gomaxprocs() {
  int n = sched::workers();
  return n > 0 ? n : resolve_gomaxprocs(0);
}

std::uint64_t goroutine_id() noexcept {
  sched::fiber* f = sched::current();
  return f != nullptr ? static_cast<std::uint64_t>(f->goid) : 0;
}

int goroutines_left() {
  return left_at_exit.load(std::memory_order_relaxed);
}

void add_panic_observer(panic_observer observer) {
  std::lock_guard lk(observers_mu);
  int n = observer_count.load(std::memory_order_relaxed);
  if (n == static_cast<int>(std::size(observers))) {
    throw std::length_error("rt::add_panic_observer: too many observers (16)");
  }
  observers[n] = observer;
  observer_count.store(n + 1, std::memory_order_release);
}

}  // namespace rt
