// rt/scheduler/scheduler.hpp — internal (not installed): the M:N scheduler's interface to
// rt's other layers. The part public headers need is rt/scheduler/park.hpp.
//
// Vocabulary (Go's, because the design is Go's):
//   fiber  (G) a Boost.Fiber context plus its control block; runs one goroutine at a
//              time and is recycled for the next one the moment a goroutine ends.
//   worker (M+P) one of GOMAXPROCS threads, with a local run queue, a run-next slot,
//              a fiber cache, a timer heap and an epoll instance it parks in.
//
// Design in brief (the essay is at the top of src/worker.cpp):
//   * Every worker thread installs rt's boost::fibers::algo::algorithm. Goroutine
//     fibers are *detached* from Boost's per-thread schedulers whenever they are not
//     running: they live in rt's queues, so any worker can run them and any thread can
//     wake them without Boost's remote-ready spinlock queue.
//   * go() is child-first: the child runs at once, the parent waits in the worker's
//     run-next slot (stealable only by a worker that saw the child run for a while).
//   * Runnable fibers: run-next slot, then a 256-entry local ring (owner pushes, thieves
//     steal half), then the global injection queue (moodycamel::ConcurrentQueue).
//   * Idle workers spin briefly, then park in epoll_wait on their eventfd with a
//     timeout at the earliest timer; waking one costs a write() only when nobody spins.
//
// Nothing here knows about goroutine APIs: the runtime hands the scheduler one
// fiber_main to call per job, and a payload area in each fiber for its own record.
#pragma once

#include <boost/fiber/context.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rt/scheduler/park.hpp"

namespace rt::sched {

struct worker;

// The runtime's per-job entry point: runs the job stored in f.payload, and calls
// finished() exactly once, when the goroutine counts as ended. Must not throw.
using fiber_main = void (*)(fiber& f) noexcept;

// Why a fiber is not running (for diagnostics: dumps, deadlock and leak reports).
enum class fiber_state : std::uint8_t {
  idle,      // in a fiber cache, no goroutine
  runnable,  // in a run queue or run-next slot
  running,   // on a worker
  parked,    // parked by park(); woken only by unpark()
};

// A field of a fiber that its single owner writes and that diagnostics (dumps, the
// monitor) read from any thread: a relaxed atomic, which costs what a plain access does.
template <class T>
class observed {
 public:
  observed(T v = T{}) noexcept : v_(v) {}
  operator T() const noexcept { return v_.load(std::memory_order_relaxed); }
  observed& operator=(T v) noexcept {
    v_.store(v, std::memory_order_relaxed);
    return *this;
  }

 private:
  std::atomic<T> v_;
};

// A fiber: one Boost.Fiber context and the control block that sits at the top of its
// own stack (so a parked goroutine touches one page). Fields are written by the
// thread running the fiber, or by whoever holds it in a queue (single owner at a time);
// the observed ones are also read by diagnostics (goroutines()) at any time.
struct fiber {
  static constexpr std::size_t payload_size = 256;

  // Opaque storage for the runtime's per-goroutine record (job, task-locals, ...).
  alignas(16) unsigned char payload[payload_size];

