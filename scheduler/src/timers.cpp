// timers.cpp — per-worker timer heaps.
//
// Owns: the 4-ary min-heaps (one per worker) of intrusive rt::sched::timer records,
// ordered by deadline (each entry holds a copy of it), and firing them.
// Invariants: a timer is in at most one heap, at heap[heap_index] with its deadline in
// ns beside it, exactly while its status is `pending`; worker::next_when equals the heap
// top's deadline (INT64_MAX when empty); fire() runs outside the heap lock, with
// worker::firing naming the timer so that timer_stop() can wait for it, and only one
// thread at a time fires a heap's timers (any worker may fire any heap's); after fire()
// starts the scheduler never touches the timer again (fire may free it, e.g. by waking
// the sleeping goroutine whose stack holds it).
//
// Wake-up protocol with parking workers (see worker.cpp, C4): a parking worker stores
// parked_until = INT64_MAX, then reads every heap's next_when to compute its timeout,
// then stores the timeout. timer_start stores next_when, then reads parked_until and
// wakes a worker that would sleep past the new deadline. Both sides are seq_cst, so
// either the parker sees the new timer or the starter sees the parker.
#include <algorithm>

#include "internal.hpp"

namespace rt::sched {
namespace {

enum status : int { st_unarmed = 0, st_pending = 1, st_done = 2 };

std::int64_t ns(clock::time_point tp) noexcept {
  return tp.time_since_epoch().count();
}

using heap_t = std::vector<worker::heap_entry>;
constexpr std::size_t arity = 4;

void place(heap_t& h, std::size_t i, worker::heap_entry e) noexcept {
  h[i] = e;
  e.t->heap_index = static_cast<int>(i);
}

void sift_up(heap_t& h, std::size_t i) noexcept {
  const worker::heap_entry e = h[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / arity;
    if (h[parent].when <= e.when) break;
    place(h, i, h[parent]);
    i = parent;
  }
  place(h, i, e);
}

void sift_down(heap_t& h, std::size_t i) noexcept {
  const worker::heap_entry e = h[i];
  const std::size_t n = h.size();
  for (;;) {
    const std::size_t first = arity * i + 1;
    if (first >= n) break;
    std::size_t least = first;
    const std::size_t end = std::min(first + arity, n);
    for (std::size_t c = first + 1; c < end; ++c) {
      if (h[c].when < h[least].when) least = c;
    }
    if (e.when <= h[least].when) break;
    place(h, i, h[least]);
    i = least;
  }
  place(h, i, e);
}

// Removes the timer at index i (w->timer_lock held).
void remove_at(worker* w, std::size_t i) noexcept {
  auto& h = w->heap;
  h[i].t->heap_index = -1;
  const worker::heap_entry last = h.back();
  h.pop_back();
  if (i < h.size()) {
    place(h, i, last);
    sift_down(h, i);
    sift_up(h, static_cast<std::size_t>(last.t->heap_index));
  }
}

void publish_next(worker* w) noexcept {
  w->next_when.store(w->heap.empty() ? INT64_MAX : w->heap.front().when, std::memory_order_seq_cst);
}

}  // namespace

void timer_start(timer* t) {
  tsan_quiet quiet;
  tsan_release(t);  // what the starter wrote happens before fire() reads it
  pool* p = running_pool.load(std::memory_order_acquire);
  worker* w = this_worker();
  if (w == nullptr) w = p->workers.front().get();
  const std::int64_t when = ns(t->when);
  {
    spinlock_lock lk(w->timer_lock);
    t->heap = w;
    t->status.store(st_pending, std::memory_order_relaxed);
    w->heap.push_back({when, t});
    sift_up(w->heap, w->heap.size() - 1);
    publish_next(w);
  }
  for (auto& v : p->workers) {
    std::int64_t until = v->parked_until.load(std::memory_order_seq_cst);
    if (until != 0 && until > when) {
      wake_worker(v.get());
      break;
    }
  }
}

bool timer_stop(timer* t) noexcept {
  tsan_quiet quiet;
  worker* w = t->heap;
  if (w == nullptr) return false;
  spinlock_lock lk(w->timer_lock);
  if (t->status.load(std::memory_order_relaxed) == st_pending) {
    remove_at(w, static_cast<std::size_t>(t->heap_index));
    t->status.store(st_unarmed, std::memory_order_relaxed);
    publish_next(w);
    return true;
  }
  while (w->firing == t) {  // fire() runs on another thread: wait until it returned
    lk.unlock();
    std::this_thread::yield();
    lk.lock();
  }
  return false;
}

bool run_timers(worker* w, std::int64_t now, bool try_only) noexcept {
  if (w->next_when.load(std::memory_order_relaxed) > now) return false;
  spinlock_lock lk(w->timer_lock, std::defer_lock);
  if (try_only) {
    if (!lk.try_lock()) return false;
  } else {
    lk.lock();
  }
  // One firer per heap: while another thread fires this heap's timers (it drains every
  // due one before it stops), `firing` must keep naming its timer for timer_stop().
  if (w->firing != nullptr) return false;
  bool fired = false;
  while (!w->heap.empty() && w->heap.front().when <= now) {
    timer* t = w->heap.front().t;
    remove_at(w, 0);
    t->status.store(st_done, std::memory_order_relaxed);
    w->firing = t;
    publish_next(w);
    void (*fire)(timer*) = t->fire;
    lk.unlock();
    tsan_acquire(t);
    fire(t);  // from here on, t may be gone
    lk.lock();
    w->firing = nullptr;
    fired = true;
  }
  return fired;
}

void orphan_timers(worker* w) noexcept {
  for (const worker::heap_entry& e : w->heap) {
    timer* t = e.t;
    t->heap = nullptr;  // a later timer_stop, in this pool's successor, finds nothing to do
    t->heap_index = -1;
    t->status.store(st_unarmed, std::memory_order_relaxed);
    if (t->orphaned != nullptr) t->orphaned(t);  // from here on, t may be gone
  }
  w->heap.clear();
}

}  // namespace rt::sched
