// poller.cpp — the I/O poller (Go's netpoll_epoll.go and the pollDesc half of
// internal/poll): one edge-triggered epoll instance per pool, the descriptors registered
// with it, the goroutines parked on them and their deadlines.
//
// Owns: pool::netfd and pool::breakfd, poll_desc records (type-stable: recycled through a
// free list, never freed, so an event that epoll returned for a descriptor closed since
// finds a valid record and only causes a spurious retry), and the deadline timers.
//
// Invariants (all under poll_desc::lock):
//   * a waiter is in its mode's list exactly while it is parked there; whoever takes it
//     out (an edge, the deadline timer, poll_evict, a deadline set in the past) sets its
//     status and wakes it, once;
//   * `ready[m]` records an edge that found nobody waiting since the last poll_begin, so
//     the next wait returns at once instead of missing it (edge triggering reports each
//     edge once);
//   * `drained[m]`: the last attempt ended short (poll_short), so the kernel buffer was
//     empty (read) or full (write) after it; with no edge since (`ready[m]` false), the
//     next attempt would only get EAGAIN, and poll_begin parks instead (tokio's rule for
//     short reads and writes: it saves one system call per wait) — unless `final[m]`: a
//     hang-up or error was reported, which no later edge repeats (a short read before
//     the end of stream is followed by a read that returns 0 at once);
//   * `armed[m]` is true exactly while the mode's deadline timer is started and has not
//     fired; only poll_set_deadline starts one, and it stops the old one first.
//
// Who polls (Go's rules; worker.cpp and idle.cpp call netpoll):
//   * an idle worker blocks in netpoll() when goroutines wait on I/O and no other worker
//     does (pool::poll_blocker), with the timeout at the earliest timer — it is the one
//     idle wait that also watches the sockets; other idle workers wait on their eventfd;
//   * a worker out of local work polls without blocking before it looks elsewhere, and a
//     busy worker polls every poll_period_ns, so goroutines that keep every worker busy
//     cannot starve I/O.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>

#include "internal.hpp"
#include "rt/scheduler/poller.hpp"

