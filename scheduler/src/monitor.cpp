// monitor.cpp — the scheduler's diagnostics: the registry of fibers, the monitor thread
// (Go's sysmon, for diagnosis only) and SIGQUIT.
//
// Owns: pool::all (every fiber the pool made and has not freed), the monitor thread,
// the coarse clock, the deadlock mode and the count of the runtime's known threads.
// Invariants: a fiber is unlinked from the registry, under all_lock, before its stack is
// given back, so whoever holds all_lock may read any fiber in the list. The monitor never
// changes what the scheduler does: it reads (ticks, queue states, fiber fields) and
// reports through the config's hooks.
//
// The monitor wakes every tick (stuck_ns / 4, at most 25 ms) while a worker is busy:
//   * Stuck workers: a worker whose schedtick has not moved for stuck_ns while a goroutine
//     runs on it is reported once (a goroutine that neither parks nor yields: a blocking
//     system call outside rt::blocking, a spin loop).
//   * The coarse clock: fibers stamp `since` with it at every state change for free.
// When every worker is idle it looks for a deadlock (see deadlock_mode in scheduler.hpp)
// and otherwise waits, without a timeout, for a worker to leave its idle park
// (monitor_notice_busy), so an idle program costs no wake-ups. A deadlock is confirmed
// by a second look confirm_ns later, with no worker having switched in between.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>

#include "internal.hpp"

namespace rt::sched {
namespace {

constexpr std::int64_t max_tick_ns = 25'000'000;
constexpr std::int64_t confirm_ns = 100'000'000;         // second look at a deadlock
constexpr std::int64_t thread_recheck_ns = 250'000'000;  // a plain thread may end

std::atomic<std::int64_t> coarse_clock{0};
std::atomic<int> known_threads{0};
// The monitor's futex word: bumped by every wake-up (workers, stop, SIGQUIT).
std::atomic<std::uint32_t> monitor_word{0};
std::atomic<bool> dump_requested{false};
std::atomic<bool> monitor_running{false};

long futex_wait(std::uint32_t seen, std::int64_t timeout_ns) noexcept {
  timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
              static_cast<long>(timeout_ns % 1'000'000'000)};
  return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&monitor_word), FUTEX_WAIT_PRIVATE,
                   seen, timeout_ns < 0 ? nullptr : &ts, nullptr, 0);
}

void wake_monitor() noexcept {  // async-signal-safe
  monitor_word.fetch_add(1, std::memory_order_seq_cst);
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&monitor_word), FUTEX_WAKE_PRIVATE, 1,
            nullptr, nullptr, 0);
}

// SIGQUIT: a dump on stderr while the program goes on (the JVM's choice; Go dumps and
// exits). Without a running pool, the default action.
void on_sigquit(int sig) {
  if (!monitor_running.load(std::memory_order_acquire)) {
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  dump_requested.store(true, std::memory_order_seq_cst);
  wake_monitor();
}

void install_sigquit_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = on_sigquit;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGQUIT, &sa, nullptr);
  });
}

// Threads in this process (/proc/self/stat's num_threads), or -1.
int process_threads() {
  std::ifstream f("/proc/self/stat");
  std::string s;
  std::getline(f, s);
  const auto paren = s.rfind(')');
  if (paren == std::string::npos) return -1;
  const char* c = s.c_str() + paren + 1;
  for (int field = 2; field < 19; ++field) {  // num_threads is field 20; state is field 3
    c = std::strchr(c + 1, ' ');
    if (c == nullptr) return -1;
  }
  return std::atoi(c + 1);
}

// Threads rt knows cannot wake a goroutine by themselves: its workers, this monitor, the
// known threads of the runtime (and ThreadSanitizer's background thread).
int threads_accounted(pool* p) noexcept {
  const int n =
      static_cast<int>(p->workers.size()) + 1 + known_threads.load(std::memory_order_acquire);
  return tsan_enabled ? n + 1 : n;
}

// A wait that ends without any goroutine's help (a timer, a socket, a blocking call).
bool waits_on_outside(const char* reason) noexcept {
  return std::strcmp(reason, "sleep") == 0 || std::strncmp(reason, "IO wait", 7) == 0 ||
         std::strcmp(reason, "blocking call") == 0;
}

