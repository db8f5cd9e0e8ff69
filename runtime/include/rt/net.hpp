// rt/net.hpp — rt::net, Go's net package for goroutines: TCP (IPv4 and IPv6) and unix
// stream sockets whose reads, writes, accepts and connects park the calling goroutine
// on the scheduler's poller instead of blocking its worker thread.
//
// Example (samples/echo/echo.cpp):
//   rt::net::listener ln = rt::net::listen("tcp", "127.0.0.1:7000");
//   for (;;) {
//     rt::go([](rt::net::conn c) {
//       char buf[4096];
//       while (std::size_t n = c.read(std::span(buf))) c.write(std::span(buf, n));
//     }, ln.accept());
//   }
//
// Owns: listener and conn, the handles of non-blocking sockets registered once with the
// poller (edge triggered), and their deadlines.
// Invariants: a socket is closed exactly once, when its handle was closed (or destroyed)
// and no read, write or accept on it is still inside a system call, so a descriptor is
// never reused under an operation in flight; close() wakes every goroutine parked on the
// socket. One reader and one writer may use a conn at the same time (from two
// goroutines); two concurrent readers (or writers) get their bytes in no defined order.
//
// Errors (the messages follow Go's: operation, network, addresses, then the cause):
//   * a deadline that passed: rt::net::timeout_error ("read tcp 127.0.0.1:40302->
//     127.0.0.1:7000: i/o timeout"); the conn stays usable, and a later deadline (or none)
//     lets the next call go ahead;
//   * a handle used after close(), also by another goroutine while this one was parked:
//     rt::net::closed_error ("read tcp ...: use of closed network connection");
//   * everything else the system reports — a reset, a refused dial, a bad address, an
//     unknown host — std::system_error whose code is the errno (or the resolver's error)
//     and whose what() names the operation, the address and the cause ("dial tcp
//     127.0.0.1:1: connect: Connection refused").
// Calls made from a plain thread (outside any goroutine) block that thread instead of
// parking; the runtime must be running (rt::run), or a default one is started.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "rt/context.hpp"
#include "rt/time.hpp"

namespace rt::net {

// A deadline passed (Go's os.ErrDeadlineExceeded, "i/o timeout").
class timeout_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The handle was closed (Go's net.ErrClosed, "use of closed network connection").
class closed_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
struct netfd;  // the socket, its poller registration and its close protocol (net.cpp)
}

// conn is a connected stream socket (TCP or unix). Move-only; destroying an open conn
// closes it. TCP conns have TCP_NODELAY set, as in Go.
class conn {
 public:
  conn() noexcept = default;  // not connected: every call throws closed_error
  conn(conn&& o) noexcept : fd_(o.fd_) { o.fd_ = nullptr; }
  conn& operator=(conn&& o) noexcept;
  conn(const conn&) = delete;
  conn& operator=(const conn&) = delete;
  ~conn();  // closes the socket if open

  // is_open: connected and not closed (nor default-constructed or moved from).
  bool is_open() const noexcept;

  // read reads what has arrived, at least one byte (parks until then), at most
  // buf.size(); returns 0 at end of stream (the peer closed or half-closed), or for an
  // empty buf. Throws timeout_error, closed_error, std::system_error (e.g. a reset).
  std::size_t read(std::span<std::byte> buf);
  std::size_t read(std::span<char> buf) { return read(std::as_writable_bytes(buf)); }

  // write writes all of buf, parking whenever the socket's send buffer is full. Throws
  // timeout_error (some bytes may have been written), closed_error, std::system_error
  // (e.g. "broken pipe" once the peer is gone; never SIGPIPE).
  void write(std::span<const std::byte> buf);
  void write(std::span<const char> buf) { write(std::as_bytes(buf)); }
  void write(std::string_view s) { write(std::span<const char>(s.data(), s.size())); }
  void write(const std::string& s) { write(std::string_view(s)); }
  void write(const char* s) { write(std::string_view(s)); }

  // readv_some / writev_some are read and a single partial write over several buffers
  // (one readv / writev per attempt; what Boost.Asio's read_some and write_some use).
  // writev_some returns how many bytes it wrote, at least one unless all are empty.
  struct buffer {
    void* data;
    std::size_t size;
  };
  std::size_t readv_some(std::span<const buffer> bufs);
  std::size_t writev_some(std::span<const buffer> bufs);

  // close closes the socket, waking goroutines parked on it with closed_error; the
  // descriptor goes once no call on it is inside a system call. Idempotent; never
  // parks, never throws.
  void close() noexcept;

  // close_write shuts down the sending side (the peer reads end of stream); reading
  // goes on. Throws closed_error, std::system_error.
  void close_write();

