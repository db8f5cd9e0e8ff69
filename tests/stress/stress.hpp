// stress.hpp — shared by the stress suite (tests/stress/): the hang detector, iteration
// scaling under AddressSanitizer, exact-once accounting and a tiny per-goroutine RNG.
//
// Owns:
//   * watchdog: a plain thread that ends the process when a test has not finished
//     within a generous bound (the scheduler bugs hunted here show up as hangs: a
//     goroutine lost, a runnable one starved forever). It prints the test's name, the
//     stage it was in, and every tracked progress counter with how much it moved in the
//     last second (a counter that stopped tells what stalled), then _exit(124). Its
//     bounded wait is a hang detector, not a timing assertion: a correct scheduler
//     finishes each test in a small fraction of the bound.
//   * scaled(n): iteration counts shrink under ASan (the build defines RT_ASAN=1), so
//     every program stays a few seconds long in both builds.
//   * tally: how many times each of n items was taken, to report lost and duplicated
//     ones (a goroutine run twice, a value delivered twice, a wake-up lost).
//   * on_plain_threads(n, f): runs f(0..n-1) on n plain threads while the calling
//     goroutine parks (its worker stays free for the goroutines those threads wake).
//   * fail(): the whole-process programs' way to fail loudly (doctest programs CHECK).
//
// In doctest programs, never CAPTURE or INFO across a park: doctest keeps them in
// thread_local storage and the goroutine may resume on another thread (corrupting both
// threads' lists). Put the context in CHECK_MESSAGE instead (it parks nowhere).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <rt/rt.hpp>

namespace rt_stress {

#if defined(RT_ASAN) || defined(RT_TSAN)
inline constexpr bool asan = true;  // also under ThreadSanitizer
#else
inline constexpr bool asan = false;
#endif

// scaled returns n in an optimised build, n / asan_divisor (at least 1) under ASan.
constexpr long scaled(long n, long asan_divisor = 8) {
  if (!asan) return n;
  return n / asan_divisor > 0 ? n / asan_divisor : 1;
}

// fail prints "stress: FAILED: <message>" on stderr and exits 1 (whole-process programs).
[[noreturn]] inline void fail(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "stress: FAILED: %s\n", buf);
  std::fflush(nullptr);
  ::_exit(1);
}

// A xorshift generator, cheap enough to call in tight goroutine loops.
struct rng {
  std::uint64_t s;
  explicit rng(std::uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull) {}
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  // below returns a value in [0, n).
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
};

// Exactly-once accounting for n items (values, goroutines). mark() from any thread.
class tally {
 public:
  explicit tally(std::size_t n) : n_(n), seen_(new std::atomic<std::uint32_t>[n]) {
    for (std::size_t i = 0; i < n; ++i) seen_[i].store(0, std::memory_order_relaxed);
  }
  std::size_t size() const { return n_; }
  void mark(std::size_t i) {
    if (i >= n_) {
      out_of_range_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    seen_[i].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint32_t count(std::size_t i) const { return seen_[i].load(std::memory_order_relaxed); }
  // verdict is "" when every item was taken exactly once, else what went wrong.
  std::string verdict() const {
    std::size_t lost = 0, dup = 0, first_lost = 0, first_dup = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      std::uint32_t c = seen_[i].load(std::memory_order_relaxed);
      if (c == 0 && lost++ == 0) first_lost = i;
      if (c > 1 && dup++ == 0) first_dup = i;
    }
    const long bad = out_of_range_.load(std::memory_order_relaxed);
    if (lost == 0 && dup == 0 && bad == 0) return {};
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "of %zu items: %zu lost (first #%zu), %zu taken more than once (first #%zu),"
                  " %ld out of range",
                  n_, lost, first_lost, dup, first_dup, bad);
    return buf;
  }
  bool exact() const { return verdict().empty(); }

 private:
  std::size_t n_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> seen_;
  std::atomic<long> out_of_range_{0};
};

// on_plain_threads runs f(i) for i in [0, n) on n new plain threads and returns when all
// returned; a goroutine caller parks meanwhile (a plain-thread caller blocks).
template <class F>
void on_plain_threads(int n, F f) {
  rt::wait_group finished;
  finished.add(n);
  std::vector<std::thread> ts;
  ts.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ts.emplace_back([&finished, &f, i] {
      f(i);
      finished.done();
    });
  }
  finished.wait();
  for (auto& t : ts) t.join();  // each thread is past its last rt call: returns at once
}

// watchdog — see the top of the file. One per test case (or per program phase); tracks
// up to 16 counters that must outlive it.
class watchdog {
 public:
  static std::chrono::seconds default_bound() {
    if (const char* env = std::getenv("RT_STRESS_BOUND_S"); env != nullptr && *env != '\0') {
      return std::chrono::seconds(std::max(1, std::atoi(env)));
    }
    return std::chrono::seconds(asan ? 90 : 30);
  }

  explicit watchdog(std::string what, std::chrono::seconds bound = default_bound())
      : what_(std::move(what)), bound_(bound), thread_([this] { watch(); }) {}
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  ~watchdog() {
    {
      std::lock_guard lk(mu_);
      finished_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // stage names what the test does now (shown when it stalls).
  void stage(std::string s) {
    std::lock_guard lk(mu_);
    stage_ = std::move(s);
  }

  // track shows `c` as `name` in the stall report.
  void track(const char* name, const std::atomic<long>& c) {
    std::lock_guard lk(mu_);
    if (ntracked_ < 16) tracked_[ntracked_++] = {name, &c, c.load(std::memory_order_relaxed)};
  }

 private:
  struct tracked {
    const char* name = nullptr;
    const std::atomic<long>* c = nullptr;
    long second_ago = 0;
  };

  void watch() {
    const auto deadline = std::chrono::steady_clock::now() + bound_;
    std::unique_lock lk(mu_);
    for (;;) {
      // A bounded wait: samples the counters once a second; never a synchronisation.
      if (cv_.wait_for(lk, std::chrono::seconds(1), [&] { return finished_; })) return;
      if (std::chrono::steady_clock::now() >= deadline) break;
      for (int i = 0; i < ntracked_; ++i) {
        tracked_[i].second_ago = tracked_[i].c->load(std::memory_order_relaxed);
      }
    }
    std::fprintf(stderr,
                 "stress watchdog: '%s' did not finish within %lld s (GOMAXPROCS=%s) — hung?\n"
                 "  stage: %s\n",
                 what_.c_str(), static_cast<long long>(bound_.count()),
                 std::getenv("GOMAXPROCS") != nullptr ? std::getenv("GOMAXPROCS") : "unset",
                 stage_.empty() ? "(none)" : stage_.c_str());
    for (int i = 0; i < ntracked_; ++i) {
      long now = tracked_[i].c->load(std::memory_order_relaxed);
      std::fprintf(stderr, "  %s = %ld (%+ld in the last second%s)\n", tracked_[i].name, now,
                   now - tracked_[i].second_ago, now == tracked_[i].second_ago ? ": stalled" : "");
    }
    std::fprintf(stderr, "  goroutines alive: %d\n", rt::num_goroutine());
    std::fflush(nullptr);
    ::_exit(124);
  }

  std::string what_;
  std::chrono::seconds bound_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::string stage_;
  tracked tracked_[16];
  int ntracked_ = 0;
  std::thread thread_;  // last: starts after every other member is built
};

}  // namespace rt_stress
