// internal.hpp — internal: the worker and pool records shared by the scheduler's files
// (worker.cpp: threads, the algorithm, run queues; idle.cpp: spinning and parking;
// timers.cpp; poller.cpp), and the lock-free local run queue.
//
// Invariant (ownership): a runnable fiber is in exactly one place — a worker's run-next
// slot, a worker's local ring, or the global injection queue — and a fiber in none of
// them is running, parked (in some primitive's wait queue) or cached (finished, in a fiber cache).
#pragma once

#include <concurrentqueue/concurrentqueue.h>
#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "rt/scheduler/race.hpp"
#include "rt/scheduler/scheduler.hpp"

namespace rt::sched {

// Local run queue: a ring of Capacity slots, Go's runq plus a push_front. The owner
// pushes at the tail, pops at the head and puts a displaced run-next goroutine back at
// the head; thieves take up to half from the head.
//
// Invariants: slots in [head, tail) hold queued fibers, and the owner writes only slots
// outside that range (push: tail, push_front: head - 1, both checked against capacity).
// tail_ moves only by the owner, with a release store that publishes the slot it
// filled. head_ holds the head position (low 32 bits) and a tag (high 32 bits) that
// push_front increments as it moves the position back; pop and steal_half move the position
// forwards by CAS on the whole word. So a head word, once left, never recurs (short of
// 2^32 push_fronts during one thief's read), and a CAS from a word read earlier succeeds
// only if no fiber was taken or put back at the head since: a thief whose slots went
// stale fails and retries. Without the tag, "owner pops h, runs it, pushes another at h"
// let a thief's CAS from h succeed with the stale slot — one fiber taken twice, one lost.
template <std::uint32_t Capacity>
class basic_runq {
  static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0, "a power of two");

 public:
  static constexpr std::uint32_t capacity = Capacity;

  // push appends f (owner only). Returns false when full.
  bool push(fiber* f) noexcept {
    const std::uint32_t h = pos(head_.load(std::memory_order_acquire));  // pairs with CASes
    const std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - h >= capacity) return false;
    buf_[t % capacity].store(f, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);  // publishes buf_[t] to steal_half()
    return true;
  }

  // push_front puts f at the head, to run before everything queued (owner only).
  // Returns false when full.
  bool push_front(fiber* f) noexcept {
    for (;;) {
      std::uint64_t hw = head_.load(std::memory_order_acquire);
      const std::uint32_t h = pos(hw);
      const std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t - h >= capacity) return false;
      buf_[(h - 1) % capacity].store(f, std::memory_order_relaxed);
      const std::uint64_t next = word(h - 1, tag(hw) + 1);
      if (head_.compare_exchange_weak(hw, next, std::memory_order_release)) return true;
    }
  }

  // pop takes the head (owner only).
  fiber* pop() noexcept {
    for (;;) {
      std::uint64_t hw = head_.load(std::memory_order_acquire);
      const std::uint32_t h = pos(hw);
      const std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t == h) return nullptr;
      fiber* f = buf_[h % capacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(hw, word(h + 1, tag(hw)), std::memory_order_release)) {
        return f;
      }
    }
  }

  // steal_half moves up to half of the queue (at least one) into out (any thread); returns
  // how many. `out` has room for capacity / 2.
  std::uint32_t steal_half(fiber** out) noexcept {
    for (;;) {
      std::uint64_t hw = head_.load(std::memory_order_acquire);
      const std::uint32_t h = pos(hw);
      const std::uint32_t t = tail_.load(std::memory_order_acquire);  // pairs with push
      std::uint32_t n = t - h;
      n -= n / 2;
      if (n == 0) return 0;
      if (n > capacity / 2) continue;  // h and t read at different times: retry
      for (std::uint32_t i = 0; i < n; ++i) {
        out[i] = buf_[(h + i) % capacity].load(std::memory_order_relaxed);
      }
      if (head_.compare_exchange_weak(hw, word(h + n, tag(hw)), std::memory_order_acq_rel)) {
        return n;
      }
    }
  }

  // size is how many fibers are queued (owner only: only the owner moves the tail or
  // moves the head backwards, so the head it reads is never past the tail it reads).
  std::uint32_t size() const noexcept {
    return tail_.load(std::memory_order_acquire) - pos(head_.load(std::memory_order_acquire));
  }

  // head_word is the head's position and tag (any thread): it changes whenever a fiber
  // is taken from or put back at the head, so a thief that reads the same word twice
  // knows the head entry waited in between.
  std::uint64_t head_word() const noexcept { return head_.load(std::memory_order_acquire); }

  // size_approx is size() as a thief sees it (any thread; may be stale, and 0 when the
  // head it read had moved past the tail it read).
  std::uint32_t size_approx() const noexcept {
    const std::uint32_t n = size();
    return n > capacity ? 0 : n;
  }

  bool empty() const noexcept {
    return pos(head_.load(std::memory_order_acquire)) == tail_.load(std::memory_order_acquire);
  }

 private:
  static std::uint32_t pos(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w); }
  static std::uint32_t tag(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w >> 32); }
  static std::uint64_t word(std::uint32_t p, std::uint32_t t) noexcept {
    return (std::uint64_t{t} << 32) | p;
  }

  alignas(64) std::atomic<std::uint64_t> head_{0};  // position | tag << 32
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  std::atomic<fiber*> buf_[capacity];
};

