// idle.cpp — what a worker does with nothing to run (Go's findrunnable / stopm half of
// proc.go, tokio's idle.rs and park.rs): spinning and stealing, parking, and waking
// parked workers.
//
// Owns: the spinning and idle bookkeeping (pool::nspinning, nidle, idle, nrecheck), the
// steal back-off (worker::seen, steal_wait, stole_at) and worker parking in epoll.
//
// Wake-up protocol (no lost wake-ups, no system call while anyone spins):
//   Producer (work put where another worker must take it — global queue, local ring):
//     P1. publish the work (release store / queue enqueue);
//     P2. seq_cst fence (for the global queue; a local ring is always drained by its
//         owner before it goes idle, so there a missed wake-up only costs parallelism);
//     P3. if nidle > 0 and nspinning == 0, CAS nspinning 0->1, pop an idle worker and
//         wake it — it starts out spinning, counted by the producer.
//   Consumer (a worker with nothing to run):
//     C1. spin: steal from the global queue and other workers' rings;
//     C2. stop spinning: nspinning-- (seq_cst), then look at every queue again — work
//         published before P3 read nspinning is seen here, or P3 saw nspinning == 0;
//     C3. join the idle list (nidle++, seq_cst), look again — pairs with P2/P3 the
//         same way for nidle;
//     C4. park: wait in epoll until woken or the earliest timer is due. While goroutines
//         wait on I/O, one parked worker waits in the poller's epoll instance instead of
//         its own (poller.cpp), so sockets are watched without a thread of their own.
//
// Waking a parked worker (wake_worker): count the wake-up in worker::wakes, then write
// the eventfd it waits on — its own, or the poller's break eventfd while it polls. The
// parker publishes `polling` before it reads `wakes` (both seq_cst), so either it sees
// the wake-up and does not block, or the waker sees it polling and breaks the poll.
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>

#include "internal.hpp"
#include "rt/scheduler/spin.hpp"
#include "stack_pool.hpp"

