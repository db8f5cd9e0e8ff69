// worker.cpp — the M:N scheduler: worker threads, rt's Boost.Fiber algorithm,
// spawning, parking, work stealing and idle parking in epoll.
//
// Why not Boost.Fiber's own work_stealing algorithm: its dispatcher fiber sits at the
// front of each ready queue (a busy worker's queue cannot be stolen from), a woken
// fiber goes back to the thread it last ran on through a spinlocked remote queue,
// finished fibers are freed only when the dispatcher runs, and idle threads either
// spin or sleep without being woken by new work. So rt keeps goroutines as Boost
// fibers but takes them out of Boost's per-thread bookkeeping:
//
//   1. A goroutine fiber is attached to a Boost scheduler only while it runs.
//      pick_next() attaches it; park(), retire() and awakened() detach it. A parked
//      or runnable fiber therefore belongs to no thread, and any worker may run it.
//      A goroutine parks holding its primitive's lock; the context that runs next on
//      the worker releases it (finish_switch).
//   2. Fibers are recycled: when a goroutine ends, its fiber parks itself in a fiber
//      cache (per worker, then global) and the next go() reuses it, hot stack and all.
//      No fiber construction, stack allocation or Boost termination per goroutine; one
//      that ends past the caches suspends for good and the dispatcher gives its stack
//      back, still without Boost's termination (see fiber_entry).
//   3. go() is child-first: the child is switched to at once (Boost's yield with
//      pick_next() returning the child) and the parent lands in the run-next slot
//      (awakened() runs on the child's side of the switch, when the parent is fully
//      suspended). Live goroutines stay few and their stacks stay in cache.
//   4. The dispatcher runs only when there is nothing local to run, a timer is due,
//      or Boost's remote queue has work (notify()); its suspend_until() is rt's idle
//      loop: run due timers, spin and steal, then park in epoll_wait.
//
// Spinning, stealing and parking idle workers, with the wake-up protocol, are in
// idle.cpp; the I/O poller is in poller.cpp; timers in timers.cpp.
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pthread.h>
#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/scheduler.hpp>
#if defined(RT_TSAN)
#include <sanitizer/tsan_interface.h>
#endif
#if defined(RT_ASAN)
#include <sanitizer/common_interface_defs.h>

#include <boost/context/stack_traits.hpp>
#endif

#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "internal.hpp"
#include "rt/scheduler/fatal.hpp"
#include "stack_pool.hpp"