  boost::fibers::context* ctx = nullptr;  // on this fiber's stack; the fiber owns one ref
  observed<std::uint64_t> goid = 0;       // id of the goroutine it runs; 0 when idle
  std::uint64_t gen = 0;                  // generation of the pool that made it
  worker* last_worker = nullptr;          // the worker that last switched to it (pick_next)
  fiber* next = nullptr;                  // link in a fiber cache
  observed<fiber_state> state = fiber_state::idle;
  bool big = false;                         // main-goroutine stack: never cached
  observed<const char*> wait_reason = "";   // static string, set by park()
  observed<std::int64_t> since = 0;         // when it entered its state (coarse_now())
  observed<std::uint64_t> parent = 0;       // goid of the goroutine that launched it
  observed<std::uintptr_t> created_pc = 0;  // where it was launched from (go()'s caller)
  fiber* all_prev = nullptr;                // links in the pool's registry of fibers
  fiber* all_next = nullptr;
  void* stack_base = nullptr;       // lowest usable byte (canary lives here)
  std::size_t stack_size = 0;       // usable bytes from stack_base up (a guard page is below)
  bool guarded = false;             // has a PROT_NONE guard page below stack_base
  void* asan_fake_stack = nullptr;  // AddressSanitizer's fake-stack save across switches
  void* tsan_fiber = nullptr;       // ThreadSanitizer's context for this fiber (RT_TSAN)
};

// A live goroutine as goroutines() saw it (fields read one by one, without stopping it).
struct goroutine_view {
  std::uint64_t id = 0;
  std::uint64_t parent = 0;  // 0: launched from a plain thread
  std::uintptr_t created_pc = 0;
  fiber_state state = fiber_state::idle;
  const char* wait_reason = "";  // when parked
  std::int64_t since_ns = 0;     // steady-clock ns when it entered its state (coarse); 0: unknown
  int worker = -1;               // running: its worker's index
};

struct config {
  int workers = 1;             // >= 1
  std::size_t stack_size = 0;  // usable bytes of an ordinary fiber's stack (page multiple)
  std::size_t big_stack_size = 0;
  fiber_main main = nullptr;
  // The monitor thread (monitor.cpp) reports, through these hooks called on it:
  // a goroutine that held its worker for stuck_ns without parking or yielding (0: never;
  // reported once per such run), a deadlock (see deadlock_mode; must not return), and a
  // goroutine dump asked for with SIGQUIT. A null hook turns its report off.
  std::int64_t stuck_ns = 0;
  void (*on_stuck)(const goroutine_view& g, std::int64_t held_ns) = nullptr;
  void (*on_deadlock)() = nullptr;
  void (*on_dump)() = nullptr;
};

// ---- pool lifecycle (called by the runtime, from a plain thread) -------------------

// start creates the worker threads. Throws std::system_error when a thread or an
// epoll/eventfd cannot be created. Precondition: no pool is running.
void start(const config& cfg);

// stop tells every worker to finish the goroutine it is running (if any) and exit;
// runnable and parked fibers are abandoned. Waits at most `grace` for the threads;
// returns false when one of them did not stop in time (it is then left detached).
bool stop(std::chrono::milliseconds grace);

bool running() noexcept;
int workers() noexcept;

// ---- diagnostics (monitor.cpp) -------------------------------------------------------

// goroutines returns every live goroutine of the running pool (none without one). Takes
// the registry's lock; a goroutine starting or ending meanwhile may be in or out.
std::vector<goroutine_view> goroutines();

// The calling goroutine as goroutines() would show it (id 0 outside any goroutine).
goroutine_view self_view() noexcept;

// When the monitor calls on_deadlock: every goroutine parked on rt primitives (not on a
// sleep, I/O or a blocking call), no timer pending, every worker idle, all of it twice in
// a row 100 ms apart — and, in `automatic` mode, no thread in the process that rt does not
// know of (a plain thread may still wake a goroutine; see count_known_thread).
enum class deadlock_mode { off, automatic, ignore_plain_threads };
void set_deadlock_mode(deadlock_mode m) noexcept;

// count_known_thread: a thread of the runtime's own that never wakes a goroutine by
// itself (a caller blocked in run(), an idle blocking-pool thread) starts (+1) or ends (-1).
void count_known_thread(int delta) noexcept;

// A steady-clock reading in ns, at most a monitor tick old (cheap: one relaxed load).
std::int64_t coarse_now() noexcept;

// ---- spawning ----------------------------------------------------------------------

// acquire returns an idle fiber (recycled when possible) for a new goroutine, with
// state idle and goid 0. `big`: with the main-goroutine stack. Returns nullptr when
// no pool runs (it stopped since the caller looked). Throws std::bad_alloc or
// std::system_error (no memory for a stack).
fiber* acquire(bool big = false);

// live returns how many goroutines were launched and have not called finished().
// Approximate while goroutines start or end concurrently.
int live() noexcept;

// finished counts the calling goroutine as ended (live() no longer includes it); the
// fiber_main calls it once, before the goroutine's last act (which may park).
void finished() noexcept;

// release_unused gives back a fiber from acquire() that will not be started.
void release_unused(fiber* f) noexcept;

// launch assigns f a fresh goroutine id (f->goid, unique for the process lifetime),
// records the launching goroutine as its parent, and makes f runnable. On a worker, inside a
// goroutine: f runs at once and the caller waits in the run-next slot (child-first). Elsewhere
// (plain thread, scheduler context): f goes to the global queue and an idle worker is woken. When
// the pool f came from has stopped since acquire(), f never runs. In the child of a fork() (and the
// same for park, unpark, yield): a fatal error, exit 2 — the child process has no runtime.
void launch(fiber* f) noexcept;

// ---- the running goroutine ---------------------------------------------------------

// worker_index returns the index of this thread's worker, or -1 on a plain thread.
int worker_index() noexcept;

// yield puts the caller at the tail of this worker's run queue and runs something else
// (due timers of this worker fire first). Returns at once when nothing else could run.
void yield() noexcept;

// ---- timers ------------------------------------------------------------------------

// A timer owned by the caller (intrusive: no allocation). fire runs once on a worker
// thread in scheduler context when `when` has passed: it must be short, must not park
// or throw, and may call unpark() and non-blocking channel operations.
struct timer {
  clock::time_point when{};
  void (*fire)(timer*) = nullptr;
  // Called instead of fire for a timer still pending when its pool stops (never while
  // the pool runs): a timer that its heap owns, as rt::after's, frees itself here. May
  // be left null.
  void (*orphaned)(timer*) = nullptr;
  // Internal: owned by the heap that holds the timer.
  std::atomic<int> status{0};
  int heap_index = -1;
  worker* heap = nullptr;
};

// timer_start schedules t (not currently scheduled) on this worker's heap (a plain
// thread uses worker 0's) and wakes an idle worker when t is the earliest deadline.
void timer_start(timer* t);

// timer_stop cancels t. Returns true when t was pending and now will never fire;
// false when it had fired (or was never started). If fire is running concurrently,
// waits until it returned, so the caller may free t afterwards.
bool timer_stop(timer* t) noexcept;

}  // namespace rt::sched