namespace rt::sched {
namespace {

constexpr std::int64_t spin_ns = 5000;          // how long an idle worker looks for work
constexpr std::int64_t recheck_ns = 1'000'000;  // idle look at busy workers' run-next slots
// Stealing (spin()): a ring's head entry is taken once it has waited the thief's
// steal_wait — 0 at first, doubled from steal_wait_step up to steal_wait_max by each
// steal that did not pay off — or at once from a ring steal_backlog long.
constexpr std::int64_t steal_wait_step = 1'000;
constexpr std::int64_t steal_wait_max = 64'000;
constexpr std::int64_t steal_paid_ns = 4'000;  // stolen work that ran this long paid off
constexpr std::uint32_t steal_backlog = 32;

bool work_visible(pool* p) noexcept {
  if (p->ninject.load(std::memory_order_seq_cst) > 0) return true;
  for (auto& v : p->workers) {
    if (!v->q.empty()) return true;
  }
  return false;
}

// steal_from takes half of v's ring, but only work that would otherwise wait: the
// ring's head entry has sat there for steal_wait (the head word did not change: the
// owner is busy in one goroutine or in a run-next chain), or the backlog is long.
// Goroutines the owner runs within microseconds are not worth a migration: they
// usually talk to the goroutine running there, and every lock, channel and stack line
// they touch then bounces between cores (select4 ran 4.5x slower at 2 workers than at
// 1 with every entry stolen at first sight).
fiber* steal_from(worker* w, worker* v, std::int64_t now) noexcept {
  if (w->steal_wait > 0) {
    worker::victim_view& seen = w->seen[static_cast<std::size_t>(v->index)];
    if (const std::uint64_t hw = v->q.head_word(); hw != seen.head) {
      seen.head = hw;
      seen.head_since = now;
    }
    if (now - seen.head_since < w->steal_wait && v->q.size_approx() < steal_backlog) {
      return nullptr;
    }
  }
  fiber* batch[runq::capacity / 2];
  std::uint32_t n = v->q.steal_half(batch);
  if (n == 0) return nullptr;
  w->stole_at = now;
  for (std::uint32_t i = 1; i < n; ++i) w->q.push(batch[i]);  // own ring is empty
  return batch[0];
}

// adapt_steal_wait: this worker is out of work again; did its last steal pay off? Work
// that kept it busy for steal_paid_ns was worth the migration: steal at first sight
// again. Work that ran out sooner (goroutines that ran a moment and parked, to be woken
// back on their old worker) only made two workers share locks and stack lines: wait
// twice as long before the next steal. A fan-out (skynet) keeps stealing at once; a
// handful of goroutines talking to each other (select4: 2,600 steals in 1M operations
// instead of 260,000) ends up on one worker.
void adapt_steal_wait(worker* w, std::int64_t now) noexcept {
  if (w->stole_at == 0) return;
  if (now - w->stole_at >= steal_paid_ns) {
    w->steal_wait = 0;
  } else {
    w->steal_wait = std::min(steal_wait_max, std::max(steal_wait_step, 2 * w->steal_wait));
  }
  w->stole_at = 0;
}

// C4. Waits until woken or `deadline` (ns; INT64_MAX: none) — in the poller when it is
// this worker's turn to watch the sockets.
void park_worker(worker* w, std::int64_t deadline) noexcept {
  pool* p = w->owner;
  w->parked_until.store(deadline, std::memory_order_seq_cst);
  worker* none = nullptr;
  const bool poll = !p->stopping.load(std::memory_order_relaxed) &&
                    p->net_waiters.load(std::memory_order_seq_cst) > 0 &&
                    p->poll_blocker.compare_exchange_strong(none, w);
  if (poll) w->polling.store(true, std::memory_order_seq_cst);
  bool own_event = false;
  if (!w->remote_pending.load(std::memory_order_seq_cst) &&
      w->wakes.load(std::memory_order_seq_cst) == w->wakes_seen) {
    std::int64_t d = -1;  // the timeout in ns; -1: none
    if (deadline != INT64_MAX) {
      const std::int64_t now = now_ns();
      d = deadline <= now ? 0 : deadline - now;
    }
    if (poll) {
      netpoll(p, d);
    } else {
      epoll_event ev[4];
      own_event = epoll_wait_ns(w->epfd, ev, 4, d) > 0;
    }
  }
  if (poll) {
    w->polling.store(false, std::memory_order_seq_cst);
    p->poll_blocker.store(nullptr, std::memory_order_release);
  }
  w->parked_until.store(0, std::memory_order_relaxed);
  const std::uint64_t wakes = w->wakes.load(std::memory_order_acquire);
  if (own_event || wakes != w->wakes_seen) {
    w->wakes_seen = wakes;
    std::uint64_t drained;
    while (::read(w->evfd, &drained, sizeof drained) > 0) {
    }
  }
}

}  // namespace

void wakep_slow(pool* p) noexcept {
  int zero = 0;
  if (!p->nspinning.compare_exchange_strong(zero, 1)) return;
  worker* v = nullptr;
  {
    std::lock_guard lk(p->idle_mu);
    if (!p->idle.empty()) {
      v = p->idle.back();
      p->idle.pop_back();
      v->idle = false;
      p->nidle.fetch_sub(1);
    }
  }
  if (v == nullptr) {
    p->nspinning.fetch_sub(1);
    return;
  }
  wake_worker(v);  // it wakes up spinning, counted by us
}

void wake_worker(worker* w) noexcept {
  w->wakes.fetch_add(1, std::memory_order_seq_cst);
  if (w->polling.load(std::memory_order_seq_cst)) {
    netpoll_break(w->owner);
    return;
  }
  std::uint64_t one = 1;
  (void)!::write(w->evfd, &one, sizeof one);
}

bool spin(worker* w) noexcept {
  pool* p = w->owner;
  const int n = static_cast<int>(p->workers.size());
  if (!w->spinning) {
    int busy = n - p->nidle.load();
    if (2 * p->nspinning.load() >= busy) return false;  // enough workers look already
    w->spinning = true;
    p->nspinning.fetch_add(1);
  }
  for (int i = 0; i < n; ++i) {
    w->seen[i].tick = p->workers[i]->schedtick.load(std::memory_order_relaxed);
  }
  const std::int64_t start = now_ns();
  adapt_steal_wait(w, start);
  for (;;) {
    const std::int64_t now = now_ns();
    const bool last = now - start > spin_ns;
    fiber* f = take_global(p, w);
    w->rng = w->rng * 1664525u + 1013904223u;
    const int first = static_cast<int>((w->rng >> 16) % static_cast<std::uint32_t>(n));
    for (int k = 0; f == nullptr && k < n; ++k) {  // every victim, from a random one on
      worker* v = p->workers[(first + k) % n].get();
      if (v == w) continue;
      f = steal_from(w, v, now);
      // The run-next slot is taken only from a worker that has been running one
      // goroutine for the whole spin (a child that does not yield): otherwise it
      // is a parent about to resume there, and stealing it would only bounce it.
      if (f == nullptr && last &&
          v->schedtick.load(std::memory_order_relaxed) == w->seen[v->index].tick) {
        f = take_runnext(v);
      }
    }
    if (f != nullptr) {
      w->pick_first = f;
      stop_spinning(w);
      return true;
    }
    if (last || w->remote_pending.load(std::memory_order_relaxed)) return false;
    for (int i = 0; i < 64; ++i) spin_pause();
  }
}

void stop_spinning(worker* w) noexcept {
  if (!w->spinning) return;
  w->spinning = false;
  // Go's rule: the last spinner to find work wakes another worker, in case there is
  // more where this came from.
  pool* p = w->owner;
  if (p->nspinning.fetch_sub(1) == 1 && work_visible(p)) wakep(p);
}

void idle(worker* w, std::int64_t deadline) noexcept {
  pool* p = w->owner;
  if (w->spinning) {
    w->spinning = false;
    p->nspinning.fetch_sub(1, std::memory_order_seq_cst);  // C2
    if (work_visible(p)) return;
  }
  // Free stacks' memory goes back to the OS from idle workers, an epoch after they
  // were freed (the stack pool's scavenger): parking, wake up when it is due.
  if (const std::int64_t due = stacks().scavenge_due(); due != INT64_MAX) {
    if (const std::int64_t now = now_ns(); now >= due) stacks().scavenge(now);
    deadline = std::min(deadline, stacks().scavenge_due());
  }
  {
    std::lock_guard lk(p->idle_mu);
    w->idle = true;
    p->idle.push_back(w);
    p->nidle.fetch_add(1, std::memory_order_seq_cst);  // C3
  }
  if (!work_visible(p) && !w->remote_pending.load(std::memory_order_seq_cst)) {
    // Timer protocol (timers.cpp): announce parking before reading the heaps.
    w->parked_until.store(INT64_MAX, std::memory_order_seq_cst);
    // While another worker is busy, a goroutine may wait in its run-next slot, which
    // is not stealable work yet (a go()'s parent while the child runs): come back to
    // check whether that worker got stuck (Go's sysmon does this). Parked this way, a
    // worker spares every go() a wake-up write() (see awakened() in worker.cpp): on the
    // VM here those cost more than the spawn itself.
    bool recheck = p->nidle.load(std::memory_order_relaxed) < static_cast<int>(p->workers.size());
    for (auto& v : p->workers) {
      deadline = std::min(deadline, v->next_when.load(std::memory_order_seq_cst));
      if (v.get() != w && v->runnext.load(std::memory_order_relaxed) != nullptr) recheck = true;
    }
    if (recheck) {
      deadline = std::min(deadline, now_ns() + recheck_ns);
      p->nrecheck.fetch_add(1, std::memory_order_relaxed);
    }
    park_worker(w, deadline);  // C4
    if (recheck) p->nrecheck.fetch_sub(1, std::memory_order_relaxed);
    monitor_notice_busy(p);
  }
  bool still_idle;
  {
    std::lock_guard lk(p->idle_mu);
    still_idle = w->idle;
    if (still_idle) {
      w->idle = false;
      std::erase(p->idle, w);
      p->nidle.fetch_sub(1);
    }
  }
  if (!still_idle) w->spinning = true;  // a producer woke us and counted us spinning
}

void park_stopping(worker* w) noexcept {
  park_worker(w, INT64_MAX);
}

}  // namespace rt::sched
