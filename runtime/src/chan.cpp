// chan.cpp — the channel and select algorithm behind rt::chan<T> and rt::select
// (rt/detail/chan_core.hpp holds the data structures and their invariants).
//
// Owns: moving values between senders, the ring buffer and receivers; parking and
// waking the goroutines (or plain threads) that wait on channels; closing; select.
// Invariant: a waiter is woken exactly once, by the thread that removed it from a wait
// queue under the channel lock and (for a select) won the CAS on its select's `fired`.
//
// Single operation (send, recv), the wake-up protocol:
//   1. lock the channel; try to complete at once (a parked peer, the buffer, close);
//   2. otherwise enqueue a chan_waiter on our stack and park(lk): the channel lock is
//      released only once we are fully suspended;
//   3. a waker (peer or close) finds us under the same lock, dequeues us, moves the
//      value, sets `success`, unlocks and unparks us. It can never resume us too early
//      (we were suspended before it got the lock) and nobody else can find us again.
//
// Select, the wake-up protocol (Go's runtime/select.go, plus a first lock-light pass):
//   1. shuffle the non-nil cases into a random poll order (uniform choice among ready
//      cases);
//   2. poll the cases in that order, each with only its own channel locked; the first
//      that can complete does and its index is returned (a select that finds a case
//      ready — and every select with a default — touches no other channel's lock);
//   3. otherwise sort the cases by channel address into a lock order (no lock-order
//      deadlock between selects; a channel used by two cases is locked once), lock every
//      channel and poll again, as in 2;
//   4. still nothing: put one chan_waiter per case on its channel's queue, all pointing
//      at one select_waiter; lock select_waiter::lock, unlock the channels and park on
//      it;
//   5. a waker that dequeues one of our waiters must win the CAS of `fired` from nullptr
//      to that waiter (losers drop the stale waiter and look further); it moves the
//      value, then locks and unlocks select_waiter::lock — which we hold until fully
//      suspended — and unparks us;
//   6. woken, we lock every channel again, unlink the waiters of the other cases (some
//      may already have been dropped by losers of step 5) and report `fired`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "rt/chan.hpp"
#include "rt/scheduler/fatal.hpp"
#include "rt/scheduler/race.hpp"
#include "rt/scheduler/scheduler.hpp"

