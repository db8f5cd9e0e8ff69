// rt/rw_mutex.hpp — rt::rw_mutex, Go's sync.RWMutex: many readers or one writer;
// waiting parks the goroutine, never its worker thread.
//
// Example:
//   rt::rw_mutex mu;
//   std::unordered_map<int, std::string> cache;             // guarded by mu
//   std::string get(int k) { std::shared_lock lk(mu); return cache.at(k); }
//   void put(int k, std::string v) { std::lock_guard lk(mu); cache[k] = std::move(v); }
//
// Owns: the reader count and the writer's handshake with departing readers (src/sync.cpp).
// Invariant: either any number of readers hold it, or one writer does. Writer
// preference bounds everyone's wait: once a writer is waiting, new readers queue behind
// it; the writer gets in when the readers already inside leave, and on unlock it lets
// in exactly the readers that queued meanwhile before the next writer.
//
// Satisfies Lockable and SharedLockable (std::lock_guard, std::unique_lock,
// std::shared_lock). Usable from plain threads (they block instead of parking).
#pragma once

#include <atomic>
#include <cstdint>

#include "rt/detail/sema.hpp"
#include "rt/mutex.hpp"

namespace rt {

class rw_mutex {
 public:
  rw_mutex() = default;
  rw_mutex(const rw_mutex&) = delete;
  rw_mutex& operator=(const rw_mutex&) = delete;

  // lock acquires it exclusively: parks behind other writers, then until the readers
  // inside have left. Never throws.
  void lock() noexcept;
  // try_lock acquires it exclusively only if nobody holds or awaits it. Never parks.
  bool try_lock() noexcept;
  // unlock releases the exclusive hold and admits the readers that queued meanwhile.
  // Fatal error when not write-locked ("rt::rw_mutex: unlock of unlocked rw_mutex").
  void unlock() noexcept;

  // lock_shared acquires it for reading: parks only while a writer holds or awaits it.
  void lock_shared() noexcept;
  // try_lock_shared acquires it for reading only if no writer holds or awaits it.
  bool try_lock_shared() noexcept;
  // unlock_shared releases a read hold; the last reader out lets a waiting writer in.
  // Fatal error when not read-locked ("rt::rw_mutex: unlock_shared of unlocked rw_mutex").
  void unlock_shared() noexcept;

 private:
  static constexpr std::int32_t max_readers = 1 << 30;

  mutex writer_;                          // held by the writer, and by a writer waiting
  detail::sema writer_sem_;               // the writer waits here for readers to leave
  detail::sema reader_sem_;               // readers wait here for the writer to finish
  std::atomic<std::int32_t> readers_{0};  // readers in or waiting; - max_readers while a writer is
  std::atomic<std::int32_t> departing_{0};  // readers the waiting writer still waits for
};

}  // namespace rt
