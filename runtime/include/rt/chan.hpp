// rt/chan.hpp — rt::chan<T>, Go's channels: typed queues between goroutines that park
// the goroutine, never its worker thread.
//
// Example (samples/coordination/pipeline.cpp):
//   auto jobs = rt::make_chan<int>(16);              // buffered, capacity 16
//   rt::go([jobs] {
//     for (int i = 0; i < 100; ++i) jobs.send(i);    // parks while the buffer is full
//     jobs.close();
//   });
//   for (int j : jobs) consume(j);                   // until closed and drained
//
// Owns: the typed handle over a reference-counted channel (rt/detail/chan_core.hpp;
// the algorithm is in src/chan.cpp, modelled on Go's runtime/chan.go).
// Invariant: a handle either is nil (default-constructed) or holds one reference to a
// live channel; copies share the channel, the last one frees it.
//
// Blocking rules, as in Go. "Parks" means: inside a goroutine the goroutine parks and
// its worker runs others; on a plain thread the thread blocks. Every call is safe from
// any goroutine or thread, concurrently.
//   * unbuffered (capacity 0): send parks until a receiver takes the value (rendezvous);
//   * buffered: send parks only while the buffer is full, recv only while it is empty;
//   * nil channel: send and recv park forever, try_* fail, close throws;
//   * closed channel: recv drains the buffer, then returns std::nullopt at once;
//     send throws rt::channel_closed ("send on closed channel").
// Values from one sender arrive in the order sent; parked senders and receivers are
// served first come, first served.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rt/detail/chan_core.hpp"

namespace rt {

// channel_closed is thrown by send (and a select's send case) on a closed channel,
// "send on closed channel", and by closing a closed channel, "close of closed channel".
class channel_closed : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

template <class T>
class chan;

namespace detail {
struct chan_access {
  template <class T>
  static chan_core* core(const chan<T>& ch) noexcept {
    return ch.c_;
  }
};
}  // namespace detail

template <class T>
class chan {
 public:
  using value_type = T;

  class iterator;

  // A nil channel: send and recv park forever, a select case on it is never ready.
  chan() noexcept = default;
  chan(const chan& other) noexcept : c_(other.c_) { detail::chan_retain(c_); }
  chan(chan&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
  chan& operator=(chan other) noexcept {
    std::swap(c_, other.c_);
    return *this;
  }
  ~chan() { detail::chan_release(c_); }

  // send delivers v: parks until a receiver takes it (unbuffered) or a slot is free
  // (buffered). Throws rt::channel_closed if the channel is closed, or is closed while
  // the sender is parked. A nil channel parks forever.
  void send(T v) const { detail::chan_send(c_, std::addressof(v), true); }

  // recv parks until a value arrives and returns it; returns std::nullopt at once when
  // the channel is closed and drained. A nil channel parks forever.
  std::optional<T> recv() const {
    std::optional<T> out;
    detail::chan_recv(c_, &out, true);
    return out;
  }

  // try_send delivers v only if that needs no parking (a receiver is parked, or the
  // buffer has room); v is moved from only when it returns true. Never parks. Throws
  // rt::channel_closed on a closed channel; false on a nil one.
  bool try_send(T&& v) const { return detail::chan_send(c_, std::addressof(v), false); }
  bool try_send(const T& v) const requires std::is_copy_constructible_v<T> {
    T copy(v);
    return try_send(std::move(copy));
  }

  // try_recv returns a value if one is ready without parking; std::nullopt when none is
  // ready, the channel is closed and drained, or it is nil. Never parks.
  std::optional<T> try_recv() const {
    std::optional<T> out;
    detail::chan_recv(c_, &out, false);
    return out;
  }

  // close marks the channel closed: every parked receiver wakes with std::nullopt (once
  // the buffer is drained), every parked sender wakes with rt::channel_closed. Never
  // parks. Throws rt::channel_closed ("close of closed channel") when already closed,
  // std::logic_error ("close of nil channel") on a nil channel.
  void close() const { detail::chan_close(c_); }

  // size is the number of buffered values (a snapshot); capacity the buffer size.
  // Both are 0 for a nil channel.
  std::size_t size() const noexcept {
    return c_ != nullptr ? c_->count.load(std::memory_order_relaxed) : 0;
  }
  std::size_t capacity() const noexcept { return c_ != nullptr ? c_->cap : 0; }

  // True for a non-nil channel; == tells whether two handles share one channel.
  explicit operator bool() const noexcept { return c_ != nullptr; }
  friend bool operator==(const chan& a, const chan& b) noexcept { return a.c_ == b.c_; }

  // Range-for receives until the channel is closed and drained: `for (T v : ch)`.
  // Each step parks like recv(). *it yields the received value as an rvalue, so
  // move-only T works (`for (auto v : ch)`, `for (auto&& v : ch)`).
  iterator begin() const { return iterator(c_); }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  template <class U>
  friend chan<U> make_chan(std::size_t capacity);
  friend struct detail::chan_access;

  explicit chan(detail::chan_core* c) noexcept : c_(c) {}

  detail::chan_core* c_ = nullptr;
};

// The input iterator of range-for over a channel; each ++ receives (parks).
template <class T>
class chan<T>::iterator {
 public:
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using iterator_concept = std::input_iterator_tag;

  T&& operator*() const { return std::move(*cur_); }
  iterator& operator++() {
    receive();
    return *this;
  }
  void operator++(int) { receive(); }
  friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
    return !it.cur_.has_value();
  }

 private:
  friend class chan<T>;
  explicit iterator(detail::chan_core* c) : c_(c) { receive(); }
  void receive() {
    cur_.reset();
    detail::chan_recv(c_, &cur_, true);
  }

  detail::chan_core* c_;  // the range (the chan being iterated) keeps it alive
  mutable std::optional<T> cur_;
};

// make_chan returns a new channel with room for `capacity` buffered values; 0 makes an
// unbuffered (rendezvous) channel. Throws std::bad_alloc, or std::length_error when the
// buffer size overflows.
template <class T>
chan<T> make_chan(std::size_t capacity = 0) {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "rt::chan<T>: T must be a non-const object type");
  static_assert(std::is_move_constructible_v<T>, "rt::chan<T>: T must be move-constructible");
  return chan<T>(detail::chan_make(&detail::elem_ops_of<T>, capacity));
}

}  // namespace rt