namespace rt::detail {
namespace {

// ---- wait queues (channel lock held) ------------------------------------------------

void enqueue(waitq& q, chan_waiter* w) noexcept {
  w->next = nullptr;
  w->prev = q.last;
  if (q.last != nullptr) {
    q.last->next = w;
  } else {
    q.first = w;
  }
  q.last = w;
}

void unlink(waitq& q, chan_waiter* w) noexcept {
  if (w->prev != nullptr) {
    w->prev->next = w->next;
  } else {
    q.first = w->next;
  }
  if (w->next != nullptr) {
    w->next->prev = w->prev;
  } else {
    q.last = w->prev;
  }
  w->prev = nullptr;
  w->next = nullptr;
}

// unlink_if_queued removes w unless a waker already dropped it (select step 6).
void unlink_if_queued(waitq& q, chan_waiter* w) noexcept {
  if (w->prev != nullptr || q.first == w) unlink(q, w);
}

// dequeue pops the first waiter that this caller may wake: a single operation, or a
// select case whose select it claims (step 5). Cases of selects claimed elsewhere are
// dropped on the way.
chan_waiter* dequeue(waitq& q) noexcept {
  while (chan_waiter* w = q.first) {
    unlink(q, w);
    if (w->sel == nullptr) return w;
    chan_waiter* none = nullptr;
    // acq_rel: pairs with the CAS of any other waker of the same select.
    if (w->sel->fired.compare_exchange_strong(none, w, std::memory_order_acq_rel)) return w;
  }
  return nullptr;
}

// What waking a dequeued waiter needs, copied out of its node (which lives on the woken
// stack and may be gone once the waiter is unparked).
struct wakeup {
  sched::waiter who;
  select_waiter* sel;
};

// wake unparks a waiter that this thread dequeued, after its channel lock was released.
void wake(wakeup w) noexcept {
  if (w.sel != nullptr) {
    w.sel->lock.lock();  // select step 5: the selector is fully parked once we get this
    w.sel->lock.unlock();
  }
  sched::unpark(w.who);
}
void wake(chan_waiter* w) noexcept {
  wake(wakeup{w->who, w->sel});
}

// ---- the ring buffer (channel lock held) --------------------------------------------

void* slot(chan_core* c, std::size_t i) noexcept {
  std::size_t k = c->head + i;
  if (k >= c->cap) k -= c->cap;
  return c->buf + k * c->ops->size;
}

void advance_head(chan_core* c) noexcept {
  if (++c->head == c->cap) c->head = 0;
}

// ---- one step of send / receive (channel lock held) ---------------------------------

enum class step { done, would_block, closed };

// try_send_locked completes a send if possible; *woken is set to a receiver to wake
// once the lock is released.
step try_send_locked(chan_core* c, void* elem, chan_waiter** woken) noexcept {
  if (c->closed) return step::closed;
  if (chan_waiter* r = dequeue(c->recvq)) {  // a parked receiver: the buffer is empty
    c->ops->move_to_opt(r->elem, elem);
    r->success = true;
    *woken = r;
    return step::done;
  }
  const std::size_t n = c->count.load(std::memory_order_relaxed);
  if (n < c->cap) {
    c->ops->move_to_raw(slot(c, n), elem);
    c->count.store(n + 1, std::memory_order_relaxed);
    return step::done;
  }
  return step::would_block;
}

// try_recv_locked completes a receive if possible (step::closed: closed and drained).
step try_recv_locked(chan_core* c, void* opt, chan_waiter** woken) noexcept {
  // A parked sender (the buffer is full). Once closed, the senders still queued are being
  // woken to fail (chan_close): never a value to take.
  if (chan_waiter* s = c->closed ? nullptr : dequeue(c->sendq)) {
    if (c->cap == 0) {
      c->ops->move_to_opt(opt, s->elem);
    } else {
      // Take the oldest value; the sender's value goes to the slot it frees, which is
      // the tail of the full ring.
      void* head = slot(c, 0);
      c->ops->move_to_opt(opt, head);
      c->ops->destroy(head);
      c->ops->move_to_raw(head, s->elem);
      advance_head(c);
    }
    s->success = true;
    *woken = s;
    return step::done;
  }
  const std::size_t n = c->count.load(std::memory_order_relaxed);
  if (n > 0) {
    void* head = slot(c, 0);
    c->ops->move_to_opt(opt, head);
    c->ops->destroy(head);
    advance_head(c);
    c->count.store(n - 1, std::memory_order_relaxed);
    return step::done;
  }
  return c->closed ? step::closed : step::would_block;
}

// try_case_locked runs one step of a select case (its channel locked).
step try_case_locked(const select_case& sc, chan_waiter** woken) noexcept {
  return sc.send ? try_send_locked(sc.c, sc.elem, woken) : try_recv_locked(sc.c, sc.elem, woken);
}

[[noreturn]] void throw_send_on_closed() {
  throw channel_closed("send on closed channel");
}

// ---- select helpers -----------------------------------------------------------------

// A per-thread wyrand generator; only read between parks, never across one (so quiet for
// ThreadSanitizer, see rt/scheduler/race.hpp).
std::uint32_t random_below(std::uint32_t n) noexcept {
  sched::tsan_quiet quiet;
  thread_local std::uint64_t state =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      reinterpret_cast<std::uintptr_t>(&state);
  state += 0xa0761d6478bd642fULL;
  const __uint128_t m = static_cast<__uint128_t>(state) * (state ^ 0xe7037ed1a0b428dbULL);
  const auto r = static_cast<std::uint32_t>(static_cast<std::uint64_t>(m >> 64) ^
                                            static_cast<std::uint64_t>(m));
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(r) * n) >> 32);
}

