// net.cpp — rt::net (rt/net.hpp): sockets, addresses, name resolution, and the close
// protocol of a socket shared by the goroutines using it (Go's net and the fdMutex half
// of internal/poll). Waiting for readiness is the scheduler's poller (rt/scheduler/
// poller.hpp); everything here is system calls on non-blocking sockets around it.
//
// Close protocol (netfd::state, one atomic word): bit 0 `closed`, bit 1 `handle` (the
// conn or listener object still exists), the rest counts operations in flight. An
// operation counts itself in before it touches the descriptor and out when done; close()
// sets `closed` and evicts the descriptor from the poller (parked operations wake up
// with closed_error). Whoever takes the word to "closed, no operation in flight" closes
// the descriptor — close() itself when nothing is in flight, else the last operation out
// — so a descriptor is never closed (and its number reused) under a system call on it;
// whoever takes it to "closed, no handle, no operation" frees the record.
#include "rt/net.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

#include "rt/blocking.hpp"
#include "rt/runtime.hpp"
#include "rt/scheduler/poller.hpp"
#include "rt/select.hpp"
#include "rt/wait_group.hpp"

namespace rt::net {
namespace detail {

struct netfd {
  int fd = -1;
  int family = AF_UNSPEC;
  bool listening = false;
  sched::poll_desc* pd = nullptr;
  std::string unix_path;                // a unix listener's socket file, removed at close
  std::atomic<std::uint32_t> state{2};  // see the close protocol above

  static constexpr std::uint32_t closed = 1, handle = 2, op = 4;
};

}  // namespace detail

namespace {

using detail::netfd;

// ---- addresses ------------------------------------------------------------------------

struct sockaddr_any {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&ss); }
  sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&ss); }
  int family() const noexcept { return ss.ss_family; }
};

std::string format_addr(const sockaddr_any& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family() == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&a.ss);
    ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (a.family() == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.ss);
    const unsigned port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {  // Go prints these as IPv4
      ::inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, sizeof buf);
      return std::string(buf) + ":" + std::to_string(port);
    }
    ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    std::string s = "[";  // (not "[" + ...: GCC 12 warns falsely on that)
    s.append(buf).append("]:").append(std::to_string(port));
    return s;
  }
  if (a.family() == AF_UNIX) {
    auto* un = reinterpret_cast<const sockaddr_un*>(&a.ss);
    const std::size_t max =
        a.len > offsetof(sockaddr_un, sun_path) ? a.len - offsetof(sockaddr_un, sun_path) : 0;
    return std::string(un->sun_path, ::strnlen(un->sun_path, max));
  }
  return "";
}

enum class net_kind { tcp, tcp4, tcp6, unix_stream };

net_kind parse_network(std::string_view network, const char* op) {
  if (network == "tcp") return net_kind::tcp;
  if (network == "tcp4") return net_kind::tcp4;
  if (network == "tcp6") return net_kind::tcp6;
  if (network == "unix") return net_kind::unix_stream;
  throw std::invalid_argument(std::string(op) + " " + std::string(network) +
                              ": unknown network (want tcp, tcp4, tcp6 or unix)");
}

const char* network_name(int family) noexcept {
  return family == AF_UNIX ? "unix" : "tcp";
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// The resolver's errors (EAI_*), as a category of their own.
class gai_category_t final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int ev) const override { return ::gai_strerror(ev); }
};
const gai_category_t gai_category_v;

struct host_port {
  std::string host;
  std::string port;
};

host_port split_host_port(std::string_view addr, const std::string& where) {
  const std::size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) {
    throw std::system_error(EINVAL, std::generic_category(), where + ": missing port in address");
  }
  std::string_view host = addr.substr(0, colon);
  std::string_view port = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    throw std::system_error(EINVAL, std::generic_category(),
                            where + ": too many colons in address (IPv6 needs [brackets])");
  }
  if (port.empty()) {
    throw std::system_error(EINVAL, std::generic_category(), where + ": missing port number");
  }
  return {std::string(host), std::string(port)};
}

int family_of(net_kind k) noexcept {
  return k == net_kind::tcp4 ? AF_INET : k == net_kind::tcp6 ? AF_INET6 : AF_UNSPEC;
}

// numeric_port parses a decimal port; nullopt when it is a service name.
std::optional<std::uint16_t> numeric_port(const std::string& port, const std::string& where) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec == std::errc() && end == port.data() + port.size()) {
    if (v > 65535) {
      throw std::system_error(EINVAL, std::generic_category(), where + ": invalid port");
    }
    return static_cast<std::uint16_t>(v);
  }
  return std::nullopt;
}

