// rt/scheduler/race.hpp — internal: what ThreadSanitizer (RT_SANITIZE=thread) is told
// beyond what it sees, for the layers built on the scheduler (Go's runtime has the same
// calls: raceacquire, racerelease, RaceDisable/RaceEnable).
//
// Owns: tsan_release / tsan_acquire, happens-before edges keyed by an address, and
// tsan_quiet, a region whose memory accesses ThreadSanitizer does not record.
// Invariant: every call is a no-op unless the translation unit is compiled with
// -fsanitize=thread or is part of a RT_SANITIZE=thread build of rt; none blocks, parks or throws.
//
// When to be quiet: ThreadSanitizer sees each goroutine as a thread of its own, so the
// goroutines that one worker thread runs one after another all touch that thread's
// thread_local data "concurrently" as far as it knows. Per-worker caches (a random
// generator, a buffer of kernel randomness) are race-free by construction when they are
// used between two parks, never across one: wrap each such use in a tsan_quiet.
#pragma once

// RT_TSAN: rt's own targets in a RT_SANITIZE=thread build, the uninstrumented scheduler
// included.
#if defined(__SANITIZE_THREAD__) || defined(RT_TSAN)
#define RT_RACE_DETECTOR 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RT_RACE_DETECTOR 1
#endif
#endif

#if defined(RT_RACE_DETECTOR)
extern "C" {
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
void __tsan_ignore_thread_begin();
void __tsan_ignore_thread_end();
}
#endif

namespace rt::sched {

#if defined(RT_RACE_DETECTOR)
inline constexpr bool tsan_enabled = true;
#else
inline constexpr bool tsan_enabled = false;
#endif

// A release on `key` happens before every later acquire on `key`.
inline void tsan_release([[maybe_unused]] const void* key) noexcept {
#if defined(RT_RACE_DETECTOR)
  __tsan_release(const_cast<void*>(key));
#endif
}
inline void tsan_acquire([[maybe_unused]] const void* key) noexcept {
#if defined(RT_RACE_DETECTOR)
  __tsan_acquire(const_cast<void*>(key));
#endif
}

// While one lives, ThreadSanitizer records no memory access of the current context (a
// goroutine's or a thread's), its interceptors' (malloc, pthread mutexes) included; the
// happens-before edges (tsan_release/acquire, atomics) still count. Nests.
inline void tsan_quiet_begin() noexcept {
#if defined(RT_RACE_DETECTOR)
  __tsan_ignore_thread_begin();
#endif
}
inline void tsan_quiet_end() noexcept {
#if defined(RT_RACE_DETECTOR)
  __tsan_ignore_thread_end();
#endif
}
struct tsan_quiet {
  tsan_quiet() noexcept { tsan_quiet_begin(); }
  ~tsan_quiet() { tsan_quiet_end(); }
  tsan_quiet(const tsan_quiet&) = delete;
  tsan_quiet& operator=(const tsan_quiet&) = delete;
};

// Inside one tsan_quiet (not nested), a call out to code that must be seen again: the
// runtime's callbacks from the scheduler's threads (and one that ends the process, which
// ThreadSanitizer refuses to do while quiet).
struct tsan_loud {
  tsan_loud() noexcept { tsan_quiet_end(); }
  ~tsan_loud() { tsan_quiet_begin(); }
  tsan_loud(const tsan_loud&) = delete;
  tsan_loud& operator=(const tsan_loud&) = delete;
};

}  // namespace rt::sched