void lock_all(const select_case* cs, const std::uint16_t* order, std::size_t m) noexcept {
  for (std::size_t k = 0; k < m; ++k) {
    chan_core* c = cs[order[k]].c;
    if (k == 0 || c != cs[order[k - 1]].c) c->lock.lock();
  }
}

void unlock_all(const select_case* cs, const std::uint16_t* order, std::size_t m) noexcept {
  for (std::size_t k = m; k-- > 0;) {
    chan_core* c = cs[order[k]].c;
    if (k == 0 || c != cs[order[k - 1]].c) c->lock.unlock();
  }
}

}  // namespace

// ---- lifetime -------------------------------------------------------------------------

chan_core* chan_make(const elem_ops* ops, std::size_t cap) {
  const std::size_t header = (sizeof(chan_core) + ops->align - 1) / ops->align * ops->align;
  if (ops->size != 0 && cap > (SIZE_MAX - header) / ops->size) {
    throw std::length_error("rt::make_chan: capacity " + std::to_string(cap) + " too large");
  }
  const std::size_t align = std::max(alignof(chan_core), ops->align);
  void* mem = ::operator new (header + cap * ops->size, std::align_val_t{align});
  auto* c = ::new (mem) chan_core;
  c->ops = ops;
  c->cap = cap;
  c->buf = static_cast<unsigned char*>(mem) + header;
  return c;
}

void chan_destroy(chan_core* c) noexcept {
  const std::size_t n = c->count.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) c->ops->destroy(slot(c, i));
  const std::size_t align = std::max(alignof(chan_core), c->ops->align);
  c->~chan_core();
  ::operator delete (c, std::align_val_t{align});
}

// ---- operations -----------------------------------------------------------------------

bool chan_send(chan_core* c, void* elem, bool block) {
  if (c == nullptr) {
    if (!block) return false;
    block_forever("chan send (nil chan)");
  }
  sched::spinlock_lock lk(c->lock);
  chan_waiter* woken = nullptr;
  switch (try_send_locked(c, elem, &woken)) {
    case step::done:
      lk.unlock();
      if (woken != nullptr) wake(woken);
      return true;
    case step::closed:
      lk.unlock();
      throw_send_on_closed();
    case step::would_block:
      break;
  }
  if (!block) return false;
  chan_waiter me;
  me.who = sched::waiter::self();
  me.elem = elem;
  enqueue(c->sendq, &me);
  sched::park(lk, "chan send");
  if (!me.success) throw_send_on_closed();  // woken by close
  return true;
}

bool chan_recv(chan_core* c, void* opt, bool block) {
  if (c == nullptr) {
    if (!block) return false;
    block_forever("chan receive (nil chan)");
  }
  sched::spinlock_lock lk(c->lock);
  chan_waiter* woken = nullptr;
  switch (try_recv_locked(c, opt, &woken)) {
    case step::done:
      lk.unlock();
      if (woken != nullptr) wake(woken);
      return true;
    case step::closed:
      return true;
    case step::would_block:
      break;
  }
  if (!block) return false;
  chan_waiter me;
  me.who = sched::waiter::self();
  me.elem = opt;
  enqueue(c->recvq, &me);
  sched::park(lk, "chan receive");
  return true;  // a value, or close (then *opt stays empty)
}

void chan_close(chan_core* c) {
  if (c == nullptr) throw std::logic_error("close of nil channel");
  sched::spinlock_lock lk(c->lock);
  if (c->closed) throw channel_closed("close of closed channel");
  c->closed = true;
  // Wake every waiter, a batch at a time: a batch is dequeued under the lock (each node
  // read once, its wake-up copied out) and woken after unlock, so the woken run while the
  // next batch is collected. The waiters still queued meanwhile stay parked: once closed,
  // no send or receive takes them (try_send_locked, try_recv_locked), and a select that
  // fired elsewhere unlinks its own under the lock as before.
  constexpr std::size_t batch = 64;
  wakeup woken[batch];
  for (;;) {
    std::size_t n = 0;
    for (waitq* q : {&c->recvq, &c->sendq}) {
      while (n < batch) {
        chan_waiter* w = dequeue(*q);
        if (w == nullptr) break;
        w->success = false;
        woken[n++] = {w->who, w->sel};
      }
    }
    lk.unlock();
    for (std::size_t i = 0; i < n; ++i) wake(woken[i]);
    if (n < batch) return;
    sched::note_progress();  // waking a million takes long, but is no stuck worker
    lk.lock();
  }
}