// numeric_host parses a literal IP address of an allowed family; false otherwise.
bool numeric_host(const std::string& host, std::uint16_t port, int family, sockaddr_any& out) {
  if (family != AF_INET6) {
    sockaddr_in in{};
    if (::inet_pton(AF_INET, host.c_str(), &in.sin_addr) == 1) {
      in.sin_family = AF_INET;
      in.sin_port = htons(port);
      std::memcpy(&out.ss, &in, sizeof in);
      out.len = sizeof in;
      return true;
    }
  }
  if (family != AF_INET) {
    sockaddr_in6 in6{};
    if (::inet_pton(AF_INET6, host.c_str(), &in6.sin6_addr) == 1) {
      in6.sin6_family = AF_INET6;
      in6.sin6_port = htons(port);
      std::memcpy(&out.ss, &in6, sizeof in6);
      out.len = sizeof in6;
      return true;
    }
  }
  return false;
}

struct resolved {
  std::vector<sockaddr_any> addrs;
  int gai_error = 0;
  int sys_errno = 0;
};

resolved getaddrinfo_now(const std::string& host, const std::string& port, int family,
                         bool passive) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  resolved out;
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    out.gai_error = rc;
    out.sys_errno = rc == EAI_SYSTEM ? errno : 0;
    return out;
  }
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    sockaddr_any a;
    std::memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    out.addrs.push_back(a);
  }
  ::freeaddrinfo(res);
  return out;
}

// A give-up condition for the parking parts of dial: a deadline and a context.
struct stop_when {
  const context* ctx = nullptr;
  clock::time_point deadline = clock::time_point::max();
};

[[noreturn]] void throw_stopped(const stop_when& stop, const std::string& where) {
  if (stop.ctx != nullptr) {
    if (auto e = stop.ctx->err(); e && *e == context_error::canceled) {
      throw std::system_error(ECANCELED, std::generic_category(), where + ": " + to_string(*e));
    }
  }
  throw timeout_error(where + ": i/o timeout");
}

bool stopped(const stop_when& stop) {
  return (stop.ctx != nullptr && stop.ctx->err()) ||
         (stop.deadline != clock::time_point::max() && clock::now() >= stop.deadline);
}

// resolve turns host:port into addresses of `family` (AF_UNSPEC: both). Literal
// addresses need no lookup; names go to getaddrinfo on the blocking pool, in a goroutine
// of their own, so that a deadline or a cancelled context can stop waiting for it (the
// lookup then finishes unobserved).
std::vector<sockaddr_any> resolve(const host_port& hp, int family, bool passive,
                                  const stop_when& stop, const std::string& where) {
  sockaddr_any lit;
  const std::optional<std::uint16_t> port = numeric_port(hp.port, where);
  if (port) {
    if (hp.host.empty() && passive) {
      // Every address: the IPv6 wildcard also takes IPv4 unless tcp6 (IPV6_V6ONLY).
      if (family == AF_INET) {
        numeric_host("0.0.0.0", *port, AF_INET, lit);
      } else {
        numeric_host("::", *port, AF_INET6, lit);
      }
      return {lit};
    }
    if (!hp.host.empty() && numeric_host(hp.host, *port, family, lit)) return {lit};
    if (!hp.host.empty() && numeric_host(hp.host, *port, AF_UNSPEC, lit)) {
      throw std::system_error(EAFNOSUPPORT, std::generic_category(),
                              where + ": address of the wrong family for the network");
    }
  }
  const std::string host = hp.host.empty() ? "localhost" : hp.host;
  resolved r;
  if (stop.ctx == nullptr && stop.deadline == clock::time_point::max()) {
    r = rt::blocking(getaddrinfo_now, host, hp.port, family, passive);  // parks meanwhile
  } else {
    auto ch = make_chan<resolved>(1);
    go([ch, host, service = hp.port, family, passive] {
      ch.send(rt::blocking(getaddrinfo_now, host, service, family, passive));
    });
    {
      bool got = false;
      auto timeout = stop.deadline == clock::time_point::max()
                         ? chan<clock::time_point>()
                         : after(stop.deadline - clock::now());
      chan<std::monostate> done = stop.ctx != nullptr ? stop.ctx->done() : chan<std::monostate>();
      select(case_recv(ch,
                       [&](std::optional<resolved> v) {
                         r = std::move(*v);
                         got = true;
                       }),
             case_recv(timeout), case_recv(done));
      if (!got) throw_stopped(stop, where);
    }
  }
  if (r.gai_error != 0) {
    if (r.gai_error == EAI_SYSTEM) throw_errno(r.sys_errno, where + ": lookup " + host);
    throw std::system_error(r.gai_error, gai_category_v, where + ": lookup " + host);
  }
  if (r.addrs.empty()) {
    throw std::system_error(EAI_NONAME, gai_category_v, where + ": lookup " + host);
  }
  if (passive) {  // listen on the first address, IPv4 first (Go's rule)
    std::stable_partition(r.addrs.begin(), r.addrs.end(),
                          [](const sockaddr_any& a) { return a.family() == AF_INET; });
    r.addrs.resize(1);
  }
  return r.addrs;
}