enum class verdict {
  asleep,           // every goroutine parked for good, as far as rt can see
  unknown_threads,  // the same, but a thread rt does not know may still wake one
  will_wake,        // a timer, I/O or blocking call pending: a worker will wake
  in_flux,          // work on its way: look again next tick
};

verdict look_for_deadlock(pool* p) {
  const deadlock_mode mode = p->deadlocks.load(std::memory_order_relaxed);
  if (mode == deadlock_mode::off) return verdict::will_wake;
  if (p->ninject.load(std::memory_order_seq_cst) > 0) return verdict::in_flux;
  for (auto& w : p->workers) {
    if (w->next_when.load(std::memory_order_seq_cst) != INT64_MAX) return verdict::will_wake;
    if (!w->q.empty() || w->runnext.load(std::memory_order_seq_cst) != nullptr) {
      return verdict::in_flux;
    }
  }
  if (p->net_waiters.load(std::memory_order_seq_cst) > 0) return verdict::will_wake;
  int parked = 0;
  {
    spinlock_lock lk(p->all_lock);
    for (fiber* f = p->all; f != nullptr; f = f->all_next) {
      if (f->goid == 0) continue;
      if (f->state != fiber_state::parked) return verdict::in_flux;
      if (waits_on_outside(f->wait_reason)) return verdict::will_wake;
      ++parked;
    }
  }
  if (parked == 0) return verdict::in_flux;  // between goroutines: main ended, or not yet begun
  if (mode == deadlock_mode::automatic && process_threads() != threads_accounted(p)) {
    return verdict::unknown_threads;
  }
  return verdict::asleep;
}

std::uint64_t tick_sum(pool* p) noexcept {
  std::uint64_t s = 0;
  for (auto& w : p->workers) s += w->schedtick.load(std::memory_order_seq_cst);
  return s;
}

void monitor_main(pool* p) {
  tsan_quiet quiet;
  const std::size_t n = p->workers.size();
  const std::int64_t stuck = p->cfg.on_stuck != nullptr ? p->cfg.stuck_ns : 0;
  const std::int64_t tick =
      stuck > 0 ? std::clamp(stuck / 4, std::int64_t{1'000'000}, max_tick_ns) : max_tick_ns;
  struct watch {
    std::uint64_t tick = 0;
    std::int64_t since = 0;
    bool reported = false;
  };
  std::vector<watch> seen(n);
  bool suspect = false;
  std::uint64_t suspect_ticks = 0;
  for (;;) {
    const std::uint32_t word = monitor_word.load(std::memory_order_seq_cst);
    if (p->stopping.load(std::memory_order_seq_cst)) return;
    const std::int64_t now = now_ns();
    coarse_clock.store(now, std::memory_order_relaxed);
    if (dump_requested.exchange(false) && p->cfg.on_dump != nullptr) {
      tsan_loud loud;
      p->cfg.on_dump();
    }

    for (std::size_t i = 0; i < n; ++i) {
      worker* w = p->workers[i].get();
      const std::uint64_t t = w->schedtick.load(std::memory_order_relaxed);
      fiber* cur = std::atomic_ref<fiber*>(w->current).load(std::memory_order_relaxed);
      watch& v = seen[i];
      if (t != v.tick || cur == nullptr) {
        v = watch{t, now, false};
        p->running_since[i].store(cur != nullptr ? now : 0, std::memory_order_relaxed);
        continue;
      }
      if (v.reported || stuck == 0 || now - v.since < stuck) continue;
      goroutine_view g;
      {
        // Still the same run (the tick did not move): cur runs, and cannot be freed
        // while all_lock is held.
        spinlock_lock lk(p->all_lock);
        if (w->schedtick.load(std::memory_order_seq_cst) != t) continue;
        g = goroutine_view{cur->goid, cur->parent, cur->created_pc,    fiber_state::running,
                           "",        v.since,     static_cast<int>(i)};
      }
      v.reported = true;
      tsan_loud loud;
      p->cfg.on_stuck(g, now - v.since);
    }

    std::int64_t wait = tick;
    if (p->nidle.load(std::memory_order_seq_cst) == static_cast<int>(n)) {
      switch (look_for_deadlock(p)) {
        case verdict::asleep:
          if (suspect && tick_sum(p) == suspect_ticks && p->cfg.on_deadlock != nullptr) {
            tsan_loud loud;
            p->cfg.on_deadlock();  // does not return
          }
          suspect = true;
          suspect_ticks = tick_sum(p);
          wait = confirm_ns;
          break;
        case verdict::unknown_threads:
          suspect = false;
          wait = thread_recheck_ns;
          break;
        case verdict::will_wake:
          suspect = false;
          wait = -1;
          break;
        case verdict::in_flux:
          suspect = false;
          break;
      }
    } else {
      suspect = false;
    }
    if (wait >= 0) {
      futex_wait(word, wait);
      continue;
    }
    // Until a worker leaves its idle park (it sees monitor_asleep: both seq_cst).
    p->monitor_asleep.store(true, std::memory_order_seq_cst);
    if (p->nidle.load(std::memory_order_seq_cst) == static_cast<int>(n)) futex_wait(word, -1);
    p->monitor_asleep.store(false, std::memory_order_relaxed);
  }
}

}  // namespace