std::size_t select_run(select_case* cs, chan_waiter* waiters, std::uint16_t* order, std::size_t n,
                       bool block) {
  // Step 1: poll order (inside-out Fisher-Yates over the non-nil cases).
  std::uint16_t* poll = order;
  std::uint16_t* locks = order + n;
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (cs[i].c == nullptr) continue;
    const std::uint32_t j = random_below(static_cast<std::uint32_t>(m + 1));
    poll[m] = poll[j];
    poll[j] = static_cast<std::uint16_t>(i);
    ++m;
  }
  // A case completed (its locks released): wake its peer, report it.
  auto completed = [cs](std::size_t i, step s, chan_waiter* woken) {
    if (woken != nullptr) wake(woken);
    if (s == step::closed && cs[i].send) throw_send_on_closed();
    return i;
  };

  // Step 2: poll each case with only its own channel locked.
  for (std::size_t k = 0; k < m; ++k) {
    const std::size_t i = poll[k];
    chan_waiter* woken = nullptr;
    cs[i].c->lock.lock();
    const step s = try_case_locked(cs[i], &woken);
    cs[i].c->lock.unlock();
    if (s != step::would_block) return completed(i, s, woken);
  }
  if (!block) return n;
  if (m == 0) block_forever("select (no cases)");

  // Step 3: lock every channel in address order and poll again.
  std::copy(poll, poll + m, locks);
  for (std::size_t k = 1; k < m; ++k) {  // insertion sort: m is small
    const std::uint16_t x = locks[k];
    std::size_t j = k;
    for (; j > 0 && std::less<chan_core*>()(cs[x].c, cs[locks[j - 1]].c); --j) {
      locks[j] = locks[j - 1];
    }
    locks[j] = x;
  }
  lock_all(cs, locks, m);
  for (std::size_t k = 0; k < m; ++k) {
    const std::size_t i = poll[k];
    chan_waiter* woken = nullptr;
    const step s = try_case_locked(cs[i], &woken);
    if (s == step::would_block) continue;
    unlock_all(cs, locks, m);
    return completed(i, s, woken);
  }

  // Step 4: enqueue on every channel and park.
  select_waiter sel;
  const sched::waiter self = sched::waiter::self();
  for (std::size_t k = 0; k < m; ++k) {
    const std::size_t i = locks[k];
    chan_waiter& w = waiters[i];
    w.who = self;
    w.elem = cs[i].elem;
    w.sel = &sel;
    w.success = false;
    enqueue(cs[i].send ? cs[i].c->sendq : cs[i].c->recvq, &w);
  }
  sched::spinlock_lock sl(sel.lock);
  unlock_all(cs, locks, m);
  sched::park(sl, "select");

  // Step 6: dequeue the other cases.
  chan_waiter* fired = sel.fired.load(std::memory_order_acquire);
  lock_all(cs, locks, m);
  for (std::size_t k = 0; k < m; ++k) {
    const std::size_t i = locks[k];
    if (&waiters[i] != fired) {
      unlink_if_queued(cs[i].send ? cs[i].c->sendq : cs[i].c->recvq, &waiters[i]);
    }
  }
  unlock_all(cs, locks, m);
  const auto i = static_cast<std::size_t>(fired - waiters);
  if (cs[i].send && !fired->success) throw_send_on_closed();
  return i;
}

void block_forever(const char* reason) {
  sched::spinlock never_woken;
  sched::spinlock_lock lk(never_woken);
  sched::park(lk, reason);
  sched::fatal("a goroutine parked forever (%s) was woken", reason);
}

}  // namespace rt::detail