sockaddr_any unix_addr(std::string_view path, const std::string& where) {
  sockaddr_any a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.ss);
  if (path.empty() || path.size() >= sizeof un->sun_path) {
    throw std::system_error(EINVAL, std::generic_category(),
                            where + ": unix socket path empty or too long");
  }
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return a;
}

// ---- the descriptor and its close protocol ----------------------------------------------

// new_netfd registers fd (non-blocking, close-on-exec) with the poller; on failure it
// closes fd and throws.
netfd* new_netfd(int fd, int family, bool listening) {
  try {
    auto* nfd = new netfd;
    nfd->fd = fd;
    nfd->family = family;
    nfd->listening = listening;
    try {
      nfd->pd = sched::poll_open(fd);
    } catch (...) {
      delete nfd;
      throw;
    }
    return nfd;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

void destroy_fd(netfd* nfd) noexcept {
  sched::poll_close(nfd->pd);
  ::close(nfd->fd);
  if (!nfd->unix_path.empty()) ::unlink(nfd->unix_path.c_str());
}

void op_done(netfd* nfd) noexcept {
  const std::uint32_t now = nfd->state.fetch_sub(netfd::op, std::memory_order_acq_rel) - netfd::op;
  if ((now & ~netfd::handle) == netfd::closed) destroy_fd(nfd);  // closed, none in flight
  if (now == netfd::closed) delete nfd;                          // and no handle either
}

std::string describe(const netfd* nfd, const char* op);

// An operation in flight on a descriptor (see the close protocol).
class op_guard {
 public:
  op_guard(netfd* nfd, const char* op) : nfd_(nfd) {
    if (nfd == nullptr) throw closed_error(std::string(op) + ": use of closed network connection");
    const std::uint32_t before = nfd->state.fetch_add(netfd::op, std::memory_order_acquire);
    if (before & netfd::closed) {
      // Closed already. With operations still in flight, count out like them (this may
      // be the last one out); with none, the descriptor is gone already: just undo.
      if (before >= netfd::op) {
        op_done(nfd);
      } else {
        nfd->state.fetch_sub(netfd::op, std::memory_order_relaxed);
      }
      throw closed_error(std::string(op) + " " + network_name(nfd->family) +
                         ": use of closed network connection");
    }
  }
  ~op_guard() { op_done(nfd_); }
  op_guard(const op_guard&) = delete;
  op_guard& operator=(const op_guard&) = delete;

 private:
  netfd* nfd_;
};

bool live(const netfd* nfd) noexcept {
  return nfd != nullptr && (nfd->state.load(std::memory_order_acquire) & netfd::closed) == 0;
}

void close_fd(netfd* nfd) noexcept {
  if (nfd == nullptr) return;
  const std::uint32_t before = nfd->state.fetch_or(netfd::closed, std::memory_order_acq_rel);
  if (before & netfd::closed) return;
  sched::poll_evict(nfd->pd);               // parked operations wake up and count themselves out
  if (before < netfd::op) destroy_fd(nfd);  // nothing in flight
}

// release_handle closes the descriptor and gives up the handle's claim on the record.
void release_handle(netfd* nfd) noexcept {
  if (nfd == nullptr) return;
  close_fd(nfd);
  if (nfd->state.fetch_and(~netfd::handle, std::memory_order_acq_rel) ==
      (netfd::closed | netfd::handle)) {
    delete nfd;
  }
}

sockaddr_any name_of(int fd, bool peer) {
  sockaddr_any a;
  a.len = sizeof a.ss;
  const int rc = peer ? ::getpeername(fd, a.get(), &a.len) : ::getsockname(fd, a.get(), &a.len);
  if (rc != 0) a.len = 0;
  return a;
}

// "read tcp 127.0.0.1:40302->127.0.0.1:7000" (Go's OpError prefix).
std::string describe(const netfd* nfd, const char* op) {
  std::string s = std::string(op) + " " + network_name(nfd->family) + " ";
  const std::string local = format_addr(name_of(nfd->fd, false));
  if (nfd->listening) return s + local;
  const std::string remote = format_addr(name_of(nfd->fd, true));
  return s + local + "->" + remote;
}

// give_up throws when the poller's answer means the operation must give up.
void give_up(const netfd* nfd, sched::poll_status st, const char* op) {
  switch (st) {
    case sched::poll_status::ready:
      return;
    case sched::poll_status::timeout:
      throw timeout_error(describe(nfd, op) + ": i/o timeout");
    case sched::poll_status::closed:
      throw closed_error(describe(nfd, op) + ": use of closed network connection");
  }
}

// begin starts an attempt (it parks when the last one ended short); wait parks until fd
// may be ready for `mode`. Both throw when the operation must give up.
void begin(netfd* nfd, sched::poll_mode mode, const char* op) {
  give_up(nfd, sched::poll_begin(nfd->pd, mode), op);
}

void wait(netfd* nfd, sched::poll_mode mode, const char* op) {
  give_up(nfd, sched::poll_wait(nfd->pd, mode), op);
}

// moved ends a successful attempt that moved `got` of `asked` bytes: a short one tells the
// poller that the socket is drained (begin then parks without trying). Returns got.
std::size_t moved(netfd* nfd, sched::poll_mode mode, ssize_t got, std::size_t asked) noexcept {
  const auto n = static_cast<std::size_t>(got);
  if (n > 0 && n < asked) sched::poll_short(nfd->pd, mode);
  return n;
}

// iovecs: the first 16 non-empty buffers of a readv_some/writev_some call (the rest wait for
// the next call, as a short transfer would), and how many bytes they hold.
struct iovecs {
  iovec iov[16];
  int n = 0;
  std::size_t total = 0;
  explicit iovecs(std::span<const conn::buffer> bufs) noexcept {
    for (const conn::buffer& b : bufs) {
      if (n == 16) break;
      if (b.size == 0) continue;
      iov[n++] = {b.data, b.size};
      total += b.size;
    }
  }
};

[[noreturn]] void throw_io(netfd* nfd, int err, const char* op) {
  throw_errno(err, describe(nfd, op));
}

int new_socket(int family, const std::string& where) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(errno, where + ": socket");
  return fd;
}

void set_nodelay(int fd, int family) noexcept {
  if (family == AF_UNIX) return;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// ctx_watch interrupts a parked connect when a context is cancelled: a goroutine waits
// for ctx.done() (or for the connect to finish) and then puts the descriptor's write
// deadline in the past, as Go's dialer does. The destructor waits for that goroutine.
class ctx_watch {
 public:
  ctx_watch(const context* ctx, sched::poll_desc* pd) {
    if (ctx == nullptr || !ctx->done()) return;
    finished_ = make_chan<std::monostate>();
    wg_.go([pd, done = ctx->done(), finished = finished_] {
      if (select(case_recv(done), case_recv(finished)) == 0) {
        sched::poll_set_deadline(pd, sched::poll_write, clock::time_point(clock::duration(1)));
      }
    });
  }
  ~ctx_watch() {
    if (!finished_) return;
    finished_.close();
    wg_.wait();
  }
  ctx_watch(const ctx_watch&) = delete;
  ctx_watch& operator=(const ctx_watch&) = delete;

 private:
  chan<std::monostate> finished_;
  wait_group wg_;
};

// connect_one connects a fresh socket to `a`, parking until it is done; throws on failure
// (throw_stopped when the deadline passed or the context was cancelled).
netfd* connect_one(const sockaddr_any& a, const stop_when& stop, const std::string& where) {
  netfd* nfd = new_netfd(new_socket(a.family(), where), a.family(), false);
  try {
    op_guard g(nfd, "dial");
    if (::connect(nfd->fd, a.get(), a.len) != 0) {
      if (errno != EINPROGRESS && errno != EINTR && errno != EAGAIN) {
        throw_errno(errno, where + ": connect");
      }
      if (stop.deadline != clock::time_point::max()) {
        sched::poll_set_deadline(nfd->pd, sched::poll_write, stop.deadline);
      }
      ctx_watch watch(stop.ctx, nfd->pd);
      for (;;) {
        const sched::poll_status st = sched::poll_wait(nfd->pd, sched::poll_write);
        if (st != sched::poll_status::ready) throw_stopped(stop, where);
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(nfd->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) {
          // Writable with no error: connected — unless this was an edge from before the
          // connect finished (a peer name tells).
          sockaddr_any peer;
          peer.len = sizeof peer.ss;
          if (::getpeername(nfd->fd, peer.get(), &peer.len) == 0) break;
          continue;
        }
        if (err == EINPROGRESS || err == EALREADY || err == EINTR) continue;
        throw_errno(err, where + ": connect");
      }
    }
    sched::poll_set_deadline(nfd->pd, sched::poll_write, clock::time_point{});
  } catch (...) {
    release_handle(nfd);
    throw;
  }
  set_nodelay(nfd->fd, a.family());
  return nfd;
}

}  // namespace

// ---- conn -----------------------------------------------------------------------------

conn::~conn() {
  release_handle(fd_);
}

conn& conn::operator=(conn&& o) noexcept {
  if (this != &o) {
    release_handle(fd_);
    fd_ = o.fd_;
    o.fd_ = nullptr;
  }
  return *this;
}

std::size_t conn::read(std::span<std::byte> buf) {
  op_guard g(fd_, "read");
  if (buf.empty()) return 0;
  for (;;) {
    begin(fd_, sched::poll_read, "read");
    const ssize_t n = ::read(fd_->fd, buf.data(), buf.size());
    if (n >= 0) return moved(fd_, sched::poll_read, n, buf.size());
    if (errno == EAGAIN) {
      wait(fd_, sched::poll_read, "read");
    } else if (errno != EINTR) {
      throw_io(fd_, errno, "read");
    }
  }
}

void conn::write(std::span<const std::byte> buf) {
  op_guard g(fd_, "write");
  while (!buf.empty()) {
    begin(fd_, sched::poll_write, "write");
    const ssize_t n = ::send(fd_->fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      buf = buf.subspan(moved(fd_, sched::poll_write, n, buf.size()));
    } else if (errno == EAGAIN) {
      wait(fd_, sched::poll_write, "write");
    } else if (errno != EINTR) {
      throw_io(fd_, errno, "write");
    }
  }
}

std::size_t conn::readv_some(std::span<const buffer> bufs) {
  op_guard g(fd_, "read");
  iovecs v(bufs);
  if (v.n == 0) return 0;
  for (;;) {
    begin(fd_, sched::poll_read, "read");
    const ssize_t r = v.n == 1 ? ::read(fd_->fd, v.iov[0].iov_base, v.iov[0].iov_len)
                               : ::readv(fd_->fd, v.iov, v.n);
    if (r >= 0) return moved(fd_, sched::poll_read, r, v.total);
    if (errno == EAGAIN) {
      wait(fd_, sched::poll_read, "read");
    } else if (errno != EINTR) {
      throw_io(fd_, errno, "read");
    }
  }
}

std::size_t conn::writev_some(std::span<const buffer> bufs) {
  op_guard g(fd_, "write");
  iovecs v(bufs);
  if (v.n == 0) return 0;
  msghdr msg{};
  msg.msg_iov = v.iov;
  msg.msg_iovlen = static_cast<std::size_t>(v.n);
  for (;;) {
    begin(fd_, sched::poll_write, "write");
    const ssize_t r = ::sendmsg(fd_->fd, &msg, MSG_NOSIGNAL);
    if (r > 0) return moved(fd_, sched::poll_write, r, v.total);
    if (r == 0 || errno == EAGAIN) {
      wait(fd_, sched::poll_write, "write");
    } else if (errno != EINTR) {
      throw_io(fd_, errno, "write");
    }
  }
}

void conn::close() noexcept {
  close_fd(fd_);
}

void conn::close_write() {
  op_guard g(fd_, "close_write");
  if (::shutdown(fd_->fd, SHUT_WR) != 0) throw_io(fd_, errno, "close_write");
}

void conn::set_deadline(clock::time_point tp) {
  op_guard g(fd_, "set_deadline");
  sched::poll_set_deadline(fd_->pd, sched::poll_both, tp);
}

void conn::set_read_deadline(clock::time_point tp) {
  op_guard g(fd_, "set_read_deadline");
  sched::poll_set_deadline(fd_->pd, sched::poll_read, tp);
}

void conn::set_write_deadline(clock::time_point tp) {
  op_guard g(fd_, "set_write_deadline");
  sched::poll_set_deadline(fd_->pd, sched::poll_write, tp);
}

std::string conn::local_addr() const {
  op_guard g(fd_, "local_addr");
  return format_addr(name_of(fd_->fd, false));
}

std::string conn::remote_addr() const {
  op_guard g(fd_, "remote_addr");
  return format_addr(name_of(fd_->fd, true));
}

bool conn::is_open() const noexcept {
  return live(fd_);
}

int conn::native_handle() const noexcept {
  return live(fd_) ? fd_->fd : -1;
}

// ---- listener -------------------------------------------------------------------------

listener::~listener() {
  release_handle(fd_);
}

listener& listener::operator=(listener&& o) noexcept {
  if (this != &o) {
    release_handle(fd_);
    fd_ = o.fd_;
    o.fd_ = nullptr;
  }
  return *this;
}

conn listener::accept() {
  op_guard g(fd_, "accept");
  for (;;) {
    begin(fd_, sched::poll_read, "accept");
    const int fd = ::accept4(fd_->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      set_nodelay(fd, fd_->family);
      return conn(new_netfd(fd, fd_->family, false));
    }
    if (errno == EAGAIN) {
      wait(fd_, sched::poll_read, "accept");
    } else if (errno != EINTR && errno != ECONNABORTED) {
      throw_io(fd_, errno, "accept");
    }
  }
}

std::string listener::addr() const {
  op_guard g(fd_, "addr");
  if (fd_->family == AF_UNIX) return fd_->unix_path;
  return format_addr(name_of(fd_->fd, false));
}

void listener::close() noexcept {
  close_fd(fd_);
}

void listener::set_deadline(clock::time_point tp) {
  op_guard g(fd_, "set_deadline");
  sched::poll_set_deadline(fd_->pd, sched::poll_read, tp);
}

bool listener::is_open() const noexcept {
  return live(fd_);
}

int listener::native_handle() const noexcept {
  return live(fd_) ? fd_->fd : -1;
}

// ---- listen and dial -------------------------------------------------------------------

listener listen(std::string_view network, std::string_view addr) {
  const net_kind kind = parse_network(network, "listen");
  const std::string where = "listen " + std::string(network) + " " + std::string(addr);
  rt::detail::ensure_runtime();
  sockaddr_any a;
  if (kind == net_kind::unix_stream) {
    a = unix_addr(addr, where);
  } else {
    a = resolve(split_host_port(addr, where), family_of(kind), true, {}, where).front();
  }
  const int fd = new_socket(a.family(), where);
  int one = 1;
  if (a.family() != AF_UNIX) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (a.family() == AF_INET6) {
    int v6only = kind == net_kind::tcp6 ? 1 : 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  if (::bind(fd, a.get(), a.len) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    const int err = errno;
    ::close(fd);
    throw_errno(err, where + ": bind");
  }
  netfd* nfd = new_netfd(fd, a.family(), true);
  if (kind == net_kind::unix_stream) nfd->unix_path = std::string(addr);
  return listener(nfd);
}

conn dial_until(const context* ctx, std::string_view network, std::string_view addr,
                clock::time_point deadline) {
  const net_kind kind = parse_network(network, "dial");
  const std::string where = "dial " + std::string(network) + " " + std::string(addr);
  rt::detail::ensure_runtime();
  stop_when stop{ctx, deadline};
  if (stopped(stop)) throw_stopped(stop, where);
  std::vector<sockaddr_any> addrs;
  if (kind == net_kind::unix_stream) {
    addrs.push_back(unix_addr(addr, where));
  } else {
    addrs = resolve(split_host_port(addr, where), family_of(kind), false, stop, where);
  }
  std::exception_ptr first;  // every address failed: the first one's error (Go's rule)
  for (const sockaddr_any& a : addrs) {
    if (stopped(stop)) throw_stopped(stop, where);
    try {
      return conn(connect_one(a, stop, where));
    } catch (const timeout_error&) {
      throw;
    } catch (const std::system_error& e) {
      if (e.code() == std::errc::operation_canceled) throw;
      if (!first) first = std::current_exception();
    }
  }
  std::rethrow_exception(first);
}

conn dial(std::string_view network, std::string_view addr) {
  return dial_until(nullptr, network, addr, clock::time_point::max());
}

conn dial(std::string_view network, std::string_view addr, clock::duration timeout) {
  return dial_until(nullptr, network, addr, rt::detail::deadline_after(timeout));
}

conn dial(const context& ctx, std::string_view network, std::string_view addr) {
  return dial_until(&ctx, network, addr, ctx.deadline().value_or(clock::time_point::max()));
}

}  // namespace rt::net