namespace rt::sched {

// One goroutine (or plain thread) parked on a descriptor, on its own stack.
struct poll_wait_node {
  waiter who;
  poll_wait_node* next = nullptr;
  poll_status status = poll_status::ready;
};

// The deadline timer of one mode.
struct poll_deadline : timer {
  poll_desc* pd = nullptr;
  int mode = 0;  // 0: read, 1: write
};

struct poll_desc {
  spinlock lock;
  poll_wait_node* waiting[2] = {nullptr, nullptr};  // read, write
  bool ready[2] = {false, false};
  bool drained[2] = {false, false};
  bool final[2] = {false, false};    // hang-up or error seen: sticky
  bool expired[2] = {false, false};  // the deadline passed (until the next set)
  bool armed[2] = {false, false};
  bool closing = false;
  int fd = -1;
  std::uint64_t gen = 0;  // the pool it is registered with
  poll_deadline deadline[2];
  poll_desc* next_free = nullptr;
};

namespace {

// ---- poll_desc records ---------------------------------------------------------------

spinlock free_lock;
poll_desc* free_list = nullptr;

poll_desc* alloc_desc() {
  {
    spinlock_lock lk(free_lock);
    if (poll_desc* pd = free_list) {
      free_list = pd->next_free;
      return pd;
    }
  }
  // A block of 64 records, never freed (see the invariant at the top).
  constexpr int block = 64;
  auto* b = new poll_desc[block];
  spinlock_lock lk(free_lock);
  for (int i = 1; i < block; ++i) {
    b[i].next_free = free_list;
    free_list = &b[i];
  }
  return &b[0];
}

void free_desc(poll_desc* pd) noexcept {
  spinlock_lock lk(free_lock);
  pd->next_free = free_list;
  free_list = pd;
}

constexpr int mode_index(poll_mode m) noexcept {
  return m == poll_write ? 1 : 0;
}

// Wakes every node of a list taken out of a poll_desc (its lock released), with `st`.
void wake_all(poll_wait_node* n, poll_status st) noexcept {
  while (n != nullptr) {
    poll_wait_node* next = n->next;
    const waiter who = n->who;
    n->status = st;
    unpark(who);  // n lives on the waiter's stack: not touched after this
    n = next;
  }
}

void fire_deadline(timer* t) noexcept {
  auto* d = static_cast<poll_deadline*>(t);
  poll_desc* pd = d->pd;
  const int m = d->mode;
  spinlock_lock lk(pd->lock);
  if (!pd->armed[m]) return;  // disarmed since: this firing is stale
  pd->armed[m] = false;
  pd->expired[m] = true;
  poll_wait_node* list = pd->waiting[m];
  pd->waiting[m] = nullptr;
  lk.unlock();
  wake_all(list, poll_status::timeout);
}

// disarm stops mode m's deadline timer (lk held on entry and on return; released while
// waiting for a firing in progress). Timers of a pool that stopped are gone with it.
void disarm(poll_desc* pd, int m, spinlock_lock& lk) noexcept {
  while (pd->armed[m]) {
    pd->armed[m] = false;
    lk.unlock();
    pool_ref p;
    if (p.get() != nullptr && p->gen == pd->gen) timer_stop(&pd->deadline[m]);
    lk.lock();
  }
}

}  // namespace

// ---- the pool's epoll instance ---------------------------------------------------------

void netpoll_open(pool* p) {
  p->netfd = ::epoll_create1(EPOLL_CLOEXEC);
  p->breakfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (p->netfd < 0 || p->breakfd < 0) {
    const int err = errno;
    netpoll_close(p);
    throw std::system_error(err, std::generic_category(), "rt: cannot create the I/O poller");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;  // level triggered: stays ready until netpoll drains it
  ev.data.ptr = nullptr;
  ::epoll_ctl(p->netfd, EPOLL_CTL_ADD, p->breakfd, &ev);
}

void netpoll_close(pool* p) noexcept {
  if (p->netfd >= 0) ::close(p->netfd);
  if (p->breakfd >= 0) ::close(p->breakfd);
  p->netfd = p->breakfd = -1;
}

void netpoll_break(pool* p) noexcept {
  std::uint64_t one = 1;
  (void)!::write(p->breakfd, &one, sizeof one);
}

int epoll_wait_ns(int epfd, epoll_event* ev, int n, std::int64_t timeout_ns) noexcept {
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1'000'000'000;
    ts.tv_nsec = timeout_ns % 1'000'000'000;
    tsp = &ts;
  }
  int r = ::epoll_pwait2(epfd, ev, n, tsp, nullptr);
  if (r < 0 && errno == ENOSYS) {  // kernels before 5.11: millisecond timeouts
    const int ms = timeout_ns < 0 ? -1
                                  : static_cast<int>(std::min<std::int64_t>(
                                        INT32_MAX, (timeout_ns + 999'999) / 1'000'000));
    r = ::epoll_wait(epfd, ev, n, ms);
  }
  return r;
}

int netpoll(pool* p, std::int64_t timeout_ns) noexcept {
  epoll_event ev[128];
  const int n = epoll_wait_ns(p->netfd, ev, 128, timeout_ns);
  p->last_poll.store(now_ns(), std::memory_order_relaxed);
  int readied = 0;
  for (int i = 0; i < n; ++i) {
    auto* pd = static_cast<poll_desc*>(ev[i].data.ptr);
    if (pd == nullptr) {  // netpoll_break
      std::uint64_t drained;
      while (::read(p->breakfd, &drained, sizeof drained) > 0) {
      }
      continue;
    }
    const std::uint32_t e = ev[i].events;
    const bool r = (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    const bool w = (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
    const bool hup = (e & (EPOLLHUP | EPOLLERR)) != 0;
    poll_wait_node* lists[2] = {nullptr, nullptr};
    {
      spinlock_lock lk(pd->lock);
      if (hup || (e & EPOLLRDHUP) != 0) pd->final[0] = true;
      if (hup) pd->final[1] = true;
      for (int m = 0; m < 2; ++m) {
        if (!(m == 0 ? r : w)) continue;
        lists[m] = pd->waiting[m];
        pd->waiting[m] = nullptr;
        if (lists[m] == nullptr) pd->ready[m] = true;
      }
    }
    for (poll_wait_node* l : lists) {
      for (poll_wait_node* x = l; x != nullptr; x = x->next) ++readied;
      wake_all(l, poll_status::ready);
    }
  }
  return readied;
}

// ---- the interface to the runtime ------------------------------------------------------

poll_desc* poll_open(int fd) {
  tsan_quiet quiet;
  pool_ref p;
  if (p.get() == nullptr) throw std::logic_error("rt: network I/O needs a running runtime");
  poll_desc* pd = alloc_desc();
  {
    spinlock_lock lk(pd->lock);
    pd->waiting[0] = pd->waiting[1] = nullptr;
    pd->ready[0] = pd->ready[1] = false;
    pd->drained[0] = pd->drained[1] = false;
    pd->final[0] = pd->final[1] = false;
    pd->expired[0] = pd->expired[1] = false;
    pd->closing = false;
    pd->fd = fd;
    pd->gen = p->gen;
    for (int m = 0; m < 2; ++m) {
      pd->deadline[m].pd = pd;
      pd->deadline[m].mode = m;
      pd->deadline[m].fire = fire_deadline;
    }
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = pd;
  if (::epoll_ctl(p->netfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int err = errno;
    free_desc(pd);
    throw std::system_error(err, std::generic_category(), "rt: epoll_ctl (register socket)");
  }
  return pd;
}

void poll_close(poll_desc* pd) noexcept {
  tsan_quiet quiet;
  {
    pool_ref p;
    if (p.get() != nullptr && p->gen == pd->gen) {
      epoll_event ev{};
      ::epoll_ctl(p->netfd, EPOLL_CTL_DEL, pd->fd, &ev);
    }
  }
  spinlock_lock lk(pd->lock);
  disarm(pd, 0, lk);
  disarm(pd, 1, lk);
  pd->fd = -1;
  lk.unlock();
  free_desc(pd);
}

namespace {

// park_on parks the caller in mode m's list (lk holds pd->lock, released by the park)
// until an edge, the deadline or an eviction; returns which.
poll_status park_on(poll_desc* pd, int m, spinlock_lock& lk) noexcept {
  // Counted while parked, in the pool the descriptor belongs to: an idle worker then
  // blocks in the poller. (A plain thread must not hold a pool_ref across its park:
  // stop() waits for those.) A descriptor of a pool that stopped is dead.
  {
    pool_ref p;
    if (p.get() == nullptr || p->gen != pd->gen) return poll_status::closed;
    p->net_waiters.fetch_add(1, std::memory_order_seq_cst);
  }
  pd->drained[m] = false;  // whatever wakes us is news
  poll_wait_node node;
  node.who = waiter::self();
  node.next = pd->waiting[m];
  pd->waiting[m] = &node;
  park(lk, m == 0 ? "IO wait (read)" : "IO wait (write)");
  {
    pool_ref p;
    if (p.get() != nullptr && p->gen == pd->gen) {
      p->net_waiters.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  return node.status;
}

// check_err: closed or timeout when the descriptor is closing or mode m's deadline has
// passed, else ready (Go's netpollcheckerr). Under pd->lock.
poll_status check_err(const poll_desc* pd, int m) noexcept {
  if (pd->closing) return poll_status::closed;
  if (pd->expired[m]) return poll_status::timeout;
  return poll_status::ready;
}

}  // namespace

poll_status poll_begin(poll_desc* pd, poll_mode mode) noexcept {
  tsan_quiet quiet;
  const int m = mode_index(mode);
  spinlock_lock lk(pd->lock);
  if (const poll_status st = check_err(pd, m); st != poll_status::ready) return st;
  if (pd->drained[m] && !pd->ready[m] && !pd->final[m]) return park_on(pd, m, lk);
  pd->drained[m] = false;
  pd->ready[m] = false;  // from here on, an edge is news to this attempt
  return poll_status::ready;
}

void poll_short(poll_desc* pd, poll_mode mode) noexcept {
  tsan_quiet quiet;
  spinlock_lock lk(pd->lock);
  pd->drained[mode_index(mode)] = true;
}

poll_status poll_wait(poll_desc* pd, poll_mode mode) noexcept {
  tsan_quiet quiet;
  const int m = mode_index(mode);
  spinlock_lock lk(pd->lock);
  if (const poll_status st = check_err(pd, m); st != poll_status::ready) return st;
  if (pd->ready[m]) {  // an edge came since the caller's attempt began: try again
    pd->ready[m] = false;
    return poll_status::ready;
  }
  return park_on(pd, m, lk);
}

void poll_set_deadline(poll_desc* pd, poll_mode modes, clock::time_point deadline) {
  tsan_quiet quiet;
  const bool clear = deadline == clock::time_point{};
  const bool passed = !clear && deadline <= clock::now();
  for (int m = 0; m < 2; ++m) {
    if ((modes & (m == 0 ? poll_read : poll_write)) == 0) continue;
    spinlock_lock lk(pd->lock);
    disarm(pd, m, lk);
    pd->expired[m] = passed;
    poll_wait_node* list = nullptr;
    if (passed) {
      list = pd->waiting[m];
      pd->waiting[m] = nullptr;
    } else if (!clear && deadline != clock::time_point::max()) {
      pool_ref p;
      if (p.get() != nullptr && p->gen == pd->gen) {
        pd->deadline[m].when = deadline;
        pd->armed[m] = true;
        timer_start(&pd->deadline[m]);  // its firing takes pd->lock: it waits for us
      }
    }
    lk.unlock();
    wake_all(list, poll_status::timeout);
  }
}

void poll_evict(poll_desc* pd) noexcept {
  tsan_quiet quiet;
  poll_wait_node* lists[2];
  {
    spinlock_lock lk(pd->lock);
    pd->closing = true;
    lists[0] = pd->waiting[0];
    lists[1] = pd->waiting[1];
    pd->waiting[0] = pd->waiting[1] = nullptr;
  }
  wake_all(lists[0], poll_status::closed);
  wake_all(lists[1], poll_status::closed);
}

}  // namespace rt::sched