namespace rt::sched {

std::atomic<pool*> running_pool{nullptr};

namespace {

namespace bf = boost::fibers;

constexpr int local_cache_max = 64;     // cached fibers kept per worker
constexpr int global_cache_max = 1024;  // cached fibers kept for all workers
thread_local worker* t_worker __attribute__((tls_model("initial-exec"))) = nullptr;

// ---- fork ---------------------------------------------------------------------------
// After fork() only the forking thread exists in the child: the other workers, and the
// goroutines queued on them, are gone, and running the parent's goroutines in the child
// would duplicate their effects. So the child has no runtime: the forking goroutine (or
// thread) may go on computing and call exec or _exit, but any scheduling — park, yield,
// go, wake, even its own goroutine ending — is a fatal error in the child.
bool forked_child = false;

void on_fork_child() {
  if (running_pool.load(std::memory_order_relaxed) != nullptr) forked_child = true;
}

[[noreturn]] void fatal_in_forked_child() {
  fatal(
      "goroutine scheduling in a child process after fork(): the child has no runtime "
      "(call exec or _exit in it)");
}

// ---- fibers ---------------------------------------------------------------------

struct fiber_entry {
  void operator()(fiber* f) const noexcept;
};
using context_type = bf::worker_context<fiber_entry, fiber*>;

// The control block sits right above the Boost context on the same stack (see
// create_fiber): make_worker_context places the context at the 256-aligned address
// below the stack pointer we hand it, which is the control block's address.
fiber* fiber_of_context(bf::context* ctx) noexcept {
  auto end = reinterpret_cast<std::uintptr_t>(ctx) + sizeof(context_type);
  return reinterpret_cast<fiber*>((end + 255) & ~std::uintptr_t{255});
}

// ---- ThreadSanitizer and fibers --------------------------------------------------------
// The scheduler is built without ThreadSanitizer's instrumentation (RT_NO_TSAN in
// CMakeLists.txt) and tells it what goroutines need to know, as Go's runtime tells its
// race detector: each fiber is a context of its own, every switch (chosen by pick_next)
// is announced without synchronising the two sides, and the happens-before edges are the
// ones the Go memory model gives — go() before the goroutine starts, an unpark before the
// parked goroutine resumes (channels, mutexes, wait groups build on those and on their
// own instrumented atomics). A stack passed on to another fiber (the pool recycles them)
// carries an edge from its last user to its next one, so reused stack memory is no race.
#if defined(RT_TSAN)
// Every context rt makes (a fiber's, a dispatcher's) lives inside a tsan_quiet, from its
// creation to its end, but for the goroutine's own code (fiber_entry); each one begins
// and ends in the context it is about, where it counts.
void* tsan_make() noexcept {
  void* const self = __tsan_get_current_fiber();
  void* const ctx = __tsan_create_fiber(0);
  __tsan_switch_to_fiber(ctx, __tsan_switch_to_fiber_no_sync);
  tsan_quiet_begin();
  __tsan_switch_to_fiber(self, __tsan_switch_to_fiber_no_sync);
  return ctx;
}

void tsan_destroy(void* ctx) noexcept {
  void* const self = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(ctx, __tsan_switch_to_fiber_no_sync);
  tsan_quiet_end();
  __tsan_switch_to_fiber(self, __tsan_switch_to_fiber_no_sync);
  __tsan_destroy_fiber(ctx);
}

void tsan_switching(worker* w, bf::context* to) noexcept {
  if (w->tsan_left) return;
  void* target;
  if (to->is_context(bf::type::dispatcher_context)) {
    if (w->tsan_dispatcher == nullptr) w->tsan_dispatcher = tsan_make();
    target = w->tsan_dispatcher;
  } else if (to->is_context(bf::type::main_context)) {
    target = w->tsan_main;
  } else {
    target = fiber_of_context(to)->tsan_fiber;
  }
  // The thread's start (when its thread_locals were initialised) happens before whatever
  // runs on it, and that before the thread's end (when they are destroyed): a goroutine's
  // accesses to them are no race with either.
  __tsan_release(&w->tsan_left);
  __tsan_switch_to_fiber(target, __tsan_switch_to_fiber_no_sync);
  __tsan_acquire(&w->tsan_main);
}
#endif

// Hands make_worker_context the stack we already carved; gives it back to the pool
// when Boost destroys the context (a fiber that returned from fiber_entry), with the
// fiber's ThreadSanitizer context: TSan counts those as threads, and has a limit.
struct carved_stack {
  stack s;
  boost::context::stack_context sctx;
#if defined(RT_TSAN)
  void* tsan_fiber;
#endif
  boost::context::stack_context allocate() const noexcept {
    return sctx;
  }
  void deallocate(boost::context::stack_context&) const noexcept {
#if defined(RT_TSAN)
    tsan_destroy(tsan_fiber);
#endif
    stacks().deallocate(s);
  }
};

fiber* create_fiber(pool* p, bool big) {
  static std::atomic<unsigned> stagger{0};
  stack s = stacks().allocate(big ? p->cfg.big_stack_size : p->cfg.stack_size);
  // Stagger control blocks over four cache-set offsets so a million of them do not
  // all compete for the same L1/L2 sets.
  auto top = reinterpret_cast<std::uintptr_t>(s.top()) -
             (stagger.fetch_add(1, std::memory_order_relaxed) % 4) * 256;
  auto at = (top - sizeof(fiber)) & ~std::uintptr_t{255};
  fiber* f = new (reinterpret_cast<void*>(at)) fiber;
  f->big = big;
  f->stack_base = s.base;
  f->stack_size = s.size;
  f->guarded = s.guarded;
  f->gen = p->gen;
  boost::context::stack_context sctx;
  sctx.sp = reinterpret_cast<void*>(at);
  sctx.size = at - reinterpret_cast<std::uintptr_t>(s.base);
  // make_worker_context returns a second reference next to the context's own; the
  // context's own one is released by Boost after the fiber terminates.
#if defined(RT_TSAN)
  f->tsan_fiber = tsan_make();
  carved_stack carved{s, sctx, f->tsan_fiber};
#else
  carved_stack carved{s, sctx};
#endif
  f->ctx = bf::make_worker_context(bf::launch::post, carved, fiber_entry{}, f).get();
  if (fiber_of_context(f->ctx) != f)
    fatal("fiber control block misplaced (Boost.Fiber layout changed?)");
  registry_add(p, f);
  return f;
}

// ---- AddressSanitizer and stack switches ----------------------------------------------
// ASan knows one stack per thread. Told nothing, it takes a goroutine's stack for stray
// memory and ignores the __asan_handle_no_return of every throw there, so frames that an
// exception unwinds stay poisoned and a later call that reuses them reports a
// stack-buffer-overflow that is not there. So every switch is announced, through the
// sanitizer's fiber interface, by pick_next (which chooses them all: only Boost's last
// switch at thread exit, dispatcher to main context, goes unannounced) and confirmed by
// the context that resumes, at its first step into rt code: awakened(), pick_next(), or
// the return from a suspend in this file. Compiled only into sanitizer builds.
#if defined(RT_ASAN)
// The fake-stack slot of the context running on w now (pick_next's caller).
void** asan_running_slot(worker* w) noexcept {
  if (w->current != nullptr) return &w->current->asan_fake_stack;
  return w->dispatcher == nullptr ? &w->asan_dispatcher_fake : &w->asan_main_fake;
}

void asan_switching(worker* w, void** from, bf::context* to) noexcept {
  const void* bottom;
  std::size_t size;
  if (to->is_context(bf::type::dispatcher_context)) {
    // Boost allocates the dispatcher's stack itself (default size) and puts its context
    // record at the top: its frames lie below the record (4 KiB spared for the record).
    size = boost::context::stack_traits::default_size() - 4096;
    bottom = reinterpret_cast<const char*>(to) - size;
    w->asan_resume_fake = &w->asan_dispatcher_fake;
  } else if (to->is_context(bf::type::main_context)) {
    bottom = w->asan_main_bottom;
    size = w->asan_main_size;
    w->asan_resume_fake = &w->asan_main_fake;
  } else {
    fiber* f = fiber_of_context(to);  // frames lie between the stack's base and the control block
    bottom = f->stack_base;
    size = static_cast<std::size_t>(reinterpret_cast<char*>(f) - static_cast<char*>(f->stack_base));
    w->asan_resume_fake = &f->asan_fake_stack;
  }
  __sanitizer_start_switch_fiber(from, bottom, size);
}

void asan_switched(worker* w) noexcept {
  if (w->asan_resume_fake == nullptr) return;
  void* fake = *w->asan_resume_fake;
  w->asan_resume_fake = nullptr;
  const void* from_bottom = nullptr;
  std::size_t from_size = 0;
  __sanitizer_finish_switch_fiber(fake, &from_bottom, &from_size);
  if (w->asan_main_bottom == nullptr) {  // a thread's first switch leaves its main context
    w->asan_main_bottom = from_bottom;
    w->asan_main_size = from_size;
  }
}

#else
inline void asan_switched(worker*) noexcept {}
#endif

// ---- finishing a switch ----------------------------------------------------------------
// A goroutine that parks holds the lock under which a waker will find it (park's `lk`),
// and must hold it until it is completely off its stack: a waker on another worker may
// resume it the moment the lock is free. So the lock travels with the switch, as Go's
// park_m releases it on g0: suspend_releasing leaves it in w->handoff, and the context
// that resumes releases it at its first step into rt code — the dispatcher's pick_next()
// (its every turn starts there), or the return from a suspend or yield in this file —
// each of which calls finish_switch. (A context that yields hands nothing over, so
// awakened(), which runs first on the far side of a yield, has nothing to release.)
inline void finish_switch(worker* w) noexcept {
  asan_switched(w);
  if (spinlock* l = w->handoff) {
    w->handoff = nullptr;
    l->unlock();
  }
}

// ---- queues -----------------------------------------------------------------------

// Goroutine ids come from one counter in batches, so workers do not share a hot line.
constexpr std::uint64_t goid_batch = 64;
std::atomic<std::uint64_t> goid_source{1};

std::uint64_t next_goid(worker* w) noexcept {
  if (w == nullptr) return goid_source.fetch_add(1, std::memory_order_relaxed);
  if (w->goid_next == w->goid_end) {
    w->goid_next = goid_source.fetch_add(goid_batch, std::memory_order_relaxed);
    w->goid_end = w->goid_next + goid_batch;
  }
  return w->goid_next++;
}

// Owner-only counter increment: a plain store, no read-modify-write.
void owner_increment(std::atomic<std::int64_t>& c) noexcept {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void inject(pool* p, fiber* f) noexcept {
  p->inject.enqueue(f);
  p->ninject.fetch_add(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // P2
  wakep(p);
}

// Owner only: appends f to w's ring, moving half the ring to the global queue when full.
void push_local(pool* p, worker* w, fiber* f) noexcept {
  if (!w->q.push(f)) {
    fiber* batch[runq::capacity / 2 + 1];
    std::uint32_t n = w->q.steal_half(batch);
    batch[n++] = f;
    p->inject.enqueue_bulk(batch, n);
    p->ninject.fetch_add(static_cast<int>(n), std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  wakep(p);
}

// Owner only: f runs next on w. The fiber it displaces from the slot goes to the head of
// the ring, so recently readied goroutines run depth-first: in a fan-in (skynet) the
// senders a receiver just released finish and free their fibers before new work starts,
// keeping the live set to a few dozen instead of tens of thousands. While the ring is
// being drained after a time slice ran out (find_local), it goes to the tail instead, so
// the goroutines queued when the slice ended all get their turn first.
void put_runnext(pool* p, worker* w, fiber* f) noexcept {
  fiber* old = w->runnext.exchange(f, std::memory_order_acq_rel);
  if (old == nullptr) return;
  if (w->drain == 0 && w->q.push_front(old)) {
    wakep(p);
  } else {
    push_local(p, w, old);
  }
}

}  // namespace

fiber* take_global(pool* p, worker* w) noexcept {
  if (p->ninject.load(std::memory_order_relaxed) <= 0) return nullptr;
  // Take a fair share of the global queue (at most 32), not just one.
  fiber* batch[32];
  const int share =
      1 + p->ninject.load(std::memory_order_relaxed) / static_cast<int>(p->workers.size());
  std::size_t n = p->inject.try_dequeue_bulk(batch, static_cast<std::size_t>(std::min(share, 32)));
  if (n == 0) return nullptr;
  p->ninject.fetch_sub(static_cast<int>(n), std::memory_order_relaxed);
  for (std::size_t i = 1; i < n; ++i) push_local(p, w, batch[i]);
  return batch[0];
}

namespace {

// The time-slice rule (Go's inheritTime). A goroutine taken from the run-next slot was
// readied by the one that ran before it and inherits its slice; one taken from the ring or
// the global queue starts a new slice. When a slice has lasted slice_ns, the ring entries
// queued at that moment all run before run-next is looked at again, so goroutines that
// keep readying each other (a ping-pong pair, a spawn loop) cannot hold a worker: a
// runnable goroutine waits at most about one slice plus one turn of the ring. The clock
// is read only every 16th inherited pick.
constexpr std::int64_t slice_ns = 5'000'000;  // Go's is 10 ms, enforced by sysmon's preemption

void new_slice(worker* w) noexcept {
  w->inherited = 0;
  w->slice_start = 0;
}

bool slice_over(worker* w) noexcept {
  if ((++w->inherited & 15) != 0) return false;
  const std::int64_t now = now_ns();
  if (w->slice_start == 0) {
    w->slice_start = now;
    return false;
  }
  return now - w->slice_start > slice_ns;
}

fiber* find_local(pool* p, worker* w) noexcept {
  // Every 61st switch, look at the global queue first so it cannot starve (Go's rule).
  if (w->schedtick.load(std::memory_order_relaxed) % 61 == 0) {
    if (fiber* f = take_global(p, w)) {
      new_slice(w);
      return f;
    }
  }
  if (w->drain == 0 && w->runnext.load(std::memory_order_relaxed) != nullptr) {
    if (!slice_over(w)) {
      if (fiber* f = take_runnext(w)) return f;
    } else {
      w->drain = w->q.size();  // everyone queued now runs before run-next again
      if (w->drain == 0) new_slice(w);
    }
  }
  if (fiber* f = w->q.pop()) {
    if (w->drain == 0 || --w->drain == 0) new_slice(w);
    return f;
  }
  w->drain = 0;
  new_slice(w);
  if (fiber* f = take_runnext(w)) return f;
  return take_global(p, w);
}

// free_cached gives the stacks of cached fibers (suspended in fiber_entry, in no queue)
// back to the stack pool: their Boost contexts live on those stacks and own nothing else.
void free_cached(pool* p, fiber* f) noexcept {
  while (f != nullptr) {
    fiber* next = f->next;
    registry_remove(p, f);
    tsan_acquire(f->stack_base);  // from the stack's last goroutine, to its next fiber
#if defined(RT_TSAN)
    tsan_destroy(f->tsan_fiber);
#endif
    tsan_release(f->stack_base);
    stacks().deallocate(stack{f->stack_base, f->stack_size, f->guarded});
    f = next;
  }
}

// ---- the algorithm ---------------------------------------------------------------

class algo final : public bf::algo::algorithm {
 public:
  algo(pool* p, worker* w) noexcept : p_(p), w_(w) {}

  void awakened(bf::context* ctx) noexcept override {
    asan_switched(w_);
    if (ctx->is_context(bf::type::dispatcher_context)) {
      w_->dispatcher = ctx;
      return;
    }
    if (ctx->is_context(bf::type::main_context)) {
      w_->main_ctx = ctx;
      return;
    }
    // A goroutine that yielded (or was launched over) on this thread, now fully
    // suspended: take it out of Boost's bookkeeping and queue it.
    w_->bsched->detach_worker_context(ctx);
    fiber* f = fiber_of_context(ctx);
    f->state = fiber_state::runnable;
    f->since = coarse_now();
    if (w_->parent_to_runnext) {
      w_->parent_to_runnext = false;
      put_runnext(p_, w_, f);
      // The parent of a go() now waits here: an idle worker may take it over if the
      // child runs long (see spin()). One that parked with a re-check deadline comes
      // to look within recheck_ns anyway: waking it on every go() would cost a write()
      // per spawn.
      if (p_->nidle.load(std::memory_order_relaxed) > 0 &&
          p_->nrecheck.load(std::memory_order_relaxed) == 0) {
        wakep(p_);
      }
    } else if (w_->yielding) {
      w_->yielding = false;  // not new work: no other worker needs waking for it
      if (!w_->q.push(f)) push_local(p_, w_, f);
    } else {
      push_local(p_, w_, f);
    }
  }

  bf::context* pick_next() noexcept override {
    // In the dispatcher, this is its first step since it resumed (elsewhere the caller is
    // the context about to suspend: its handoff must wait for the switch).
    if (w_->dispatcher == nullptr) finish_switch(w_);
#if defined(RT_ASAN)
    asan_switched(w_);
    void** from = asan_running_slot(w_);
    bf::context* next = pick();
    if (next != nullptr) asan_switching(w_, from, next);
    return next;
#elif defined(RT_TSAN)
    bf::context* next = pick();
    if (next != nullptr) tsan_switching(w_, next);
    return next;
#else
    return pick();
#endif
  }

  bool has_ready_fibers() const noexcept override {
    return w_->pick_first != nullptr || w_->runnext.load() != nullptr || !w_->q.empty();
  }

  // The idle loop (dispatcher context, nothing local to run).
  void suspend_until(
      const std::chrono::steady_clock::time_point& boost_deadline) noexcept override {
    if (p_->stopping.load()) {
      if (w_->main_ctx == nullptr) park_stopping(w_);
      return;
    }
    if (w_->remote_pending.load()) return;
    std::int64_t now = now_ns();
    bool fired = false;
    for (auto& v : p_->workers) fired |= run_timers(v.get(), now, v.get() != w_);
    if (fired || w_->pick_first != nullptr || !w_->q.empty() || w_->runnext.load() != nullptr) {
      return;
    }
    // Out of local work: look at the sockets before looking at other workers (Go's
    // findrunnable), unless an idle worker watches them already.
    if (p_->net_waiters.load(std::memory_order_relaxed) > 0 &&
        p_->poll_blocker.load(std::memory_order_relaxed) == nullptr && netpoll(p_, 0) > 0) {
      return;
    }
    if (spin(w_)) return;
    idle(w_, boost_deadline == std::chrono::steady_clock::time_point::max()
                 ? INT64_MAX
                 : boost_deadline.time_since_epoch().count());
  }

  void notify() noexcept override {
    w_->remote_pending.store(true, std::memory_order_seq_cst);
    wake_worker(w_);
  }

 private:
  // pick chooses what the worker switches to next: a goroutine, the dispatcher (from a
  // goroutine) or, while stopping, the main context; nullptr (in the dispatcher) to idle.
  bf::context* pick() noexcept {
    worker* w = w_;
    const bool in_dispatcher = w->dispatcher == nullptr;
    if (p_->stopping.load(std::memory_order_relaxed)) {
      if (w->main_ctx != nullptr) return take(w->main_ctx);
      return in_dispatcher ? nullptr : take(w->dispatcher);
    }
    if (!in_dispatcher && w->remote_pending.exchange(false, std::memory_order_acq_rel)) {
      return take(w->dispatcher);  // Boost's remote-ready queue has work for us
    }
    if (w->spare != nullptr) {
      if (in_dispatcher) {
        // On the dispatcher's stack, every spare fiber is off its own: give them back.
        free_cached(p_, w->spare);
        w->spare = nullptr;
        w->nspare = 0;
      } else if (w->nspare >= 64) {
        return take(w->dispatcher);  // a worker that never idles frees them now and then
      }
    }
    if (forked_child) fatal_in_forked_child();
    // Due timers are looked for every 16th switch, at every yield (a goroutine that
    // yields in a loop waits for something; a timer may be what it waits for), and always
    // in the dispatcher, which a goroutine hands over to when it finds timers due.
    if (w->next_when.load(std::memory_order_relaxed) != INT64_MAX &&
        (in_dispatcher || w->yielding || (++w->timer_tick & 15) == 0)) {
      std::int64_t now = now_ns();
      if (w->next_when.load(std::memory_order_relaxed) <= now) {
        if (!in_dispatcher) return take(w->dispatcher);  // timers fire in scheduler context
        run_timers(w, now, false);
      }
    }
    // I/O readiness: while goroutines wait on I/O and no idle worker is blocked in the
    // poller, a busy worker polls every poll_period_ns (the clock is read every 64th
    // switch), in scheduler context like timers, so busy goroutines cannot starve I/O.
    if (p_->net_waiters.load(std::memory_order_relaxed) > 0 &&
        (in_dispatcher || (++w->poll_tick & 63) == 0) &&
        p_->poll_blocker.load(std::memory_order_relaxed) == nullptr &&
        now_ns() - p_->last_poll.load(std::memory_order_relaxed) >= poll_period_ns) {
      if (!in_dispatcher) return take(w->dispatcher);
      netpoll(p_, 0);
    }
    fiber* f = w->pick_first;
    if (f != nullptr) {
      w->pick_first = nullptr;
    } else {
      f = find_local(p_, w);
    }
    if (f != nullptr) return run(w, f);
    return in_dispatcher ? nullptr : take(w->dispatcher);
  }

  bf::context* take(bf::context*& slot) noexcept {
    bf::context* c = slot;
    slot = nullptr;
    set_current(w_, nullptr);
    return c;
  }

  bf::context* run(worker* w, fiber* f) noexcept {
    if (w->spinning) stop_spinning(w);  // found work: no longer counted as looking for it
    w->bsched->attach_worker_context(f->ctx);
    f->last_worker = w;
    f->state = fiber_state::running;
    set_current(w, f);
    w->tick();
    return f->ctx;
  }

  pool* p_;
  worker* w_;
};

// ---- worker threads ---------------------------------------------------------------

// suspend_releasing switches the running context away and releases `lk` once the context
// is off its stack (see finish_switch); `f` is the suspending goroutine's fiber, null for
// a worker's main context (which never migrates). Not Boost's suspend(lk): its lock type
// is Boost's own spinlock, and it unlocks through the caller's lock object after the
// switch, whose owns flag a waker may already be using again (rt fibers migrate).
void suspend_releasing(worker* w, fiber* f, spinlock_lock& lk) noexcept {
  w->handoff = lk.release();
  w->bsched->suspend();
  finish_switch(f != nullptr ? f->last_worker : w);  // perhaps on another worker
}

void worker_main(pool* p, worker* w) {
  t_worker = w;
  tsan_quiet quiet;
#if defined(RT_TSAN)
  w->tsan_main = __tsan_get_current_fiber();
  __tsan_release(&w->tsan_main);  // see tsan_switching
#endif
  std::vector<char> altstack(64 * 1024);
  stack_t ss{};
  ss.ss_sp = altstack.data();
  ss.ss_size = altstack.size();
  ::sigaltstack(&ss, nullptr);
  w->rng = 0x9e3779b9u * static_cast<std::uint32_t>(w->index + 1);
  bf::use_scheduling_algorithm<algo>(p, w);
  w->bsched = bf::context::active()->get_scheduler();
  {
    // The thread's main context waits here until stop(); meanwhile the dispatcher and
    // goroutines run on this thread.
    spinlock_lock lk(w->main_lock);
    if (!w->main_stop) {
      w->main_waiter = waiter::self();
      park(lk, "worker main");
    }
  }
  while (!w->may_exit.load(std::memory_order_acquire)) std::this_thread::yield();
#if defined(RT_TSAN)
  // The thread leaves as itself (ThreadSanitizer ends the context that is current; a
  // fiber's would leave the thread unjoinable). Boost's last switches, dispatcher and
  // back at thread exit, are not announced: they run rt-free code.
  __tsan_switch_to_fiber(w->tsan_main, 0);
  __tsan_acquire(&w->tsan_left);  // see tsan_switching
  w->tsan_left = true;
  if (w->tsan_dispatcher != nullptr) tsan_destroy(w->tsan_dispatcher);
#endif
  ss.ss_flags = SS_DISABLE;
  ::sigaltstack(&ss, nullptr);
  w->done.store(true, std::memory_order_release);
  t_worker = nullptr;
  // Leaving the thread destroys its Boost scheduler: no goroutine is attached to it.
}

std::mutex lifecycle_mu;  // one start() or stop() at a time

std::atomic<std::uint64_t> pool_gens{0};

// Plain-thread pool_refs alive now (see pool_ref in internal.hpp).
std::atomic<int> plain_refs{0};

}  // namespace

void fiber_entry::operator()(fiber* f) const noexcept {
  pool* p = this_worker()->owner;   // a fiber only ever runs in the pool that made it
  for (;;) {                        // quiet (see tsan_make) but for the goroutine's own code
    finish_switch(f->last_worker);  // first run, or taken from a fiber cache by go()
    tsan_quiet_end();
    tsan_acquire(f->stack_base);  // the stack's previous goroutine ended before
    tsan_acquire(f);              // go() happens before the goroutine starts
    p->cfg.main(*f);              // calls finished() before its last act
    tsan_release(f->stack_base);
    tsan_quiet_begin();
    worker* w = this_worker();
    f->state = fiber_state::idle;
    f->goid = 0;
    if (f->big || p->stopping.load(std::memory_order_relaxed)) {
      // Boost terminates this fiber and frees its stack, control block and all: out of
      // the registry first (a later fiber carved from the same stack would be linked in
      // twice, and the registry's list would loop: seen with two rt::run at once).
      registry_remove(p, f);
      return;
    }
    // Retire into a fiber cache; the next go() that takes it resumes us here.
    w->bsched->detach_worker_context(f->ctx);
    if (w->cache_len < local_cache_max) {
      f->next = w->cache;
      w->cache = f;
      ++w->cache_len;
      w->bsched->suspend();  // only w pops its cache, and only after this switch
      continue;
    }
    spinlock_lock lk(p->cache_lock);
    if (p->cache_len < global_cache_max) {
      f->next = p->cache;
      p->cache = f;
      ++p->cache_len;
      suspend_releasing(w, f, lk);  // another worker may take us once lk is released
      continue;
    }
    lk.unlock();
    // Not Boost's termination: context::terminate() takes a spinlock on this stack, and
    // Boost's lock() has a ~5 KB frame, so every ending goroutine would fault in a
    // second page of a stack about to be given back (1M goroutines ending: half of the
    // time to join them). Like a cached fiber, this one suspends where it is, in a
    // frame near the top of its stack, and never runs again: the dispatcher gives its
    // stack back (free_cached), with the Boost context on it, which holds nothing else.
    f->next = w->spare;
    w->spare = f;
    ++w->nspare;
    w->bsched->suspend();
    fatal("a freed fiber was resumed");
  }
}

worker* this_worker() noexcept {
  return t_worker;
}

std::int64_t now_ns() noexcept {
  return clock::now().time_since_epoch().count();
}

// ---- public entry points -------------------------------------------------------------

pool::pool(const config& c) : cfg(c), gen(pool_gens.fetch_add(1) + 1) {}

pool_ref::pool_ref() noexcept {
  if (worker* w = t_worker) {
    p_ = w->owner;
    counted_ = false;
    return;
  }
  counted_ = true;
  plain_refs.fetch_add(1, std::memory_order_seq_cst);
  p_ = running_pool.load(std::memory_order_seq_cst);
}

pool_ref::~pool_ref() {
  if (counted_) plain_refs.fetch_sub(1, std::memory_order_release);
}

void start(const config& cfg) {
  tsan_quiet quiet;
  std::lock_guard lk(lifecycle_mu);
  if (running_pool.load() != nullptr) throw std::logic_error("rt: scheduler already running");
  install_segv_handler();
  static std::once_flag once;
  std::call_once(once, [] { ::pthread_atfork(nullptr, nullptr, on_fork_child); });
  auto p = std::make_unique<pool>(cfg);
  netpoll_open(p.get());
  for (int i = 0; i < cfg.workers; ++i) {
    auto w = std::make_unique<worker>(p.get(), i);
    w->seen.resize(static_cast<std::size_t>(cfg.workers));
    w->epfd = ::epoll_create1(EPOLL_CLOEXEC);
    w->evfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    const bool ok = w->epfd >= 0 && w->evfd >= 0;
    p->workers.push_back(std::move(w));
    if (!ok) {
      const int err = errno;
      for (auto& v : p->workers) {
        if (v->epfd >= 0) ::close(v->epfd);
        if (v->evfd >= 0) ::close(v->evfd);
      }
      netpoll_close(p.get());
      throw std::system_error(err, std::generic_category(), "rt: cannot create worker poller");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = p->workers.back()->evfd;
    ::epoll_ctl(p->workers.back()->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
  }
  pool* raw = p.release();
  running_pool.store(raw, std::memory_order_release);
  for (auto& w : raw->workers) w->thread = std::thread(worker_main, raw, w.get());
  monitor_start(raw);
}

bool stop(std::chrono::milliseconds grace) {
  tsan_quiet quiet;
  std::lock_guard lk(lifecycle_mu);
  pool* p = running_pool.load();
  if (p == nullptr) return true;
  p->stopping.store(true, std::memory_order_seq_cst);
  monitor_stop(p);
  for (auto& w : p->workers) {
    spinlock_lock l(w->main_lock);
    w->main_stop = true;
    waiter who = w->main_waiter;
    l.unlock();
    if (who) unpark(who);
    w->may_exit.store(true, std::memory_order_release);
  }
  for (auto& w : p->workers) wake_worker(w.get());
  auto deadline = clock::now() + grace;
  bool all = true;
  for (auto& w : p->workers) {
    while (!w->done.load(std::memory_order_acquire) && clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (w->done.load(std::memory_order_acquire)) {
      w->thread.join();
    } else {
      w->thread.detach();  // stuck in a goroutine that never yields
      all = false;
    }
  }
  running_pool.store(nullptr, std::memory_order_seq_cst);
  if (!all) return false;  // a stuck worker still uses the pool: it is never freed
  // Plain threads that took the pool before it was cleared (an unpark racing this stop)
  // finish with it before it goes; later ones see nullptr.
  while (plain_refs.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  for (auto& w : p->workers) {
    orphan_timers(w.get());
    ::close(w->epfd);
    ::close(w->evfd);
    free_cached(p, w->cache);
    free_cached(p, w->spare);
  }
  free_cached(p, p->cache);
  netpoll_close(p);
  // Runnable and parked fibers are abandoned with their stacks: they never run again (a
  // wake-up for one finds another generation, or no pool, and does nothing).
  delete p;
  return true;
}

bool running() noexcept {
  return running_pool.load(std::memory_order_acquire) != nullptr;
}

int workers() noexcept {
  pool_ref p;
  return p.get() != nullptr ? static_cast<int>(p->workers.size()) : 0;
}

fiber* acquire(bool big) {
  tsan_quiet quiet;
  pool_ref p;
  if (p.get() == nullptr) return nullptr;
  if (!big) {
    if (worker* w = this_worker(); w != nullptr && w->cache != nullptr) {
      fiber* f = w->cache;
      w->cache = f->next;
      --w->cache_len;
      tsan_acquire(f->stack_base);  // its last goroutine ended before go() reuses it
      return f;
    }
    spinlock_lock lk(p->cache_lock);
    if (fiber* f = p->cache) {
      p->cache = f->next;
      --p->cache_len;
      tsan_acquire(f->stack_base);
      return f;
    }
  }
  return create_fiber(p.get(), big);
}

int live() noexcept {
  pool_ref p;
  if (p.get() == nullptr) return 0;
  std::int64_t n = p->launched_outside.load(std::memory_order_relaxed);
  for (auto& w : p->workers) {
    n += w->launched.load(std::memory_order_relaxed) - w->finished.load(std::memory_order_relaxed);
  }
  return static_cast<int>(n);
}

void release_unused(fiber* f) noexcept {
  tsan_quiet quiet;
  pool_ref p;
  if (p.get() == nullptr || p->gen != f->gen) return;  // its pool stopped: abandoned
  tsan_release(f->stack_base);
  spinlock_lock lk(p->cache_lock);
  f->next = p->cache;
  p->cache = f;
  ++p->cache_len;
}

void launch(fiber* f) noexcept {
  tsan_quiet quiet;
  if (forked_child) fatal_in_forked_child();
  pool_ref ref;
  pool* p = ref.get();
  if (p == nullptr || p->gen != f->gen) return;  // its pool stopped meanwhile: never runs
  f->state = fiber_state::runnable;
  f->since = coarse_now();
  worker* w = this_worker();
  fiber* parent = w != nullptr ? w->current : nullptr;
  f->parent = parent != nullptr ? static_cast<std::uint64_t>(parent->goid) : 0;
  f->goid = next_goid(w);
  if (w != nullptr) {
    owner_increment(w->launched);
  } else {
    p->launched_outside.fetch_add(1, std::memory_order_relaxed);
  }
  if (parent == nullptr || p->stopping.load(std::memory_order_relaxed)) {
    tsan_release(f);
    inject(p, f);
    return;
  }
  // Child-first: pick_next returns f; after the switch awakened(parent) puts the
  // parent in the run-next slot.
  tsan_release(f);
  w->pick_first = f;
  w->parent_to_runnext = true;
  w->bsched->yield(parent->ctx);  // Boost's context::yield() would look up active() twice
  finish_switch(parent->last_worker);
}

void finished() noexcept {
  owner_increment(this_worker()->finished);
}

fiber* current() noexcept {
  worker* w = this_worker();
  return w != nullptr ? w->current : nullptr;
}

int worker_index() noexcept {
  worker* w = this_worker();
  return w != nullptr ? w->index : -1;
}

void note_progress() noexcept {
  tsan_quiet quiet;
  if (worker* w = this_worker(); w != nullptr && w->current != nullptr) w->tick();
}

void yield() noexcept {
  tsan_quiet quiet;
  worker* w = this_worker();
  fiber* f = w != nullptr ? w->current : nullptr;
  if (f == nullptr) {
    std::this_thread::yield();
    return;
  }
  if (forked_child) fatal_in_forked_child();
  // Nothing else could run on this worker, and no timer of its heap is due: yielding
  // would only switch away and back.
  const std::int64_t next_timer = w->next_when.load(std::memory_order_relaxed);
  if (w->runnext.load(std::memory_order_relaxed) == nullptr && w->q.empty() &&
      w->owner->ninject.load(std::memory_order_relaxed) <= 0 &&
      (next_timer == INT64_MAX || next_timer > now_ns())) {
    // Still a yield to the monitor, which takes a worker whose tick stands still for stuck.
    w->tick();
    return;
  }
  w->yielding = true;
  w->bsched->yield(f->ctx);  // awakened() puts f at the tail of the ring
  finish_switch(f->last_worker);
}

// A plain thread parks on its own word with a futex, not in a Boost scheduler of its
// own: Boost's schedule_from_remote goes on using the woken thread's scheduler after
// making it runnable, and a plain thread often returns from park and exits at once
// (destroying that scheduler) — a waker still inside the call then wrote into freed
// memory. Here the waker's last access is the futex wake, harmless whatever became of
// the thread: its storage stays mapped, and a late wake is only spurious to a later
// parker at the same address, which re-checks its word.
struct thread_parker {
  std::atomic<std::uint32_t> word{0};  // 0: parked (or about to be); 1: woken
};

namespace {
thread_local thread_parker t_parker;

long futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t val) noexcept {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, val, nullptr, nullptr,
                   0);
}
}  // namespace

waiter waiter::self() noexcept {
  waiter w;
  if (worker* wk = this_worker(); wk == nullptr) {
    w.parker_ = &t_parker;
  } else if (wk->current != nullptr) {
    w.fiber_ = wk->current;
  } else {
    w.thread_ = reinterpret_cast<thread_context*>(bf::context::active());  // opaque outside
  }
  return w;
}

void park(spinlock_lock& lk, const char* reason) noexcept {
  tsan_quiet quiet;
  tsan_release(lk.mutex());  // the caller's lock: unlocked below, where it does not see
  worker* w = this_worker();
  fiber* f = w != nullptr ? w->current : nullptr;
  if (f == nullptr) {
    if (forked_child) fatal_in_forked_child();  // a goroutine's park fails in pick_next
    if (w != nullptr) {
      suspend_releasing(w, nullptr, lk);  // a worker's main context, until stop()
      return;
    }
    // A waker finds this thread only under lk, so the reset happens before its wake-up.
    t_parker.word.store(0, std::memory_order_relaxed);
    lk.unlock();
    while (t_parker.word.load(std::memory_order_acquire) == 0) {
      futex(t_parker.word, FUTEX_WAIT_PRIVATE, 0);
    }
    tsan_acquire(&t_parker);
    return;
  }
  f->state = fiber_state::parked;
  f->wait_reason = reason;
  f->since = coarse_now();
  w->bsched->detach_worker_context(f->ctx);
  suspend_releasing(w, f, lk);
  tsan_acquire(f);  // the unpark that woke us happened before
}

void unpark(waiter wt) noexcept {
  tsan_quiet quiet;
  if (wt.parker_ != nullptr) {
    tsan_release(wt.parker_);
    wt.parker_->word.store(1, std::memory_order_release);
    futex(wt.parker_->word, FUTEX_WAKE_PRIVATE, 1);
    return;
  }
  if (wt.thread_ != nullptr) {  // stop() waking a worker's main context
    auto* ctx = reinterpret_cast<bf::context*>(wt.thread_);
    ctx->get_scheduler()->schedule_from_remote(ctx);
    return;
  }
  if (forked_child) fatal_in_forked_child();
  fiber* f = wt.fiber_;
  pool_ref ref;
  pool* p = ref.get();
  // The pool that made f stopped (run() returned): its abandoned goroutines never run
  // again, in no later pool either.
  if (p == nullptr || p->gen != f->gen) return;
  f->state = fiber_state::runnable;
  f->wait_reason = "";
  f->since = coarse_now();
  tsan_release(f);
  worker* w = this_worker();
  if (w != nullptr && !p->stopping.load(std::memory_order_relaxed)) {
    put_runnext(p, w, f);
  } else {
    inject(p, f);
  }
}

}  // namespace rt::sched
