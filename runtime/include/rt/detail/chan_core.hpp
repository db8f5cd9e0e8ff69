// rt/detail/chan_core.hpp — internal: the type-erased channel that rt::chan<T> and
// rt::select are thin typed layers over (the algorithm lives in src/chan.cpp).
//
// Owns: a channel's state (lock, ring buffer, closed flag, queues of parked senders and
// receivers) and the waiter records ("sudogs", after Go's runtime/chan.go) that blocked
// chan operations and selects put in those queues.
// Invariants (all under chan_core::lock):
//   * a value is in exactly one place: the sender's variable, a buffer slot, or the
//     receiver's std::optional — it is moved, never copied, between them;
//   * when recvq holds a waiter that can still be woken, the buffer is empty; when sendq
//     does, the buffer is full (a select may sit in both queues of one channel);
//   * a closed channel's queues only shrink, to empty once close returns (close wakes
//     them a batch at a time, and no operation takes or adds a waiter meanwhile; later
//     operations never park on it);
//   * a waiter is woken (unparked) exactly once, by whoever removes it from a queue and,
//     for a select, wins the claim on select_waiter::fired.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "rt/scheduler/park.hpp"

namespace rt::detail {

// How the untyped core moves values of one element type. The channel moves values
// with a lock held, so a throwing move constructor terminates the program.
struct elem_ops {
  std::size_t size;
  std::size_t align;
  void (*move_to_raw)(void* dst, void* src) noexcept;  // constructs a T at dst from *src
  void (*move_to_opt)(void* dst, void* src) noexcept;  // std::optional<T> at dst emplaces *src
  void (*destroy)(void* p) noexcept;                   // ~T() at p
};

template <class T>
inline constexpr elem_ops elem_ops_of{
    sizeof(T),
    alignof(T),
    [](void* dst, void* src) noexcept { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [](void* dst, void* src) noexcept {
      static_cast<std::optional<T>*>(dst)->emplace(std::move(*static_cast<T*>(src)));
    },
    [](void* p) noexcept { static_cast<T*>(p)->~T(); },
};

struct chan_waiter;

// The part of a parked select shared by its waiters (one per case).
struct select_waiter {
  // The waiter whose case fired; the waker that CASes it from nullptr owns the wake-up.
  std::atomic<chan_waiter*> fired{nullptr};
  // Held by the selecting goroutine from before it releases the channel locks until it
  // is fully parked: a waker locks and unlocks it before unpark (the handshake).
  sched::spinlock lock;
};

// A goroutine (or plain thread) parked on one channel: Go's sudog. Lives on the parked
// goroutine's stack; every field but `who` is guarded by the lock of the channel whose
// queue holds it.
struct chan_waiter {
  sched::waiter who;
  void* elem = nullptr;          // sender: the T to send; receiver: the std::optional<T> to fill
  select_waiter* sel = nullptr;  // the select this case belongs to, or nullptr
  chan_waiter* prev = nullptr;   // links in chan_core::recvq or sendq
  chan_waiter* next = nullptr;
  bool success = false;  // set by the waker: the value moved (false: woken by close)
};

struct waitq {
  chan_waiter* first = nullptr;
  chan_waiter* last = nullptr;
};

// One channel. Allocated by chan_make with its ring buffer right behind it; freed by
// chan_release when the last rt::chan<T> handle goes.
struct chan_core {
  std::atomic<std::size_t> refs{1};  // handles (and select cases holding rvalue handles)
  const elem_ops* ops = nullptr;     // immutable
  std::size_t cap = 0;               // immutable
  unsigned char* buf = nullptr;      // immutable: cap slots of ops->size bytes
  sched::spinlock lock;
  std::atomic<std::size_t> count{0};  // buffered values; guarded by lock (read racily by size())
  std::size_t head = 0;               // slot of the oldest buffered value; guarded by lock
  bool closed = false;                // guarded by lock
  waitq recvq;                        // parked receivers; guarded by lock
  waitq sendq;                        // parked senders; guarded by lock
};

// One case of a select as the core sees it. A nil channel (c == nullptr) is never
// ready; case_default is passed as such a case.
struct select_case {
  chan_core* c = nullptr;
  void* elem = nullptr;  // send: the T to send; receive: the std::optional<T> to fill
  bool send = false;
};

// chan_make allocates a channel of `cap` slots. Throws std::bad_alloc, or
// std::length_error when cap * elem size overflows.
chan_core* chan_make(const elem_ops* ops, std::size_t cap);

// chan_destroy destroys the buffered values and frees c (its last handle went).
void chan_destroy(chan_core* c) noexcept;

inline void chan_retain(chan_core* c) noexcept {
  if (c != nullptr) c->refs.fetch_add(1, std::memory_order_relaxed);
}
inline void chan_release(chan_core* c) noexcept {
  // acq_rel: the last release sees every other handle's writes before freeing.
  if (c != nullptr && c->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) chan_destroy(c);
}

// chan_send moves *elem into c. block: parks until delivered (nil c: forever); else
// returns false when that would park. Throws rt::channel_closed when c is closed or is
// closed while the sender is parked (*elem is then not moved from).
bool chan_send(chan_core* c, void* elem, bool block);

// chan_recv emplaces the next value into *opt (a std::optional<T>). block: parks until
// a value or close arrives (nil c: forever). Returns true when a value was received or
// c is closed and drained (then *opt stays empty); false only when !block and it would
// park.
bool chan_recv(chan_core* c, void* opt, bool block);

// chan_close closes c and wakes every parked receiver and sender. Throws
// rt::channel_closed ("close of closed channel") or std::logic_error ("close of nil
// channel").
void chan_close(chan_core* c);

// select_run runs the select over cases[0, n): returns the index of the case that ran,
// or n when none was ready and !block. waiters: n records (used only when it parks);
// order: 2n scratch indices. Throws rt::channel_closed when the chosen case is a send on
// a closed channel.
std::size_t select_run(select_case* cases, chan_waiter* waiters, std::uint16_t* order,
                       std::size_t n, bool block);

// block_forever parks the caller for good (a nil channel, an empty select).
[[noreturn]] void block_forever(const char* reason);

}  // namespace rt::detail