using runq = basic_runq<256>;

struct pool;

// A worker: one thread with its own Boost.Fiber scheduler running rt's algorithm.
struct worker {
  worker(pool* p, int i) : owner(p), index(i) {}

  pool* const owner;
  const int index;

  // ---- run queues (see runq) ----
  runq q;
  std::atomic<fiber*> runnext{nullptr};  // owner exchanges; thieves CAS to nullptr
  // Bumped by the owner every time it switches to a goroutine: a thief that sees it
  // unchanged over its whole spin knows the owner is stuck in one goroutine, and only
  // then steals the run-next slot.
  std::atomic<std::uint64_t> schedtick{0};
  void tick() noexcept {  // owner only: a plain increment, no read-modify-write
    schedtick.store(schedtick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  // ---- owner-thread-only state ----
  fiber* current = nullptr;  // the goroutine running here (written by set_current only)
  boost::fibers::context* dispatcher = nullptr;  // Boost's dispatcher, when ready
  boost::fibers::context* main_ctx = nullptr;    // this thread's main context, when ready
  boost::fibers::scheduler* bsched = nullptr;    // this thread's Boost scheduler
  // The lock of a context suspending here, from suspend_releasing until the context that
  // runs next released it (finish_switch in worker.cpp). Null in between.
  spinlock* handoff = nullptr;
  fiber* pick_first =
      nullptr;  // pick_next returns it before any queue: launch()'s child, spin()'s steal
  bool parent_to_runnext = false;  // launch(): where awakened() puts the parent
  bool yielding = false;           // yield(): awakened() queues without waking
  bool spinning = false;           // counted in pool::nspinning
  fiber* cache = nullptr;          // cached fibers, linked by fiber::next
  int cache_len = 0;
  std::uint32_t rng = 0;
  std::uint32_t timer_tick = 0;
  // Time slice (see find_local in worker.cpp): a goroutine taken from the run-next slot
  // inherits the slice of the one that readied it. `inherited` counts such picks since
  // the slice began; `slice_start` is stamped lazily (0: not yet); `drain` counts the
  // ring entries still to run, ahead of run-next, after a slice ran out.
  std::uint32_t inherited = 0;
  std::int64_t slice_start = 0;
  std::uint32_t drain = 0;
  // Stealing (spin() in worker.cpp): per victim, its schedtick at the start of this spin,
  // and its ring's head word with when this worker first saw it (the head entry has
  // waited at least that long). steal_wait: how long a head entry must wait before this
  // worker takes it; stole_at: when it last stole (0: it has not since its last spin).
  struct victim_view {
    std::uint64_t tick = 0;
    std::uint64_t head = 0;
    std::int64_t head_since = 0;
  };
  std::vector<victim_view> seen;
  std::int64_t steal_wait = 0;
  std::int64_t stole_at = 0;
  // Fibers that ended here for good (the caches were full), suspended and waiting for
  // the dispatcher to give their stacks back (see fiber_entry in worker.cpp).
  fiber* spare = nullptr;
  std::uint32_t nspare = 0;
  std::uint64_t goid_next = 0;  // goroutine ids reserved by this worker: [goid_next, goid_end)
  std::uint64_t goid_end = 0;
#if defined(RT_TSAN)
  void* tsan_main = nullptr;        // ThreadSanitizer's context of this thread
  void* tsan_dispatcher = nullptr;  // ... and of its Boost dispatcher (made at first use)
  bool tsan_left = false;           // the thread is itself again, for good (worker_main)
#endif
#if defined(RT_ASAN)
  // AddressSanitizer's view of stack switches (asan_switching in worker.cpp): the fake
  // stack slots of this thread's dispatcher and main context, the slot of the context a
  // switch is going to (non-null until that context reports the switch done), and the
  // thread's own stack, learnt at its first switch.
  void* asan_dispatcher_fake = nullptr;
  void* asan_main_fake = nullptr;
  void** asan_resume_fake = nullptr;
  const void* asan_main_bottom = nullptr;
  std::size_t asan_main_size = 0;
#endif

  // ---- goroutine counts (owner writes, anyone reads) ----
  alignas(64) std::atomic<std::int64_t> launched{0};
  std::atomic<std::int64_t> finished{0};

  // ---- timers (timers.cpp) ----
  spinlock timer_lock;  // guards heap, firing
  // A 4-ary min-heap on the deadline (Go's layout: shallower than a binary one), each
  // entry carrying its timer's deadline in ns so that sifting compares without loading
  // the timers themselves, which live on sleeping goroutines' cold stacks (only an entry
  // that moves writes its new index into its timer).
  struct heap_entry {
    std::int64_t when;
    timer* t;
  };
  std::vector<heap_entry> heap;
  timer* firing = nullptr;                         // the timer whose fire() runs now
  std::atomic<std::int64_t> next_when{INT64_MAX};  // heap top, ns since clock epoch

  // ---- parking (idle.cpp) ----
  int epfd = -1;
  int evfd = -1;
  bool idle = false;                          // in pool::idle; guarded by pool::idle_mu
  std::atomic<std::int64_t> parked_until{0};  // 0: not parked; else wake-up time (ns)
  std::atomic<bool> remote_pending{false};    // Boost's notify() ran: the dispatcher must look
  // Wake-ups (see wake_worker in idle.cpp): counted by wakers; wakes_seen is the count the
  // worker last consumed, polling is true while it waits in the poller instead of epfd.
  std::atomic<std::uint64_t> wakes{0};
  std::uint64_t wakes_seen = 0;
  std::atomic<bool> polling{false};
  std::uint32_t poll_tick = 0;  // switches since a busy worker last read the clock to poll
  std::thread thread;
  std::atomic<bool> done{false};  // the thread has left its loop
  // The thread's main context parks here until stop() (guarded by main_lock).
  spinlock main_lock;
  waiter main_waiter;
  bool main_stop = false;
  // stop() wakes the main context with Boost's schedule_from_remote, which goes on using
  // this thread's Boost scheduler after making the context runnable; the thread leaves
  // (destroying that scheduler) only once stop() set this, past the call.
  std::atomic<bool> may_exit{false};
};

struct pool {
  explicit pool(const config& c);

  config cfg;
  // This pool's generation (unique over the process lifetime), stamped on every fiber it
  // creates: a fiber woken after its pool stopped never runs in a later pool.
  const std::uint64_t gen;
  std::vector<std::unique_ptr<worker>> workers;
  moodycamel::ConcurrentQueue<fiber*> inject;     // runnable fibers from outside
  std::atomic<int> ninject{0};                    // approximate length of inject, to skip it
  std::atomic<std::int64_t> launched_outside{0};  // launches from plain threads
  std::atomic<int> nspinning{0};                  // workers spinning for work
  std::atomic<int> nidle{0};                      // workers in `idle`
  std::atomic<int> nrecheck{0};                   // idle workers due back within recheck_ns
  std::mutex idle_mu;                             // guards idle and worker::idle
  std::vector<worker*> idle;
  std::atomic<bool> stopping{false};
  spinlock cache_lock;     // guards cache, cache_len
  fiber* cache = nullptr;  // cached fibers shared by all workers
  int cache_len = 0;
  // ---- the I/O poller (poller.cpp) ----
  int netfd = -1;    // the edge-triggered epoll instance
  int breakfd = -1;  // eventfd in netfd: interrupts a blocked poll
  // Written at every wait on I/O, read at every switch: a line of their own.
  alignas(64) std::atomic<int> net_waiters{0};  // goroutines parked in poll_wait
  std::atomic<worker*> poll_blocker{nullptr};   // the idle worker blocked in netfd
  std::atomic<std::int64_t> last_poll{0};       // when netfd was last polled (ns)
  // ---- diagnostics (monitor.cpp) ----
  spinlock all_lock;     // guards the registry: every fiber this pool made and not freed,
  fiber* all = nullptr;  // linked by fiber::all_prev/all_next
  std::atomic<deadlock_mode> deadlocks{deadlock_mode::off};
  std::atomic<bool> monitor_asleep{false};  // the monitor waits for a worker to wake
  std::thread monitor;
  // Per worker, set by the monitor: since when its current goroutine has run (ns; 0: it
  // switched since the monitor last looked).
  std::unique_ptr<std::atomic<std::int64_t>[]> running_since;
};

// The running pool, or nullptr. Set by start(), cleared by stop().
extern std::atomic<pool*> running_pool;

// pool_ref pins the running pool for the calling thread. On a worker it is that
// worker's pool (alive while the thread runs); on a plain thread it is counted, and
// stop() does not free a pool until every plain-thread pool_ref taken before it cleared
// running_pool has ended (seq_cst on both sides: either the taker sees nullptr, or stop()
// sees its count). get() is nullptr when no pool runs.
class pool_ref {
 public:
  pool_ref() noexcept;
  ~pool_ref();
  pool_ref(const pool_ref&) = delete;
  pool_ref& operator=(const pool_ref&) = delete;
  pool* get() const noexcept { return p_; }
  pool* operator->() const noexcept { return p_; }

 private:
  pool* p_;
  bool counted_;
};

// set_current records what w runs (the owner writes; the monitor reads it atomically).
inline void set_current(worker* w, fiber* f) noexcept {
  std::atomic_ref<fiber*>(w->current).store(f, std::memory_order_relaxed);
}

// ThreadSanitizer (rt/scheduler/race.hpp): the scheduler is not instrumented, so the
// synchronisation that orders its own accesses is invisible to ThreadSanitizer; what it
// allocates, frees or locks while running in a goroutine's context would be reported as
// that goroutine's racing access. Every entry from instrumented code holds a tsan_quiet;
// a context suspends only inside one (park, yield, launch), so the count each context
// resumes with is the one it suspended with. The edges are worker.cpp's.

// ---- monitor.cpp ----
void registry_add(pool* p, fiber* f) noexcept;
void registry_remove(pool* p, fiber* f) noexcept;
void monitor_start(pool* p);          // starts the monitor thread; throws std::system_error
void monitor_stop(pool* p) noexcept;  // joins it (p->stopping is set)
// A worker leaves its idle park: wakes the monitor if it waits for that.
void monitor_notice_busy(pool* p) noexcept;

// This thread's worker, or nullptr on a plain thread. Not inlined on purpose: a
// goroutine may resume on another thread, and the compiler must not cache the TLS
// address across a switch.
worker* this_worker() noexcept;

// ---- worker.cpp: run queues ----
fiber* take_global(pool* p, worker* w) noexcept;  // a fair share of the global queue
// w's run-next slot (any thread). Inline: it is on the hot path of every pick.
inline fiber* take_runnext(worker* w) noexcept {
  fiber* f = w->runnext.load(std::memory_order_relaxed);
  if (f != nullptr && w->runnext.compare_exchange_strong(f, nullptr, std::memory_order_acquire)) {
    return f;
  }
  return nullptr;
}

// ---- idle.cpp ----
// wakep: P3 of the wake-up protocol (idle.cpp) — wakes an idle worker, counted as
// spinning, if some worker idles and none spins.
void wakep_slow(pool* p) noexcept;
inline void wakep(pool* p) noexcept {
  if (p->nidle.load(std::memory_order_seq_cst) == 0 ||
      p->nspinning.load(std::memory_order_seq_cst) != 0) {
    return;
  }
  wakep_slow(p);
}
// wake_worker interrupts w's park (a write to its eventfd, or the poller's break).
void wake_worker(worker* w) noexcept;
// spin: C1, looks for work for a few microseconds; true with the work in pick_first.
bool spin(worker* w) noexcept;
// stop_spinning: w found work; the last spinner to do so wakes another (Go's rule).
void stop_spinning(worker* w) noexcept;
// idle: C2-C4, parks w until woken or `deadline` (ns; INT64_MAX: none).
void idle(worker* w, std::int64_t deadline) noexcept;
// park_stopping: parks w while the pool stops, until stop() wakes it.
void park_stopping(worker* w) noexcept;

// ---- poller.cpp ----
void netpoll_open(pool* p);  // creates netfd and breakfd; throws std::system_error
void netpoll_close(pool* p) noexcept;
void netpoll_break(pool* p) noexcept;  // interrupts a blocked netpoll
// netpoll waits up to timeout_ns (-1: no limit, 0: just looks) for I/O readiness and
// wakes the goroutines waiting for it; returns how many it woke.
int netpoll(pool* p, std::int64_t timeout_ns) noexcept;
// epoll_wait with a timeout in ns (-1: none), falling back to ms on kernels before 5.11.
int epoll_wait_ns(int epfd, epoll_event* ev, int n, std::int64_t timeout_ns) noexcept;
// Busy workers poll at least this often while goroutines wait on I/O (Go's sysmon).
constexpr std::int64_t poll_period_ns = 10'000'000;

std::int64_t now_ns() noexcept;

// timers.cpp: runs the due timers of `w` (caller is in scheduler context); returns
// whether any fired. try_only: skip the heap when its lock is taken.
bool run_timers(worker* w, std::int64_t now, bool try_only) noexcept;
// timers.cpp: empties the heap of a stopped worker, handing each timer to its orphaned.
void orphan_timers(worker* w) noexcept;

// signals.cpp: installs the guard-page SIGSEGV handler (once per process).
void install_segv_handler();

}  // namespace rt::sched
