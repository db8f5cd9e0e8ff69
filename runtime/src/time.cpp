// time.cpp — rt::sleep_until, rt::after, rt::timer and rt::ticker (rt/time.hpp).
//
// Owns: the timer records handed to the scheduler's heaps and their fire callbacks.
// Fire callbacks run on a worker in scheduler context: they only unpark, make
// non-blocking channel sends and re-arm, never park or throw.
//
// Sleep, the wake-up protocol:
//   1. the sleeper fills a record on its stack, locks the record's spinlock, starts the
//      timer and parks with that lock (released once it is fully suspended);
//   2. fire locks and unlocks the same spinlock — so the sleeper is suspended — and
//      unparks it. Only fire wakes a sleeper, so it is woken exactly once.
//
// Deadlines: every `when` here comes from detail::deadline_after or detail::later
// (rt/detail/deadline.hpp), so a duration too long to represent gives
// clock::time_point::max(), which the scheduler keeps in its heap and never fires.
//
// Ticker stop versus re-arm: fire re-arms under time_source::lock unless `stopped`;
// stop() sets `stopped` under that lock, then timer_stop(), which waits for a firing in
// progress. Either fire re-armed before stop took the lock (timer_stop then finds the
// timer pending and removes it) or it sees `stopped`; no tick follows stop().
#include <stdexcept>
#include <thread>

#include "rt/runtime.hpp"
#include "rt/scheduler/scheduler.hpp"
#include "rt/time.hpp"

namespace rt {
namespace detail {

// The record behind after(), rt::timer and rt::ticker.
struct time_source : sched::timer {
  chan<clock::time_point> c;  // shares the channel with the user's handle
  clock::duration period{};   // > 0 for a ticker; immutable
  sched::spinlock lock;       // serialises stop/reset; a ticker's re-arm against stop
  bool stopped = false;       // ticker: never re-arm again; guarded by lock
};

}  // namespace detail

namespace {

using detail::time_source;

// offer sends the time if the channel has room; a tick that finds it full is dropped.
// A user may close a timer's channel (Go's is receive-only): then ticks are dropped too.
void offer(chan<clock::time_point>& c) noexcept {
  try {
    c.try_send(clock::now());
  } catch (const channel_closed&) {
  }
}

void fire_after(sched::timer* t) noexcept {
  auto* s = static_cast<time_source*>(t);
  offer(s->c);
  delete s;  // after() handed the record to the scheduler: it ends here
}

void drop_after(sched::timer* t) noexcept {
  delete static_cast<time_source*>(t);  // pending when the pool stopped
}

void fire_timer(sched::timer* t) noexcept {
  offer(static_cast<time_source*>(t)->c);
}

void fire_ticker(sched::timer* t) noexcept {
  auto* s = static_cast<time_source*>(t);
  offer(s->c);
  const clock::time_point now = clock::now();
  sched::spinlock_lock lk(s->lock);
  if (s->stopped) return;
  // The next tick after now on the grid when + k * period (skipping missed ticks).
  const clock::duration late = (now - s->when) % s->period;  // now >= when: it fired
  s->when = detail::later(now, s->period - late);
  sched::timer_start(s);
}

// make_source builds a record whose first firing is d from now; the caller starts it.
std::unique_ptr<time_source> make_source(clock::duration d, clock::duration period,
                                         void (*fire)(sched::timer*)) {
  detail::ensure_runtime();
  auto s = std::make_unique<time_source>();
  s->c = make_chan<clock::time_point>(1);
  s->period = period;
  s->when = detail::deadline_after(d);
  s->fire = fire;
  return s;
}

// stop_source stops s for good (destructors, move assignment). The scheduler's heaps go
// with the pool: a timer outliving its pool has nothing left to stop.
void stop_source(time_source* s) noexcept {
  if (s == nullptr || !sched::running()) return;
  {
    sched::spinlock_lock lk(s->lock);
    s->stopped = true;
  }
  sched::timer_stop(s);
}

struct sleeper : sched::timer {
  sched::spinlock lock;  // held by the sleeper until it is parked (protocol step 1)
  sched::waiter who;     // immutable once the timer is started
};

void fire_sleeper(sched::timer* t) noexcept {
  auto* s = static_cast<sleeper*>(t);
  const sched::waiter who = s->who;
  s->lock.lock();  // step 2: the sleeper is suspended once we get the lock
  s->lock.unlock();
  sched::unpark(who);  // s lives on the sleeper's stack: not touched after this
}

}  // namespace

void sleep_until(clock::time_point tp) {
  if (sched::current() == nullptr) {  // a plain thread (or no runtime): block the thread
    std::this_thread::sleep_until(tp);
    return;
  }
  if (tp <= clock::now()) return;
  sleeper s;
  s.when = tp;
  s.fire = fire_sleeper;
  s.who = sched::waiter::self();
  sched::spinlock_lock lk(s.lock);
  sched::timer_start(&s);
  sched::park(lk, "sleep");
}

chan<clock::time_point> after(clock::duration d) {
  std::unique_ptr<time_source> s = make_source(d, {}, fire_after);
  s->orphaned = drop_after;
  chan<clock::time_point> c = s->c;
  sched::timer_start(s.get());
  s.release();  // owned by the scheduler's heap from the start: fire_after frees it
  return c;
}

// ---- rt::timer ------------------------------------------------------------------------

timer::timer(clock::duration d) : src_(make_source(d, {}, fire_timer)) {
  c = src_->c;
  sched::timer_start(src_.get());
}

timer::timer(timer&&) noexcept = default;

timer& timer::operator=(timer&& other) noexcept {
  if (this != &other) {
    stop_source(src_.get());
    src_ = std::move(other.src_);
    c = std::move(other.c);
  }
  return *this;
}

timer::~timer() {
  stop_source(src_.get());
}

bool timer::stop() {
  if (src_ == nullptr) return false;
  sched::spinlock_lock lk(src_->lock);
  return sched::timer_stop(src_.get());
}

bool timer::reset(clock::duration d) {
  if (src_ == nullptr) throw std::logic_error("rt::timer::reset: timer was moved from");
  sched::spinlock_lock lk(src_->lock);
  const bool was_pending = sched::timer_stop(src_.get());
  src_->when = detail::deadline_after(d);
  sched::timer_start(src_.get());
  return was_pending;
}

// ---- rt::ticker -----------------------------------------------------------------------

ticker::ticker(clock::duration period) {
  if (period <= clock::duration::zero()) {
    throw std::invalid_argument("rt::ticker: non-positive interval");
  }
  src_ = make_source(period, period, fire_ticker);
  c = src_->c;
  sched::timer_start(src_.get());
}

ticker::ticker(ticker&&) noexcept = default;

ticker& ticker::operator=(ticker&& other) noexcept {
  if (this != &other) {
    stop_source(src_.get());
    src_ = std::move(other.src_);
    c = std::move(other.c);
  }
  return *this;
}

ticker::~ticker() {
  stop_source(src_.get());
}

void ticker::stop() {
  stop_source(src_.get());
}

}  // namespace rt