  // Deadlines (Go's SetDeadline): a call parked or made after tp throws timeout_error.
  // A default-constructed time point clears the deadline; one in the past makes parked
  // calls give up at once. Safe to call from another goroutine while a call is parked.
  // Never park; throw closed_error.
  void set_deadline(clock::time_point tp);
  void set_read_deadline(clock::time_point tp);
  void set_write_deadline(clock::time_point tp);

  // "127.0.0.1:7000", "[::1]:7000", or a unix socket's path ("" when unnamed). Throw
  // closed_error.
  std::string local_addr() const;
  std::string remote_addr() const;

  // The socket descriptor (for setsockopt and the like); -1 when not open. Do not close
  // it or make it blocking.
  int native_handle() const noexcept;

  // Boost.Asio's SyncReadStream and SyncWriteStream (so that boost::beast::http::read
  // and write work on a conn and park the goroutine). The definitions are in
  // <rt/net/asio.hpp>, which a program using them includes (it brings Boost.Asio's
  // buffer and error headers, kept out of this one). read_some at end of stream fails
  // with boost::asio::error::eof; the throwing forms throw boost::system::system_error.
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& bufs) {
    return asio_read_some(*this, bufs);
  }
  template <class MutableBufferSequence, class ErrorCode>
  std::size_t read_some(const MutableBufferSequence& bufs, ErrorCode& ec) {
    return asio_read_some(*this, bufs, ec);
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& bufs) {
    return asio_write_some(*this, bufs);
  }
  template <class ConstBufferSequence, class ErrorCode>
  std::size_t write_some(const ConstBufferSequence& bufs, ErrorCode& ec) {
    return asio_write_some(*this, bufs, ec);
  }

 private:
  friend class listener;
  friend conn dial_until(const context* ctx, std::string_view network, std::string_view addr,
                         clock::time_point deadline);
  explicit conn(detail::netfd* fd) noexcept : fd_(fd) {}
  detail::netfd* fd_ = nullptr;
};

// listener is a listening socket. Move-only; destroying an open listener closes it.
class listener {
 public:
  listener() noexcept = default;
  listener(listener&& o) noexcept : fd_(o.fd_) { o.fd_ = nullptr; }
  listener& operator=(listener&& o) noexcept;
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  ~listener();  // closes the socket if open

  bool is_open() const noexcept;  // listening and not closed

  // accept parks until a connection arrives and returns it. Throws closed_error once
  // the listener is closed (also when close() is called while accept is parked),
  // timeout_error past the deadline, std::system_error (e.g. "too many open files").
  conn accept();

  // addr is the bound address, "127.0.0.1:7000" / "[::]:7000" (with the port the
  // system picked for port 0), or the unix socket's path. Throws closed_error.
  std::string addr() const;

  // close stops listening and wakes a parked accept with closed_error; a unix socket's
  // file is removed. Idempotent; never parks, never throws.
  void close() noexcept;

  // set_deadline: an accept parked or made after tp throws timeout_error; a default
  // time point clears it. Throws closed_error.
  void set_deadline(clock::time_point tp);

  int native_handle() const noexcept;

 private:
  friend listener listen(std::string_view network, std::string_view addr);
  explicit listener(detail::netfd* fd) noexcept : fd_(fd) {}
  detail::netfd* fd_ = nullptr;
};

// listen opens a listening socket (SO_REUSEADDR, backlog SOMAXCONN). network: "tcp"
// (an empty host listens on every IPv6 and IPv4 address), "tcp4", "tcp6" or "unix" (addr
// is the socket path; a stale socket file is not removed). addr: "host:port",
// "[v6addr]:port", ":port"; port 0 picks a free one (see listener::addr). Host names are
// resolved without blocking the worker. Never parks for long (resolution parks).
// Throws std::system_error (bad address, address in use, ...), std::invalid_argument
// (unknown network).
listener listen(std::string_view network, std::string_view addr);

// dial connects to addr ("host:port", "[v6addr]:port", or a unix socket path), trying
// each resolved address in turn, and parks until connected. network: "tcp", "tcp4",
// "tcp6", "unix". With a timeout (or a context), the whole dial — resolution included —
// gives up with timeout_error once it passes; a cancelled context gives up with a
// std::system_error (ECANCELED) that names the context's error. Throws std::system_error
// (refused, unreachable, unknown host, bad address), std::invalid_argument (network).
conn dial(std::string_view network, std::string_view addr);
conn dial(std::string_view network, std::string_view addr, clock::duration timeout);
conn dial(const context& ctx, std::string_view network, std::string_view addr);

// dial_until is the dial above with a deadline (clock::time_point::max(): none) and, if
// ctx is not null, a context whose cancellation also stops it.
conn dial_until(const context* ctx, std::string_view network, std::string_view addr,
                clock::time_point deadline);

}  // namespace rt::net