void registry_add(pool* p, fiber* f) noexcept {
  spinlock_lock lk(p->all_lock);
  f->all_prev = nullptr;
  f->all_next = p->all;
  if (p->all != nullptr) p->all->all_prev = f;
  p->all = f;
}

void registry_remove(pool* p, fiber* f) noexcept {
  spinlock_lock lk(p->all_lock);
  if (f->all_prev != nullptr) {
    f->all_prev->all_next = f->all_next;
  } else {
    p->all = f->all_next;
  }
  if (f->all_next != nullptr) f->all_next->all_prev = f->all_prev;
}

void monitor_start(pool* p) {
  p->running_since = std::make_unique<std::atomic<std::int64_t>[]>(p->workers.size());
  coarse_clock.store(now_ns(), std::memory_order_relaxed);
  install_sigquit_handler();
  p->monitor = std::thread(monitor_main, p);
  monitor_running.store(true, std::memory_order_release);
}

void monitor_stop(pool* p) noexcept {
  monitor_running.store(false, std::memory_order_release);
  wake_monitor();
  if (p->monitor.joinable()) p->monitor.join();
}

void monitor_notice_busy(pool* p) noexcept {
  if (!p->monitor_asleep.load(std::memory_order_seq_cst)) return;
  coarse_clock.store(now_ns(), std::memory_order_relaxed);  // it stood still meanwhile
  wake_monitor();
}

std::int64_t coarse_now() noexcept {
  return coarse_clock.load(std::memory_order_relaxed);
}

void set_deadlock_mode(deadlock_mode m) noexcept {
  pool_ref p;
  if (p.get() != nullptr) p->deadlocks.store(m, std::memory_order_relaxed);
}

void count_known_thread(int delta) noexcept {
  known_threads.fetch_add(delta, std::memory_order_acq_rel);
}

std::vector<goroutine_view> goroutines() {
  tsan_quiet quiet;
  std::vector<goroutine_view> out;
  pool_ref p;
  if (p.get() == nullptr) return out;
  const std::size_t n = p->workers.size();
  spinlock_lock lk(p->all_lock);
  std::size_t count = 0;
  for (fiber* f = p->all; f != nullptr; f = f->all_next) count += f->goid != 0 ? 1 : 0;
  lk.unlock();
  out.reserve(count + 16);  // no allocation under the spinlock unless many just started
  lk.lock();
  for (fiber* f = p->all; f != nullptr; f = f->all_next) {
    goroutine_view g{f->goid, f->parent, f->created_pc, f->state, f->wait_reason, f->since, -1};
    if (g.id == 0 || g.state == fiber_state::idle) continue;
    if (g.state != fiber_state::parked) g.wait_reason = "";
    if (g.state == fiber_state::running) {
      for (std::size_t i = 0; i < n; ++i) {
        if (std::atomic_ref<fiber*>(p->workers[i]->current).load(std::memory_order_relaxed) == f) {
          g.worker = static_cast<int>(i);
          const std::int64_t since = p->running_since[i].load(std::memory_order_relaxed);
          if (since != 0) g.since_ns = since;
        }
      }
    }
    out.push_back(g);
  }
  return out;
}

goroutine_view self_view() noexcept {
  fiber* f = current();
  if (f == nullptr) return {};
  return goroutine_view{f->goid, f->parent, f->created_pc, fiber_state::running,
                        "",      f->since,  worker_index()};
}

}  // namespace rt::sched
