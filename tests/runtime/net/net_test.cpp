// Tests for rt::net (rt/net.hpp) on loopback, at 1, 2 and 4 workers: many concurrent
// connections with every byte checked, deadlines on read, write, accept and dial, peer
// close, refused dials, bad addresses, half-close, a large write through a slow reader,
// IPv6 and unix sockets, closing a conn under parked goroutines, Boost.Asio's stream
// concepts; after each test, no descriptor and no goroutine is left behind.
#include <dirent.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <rt/net/asio.hpp>

#include <boost/beast/core/stream_traits.hpp>
#include <rt/rt.hpp>

namespace {

using namespace std::chrono_literals;

int open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n;
}

// no_leaks: constructed first in a test, checks at its end that the descriptors and
// goroutines it started with are all there is again.
struct no_leaks {
  int fds = open_fds();
  int goroutines = rt::num_goroutine();
  ~no_leaks() {
    CHECK(open_fds() == fds);
    CHECK(rt::num_goroutine() == goroutines);
  }
};

// The soft descriptor limit raised to the hard one; returns how many are allowed.
rlim_t raise_fd_limit() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

void read_full(rt::net::conn& c, std::span<char> buf) {
  while (!buf.empty()) {
    const std::size_t n = c.read(buf);
    REQUIRE(n > 0);
    buf = buf.subspan(n);
  }
}

std::string read_all(rt::net::conn& c) {
  std::string out;
  char buf[4096];
  while (std::size_t n = c.read(std::span(buf))) out.append(buf, n);
  return out;
}

// An echo server on an ephemeral port: serve() runs one goroutine per conn until the
// listener is closed; stop() closes it and waits for every goroutine.
struct echo_server {
  rt::net::listener ln;
  rt::wait_group wg;
  explicit echo_server(std::string_view network = "tcp", std::string_view addr = "127.0.0.1:0")
      : ln(rt::net::listen(network, addr)) {
    wg.go([this] {
      for (;;) {
        rt::net::conn c;
        try {
          c = ln.accept();
        } catch (const rt::net::closed_error&) {
          return;
        }
        wg.go(
            [](rt::net::conn c) {
              char buf[16384];
              try {
                while (std::size_t n = c.read(std::span(buf))) c.write(std::span(buf, n));
              } catch (const std::system_error&) {  // a reset by the test's peer
              }
            },
            std::move(c));
      }
    });
  }
  ~echo_server() {
    ln.close();
    wg.wait();
  }
};

// A listening socket that never accepts, with its accept queue full: a further connect
// to it gets no answer (its SYNs are dropped), so a dial to it parks until given up.
struct black_hole {
  int fd = -1;
  std::vector<rt::net::conn> fillers;
  std::string addr;
  black_hole() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 0) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    addr = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    // Backlog 0 holds one established connection; the next handshakes go nowhere.
    for (int i = 0; i < 2; ++i) {
      try {
        fillers.push_back(rt::net::dial("tcp", addr, 300ms));
      } catch (const rt::net::timeout_error&) {
        break;  // already full
      }
    }
  }
  ~black_hole() {
    fillers.clear();
    ::close(fd);
  }
};

}  // namespace

TEST_CASE("1000 concurrent connections x 100 round trips, every byte checked") {
  const rlim_t limit = raise_fd_limit();
  const int conns = limit >= 2300 ? 1000 : static_cast<int>((limit - 300) / 2);
  if (conns < 1000) MESSAGE("descriptor limit " << limit << ": " << conns << " connections");
  no_leaks leaks;
  {
    echo_server srv;
    const std::string addr = srv.ln.addr();
    std::atomic<int> ok{0};
    std::atomic<long> bytes{0};
    rt::wait_group wg;
    for (int i = 0; i < conns; ++i) {
      wg.go([&, i] {
        rt::net::conn c = rt::net::dial("tcp", addr);
        char out[64], in[64];
        for (int r = 0; r < 100; ++r) {
          const int len = 1 + (i * 7 + r * 13) % 64;
          for (int k = 0; k < len; ++k) out[k] = static_cast<char>((i * 31 + r * 17 + k) & 0xff);
          c.write(std::string_view(out, static_cast<std::size_t>(len)));
          read_full(c, std::span(in, static_cast<std::size_t>(len)));
          if (std::memcmp(in, out, static_cast<std::size_t>(len)) != 0) return;
          bytes += len;
        }
        ++ok;
      });
    }
    wg.wait();
    CHECK(ok == conns);
    long expect = 0;
    for (int i = 0; i < conns; ++i) {
      for (int r = 0; r < 100; ++r) expect += 1 + (i * 7 + r * 13) % 64;
    }
    CHECK(bytes == expect);
  }
}

TEST_CASE("addresses: listener and both ends of a conn, IPv4") {
  no_leaks leaks;
  echo_server srv;
  const std::string addr = srv.ln.addr();
  CHECK(addr.rfind("127.0.0.1:", 0) == 0);
  CHECK(addr != "127.0.0.1:0");
  rt::net::conn c = rt::net::dial("tcp", addr);
  CHECK(c.remote_addr() == addr);
  CHECK(c.local_addr().rfind("127.0.0.1:", 0) == 0);
  c.write("ping");
  char buf[4];
  read_full(c, std::span(buf));
  CHECK(std::string_view(buf, 4) == "ping");
}

TEST_CASE("dial resolves localhost without blocking a worker") {
  no_leaks leaks;
  echo_server srv("tcp4", "localhost:0");
  const std::string addr = srv.ln.addr();
  CHECK(addr.rfind("127.0.0.1:", 0) == 0);
  const std::string port = addr.substr(addr.rfind(':') + 1);
  rt::net::conn c = rt::net::dial("tcp4", "localhost:" + port);
  c.write("x");
  char b;
  CHECK(c.read(std::span(&b, 1)) == 1);
  CHECK(b == 'x');
}

TEST_CASE("read deadline: timeout_error, then the conn works once the deadline moves") {
  no_leaks leaks;
  echo_server srv;
  rt::net::conn c = rt::net::dial("tcp", srv.ln.addr());
  char buf[8];
  c.set_read_deadline(rt::clock::now() + 20ms);
  CHECK_THROWS_AS(c.read(std::span(buf)), rt::net::timeout_error);
  try {
    c.read(std::span(buf));
    FAIL("a passed deadline must keep failing");
  } catch (const rt::net::timeout_error& e) {
    CHECK(std::string(e.what()).find("read tcp 127.0.0.1:") == 0);
    CHECK(std::string(e.what()).find("i/o timeout") != std::string::npos);
  }
  c.set_read_deadline({});  // cleared
  c.write("back");
  read_full(c, std::span(buf, 4));
  CHECK(std::string_view(buf, 4) == "back");
  c.set_deadline(rt::clock::now() + 1h);  // far away: no effect
  c.write("more");
  read_full(c, std::span(buf, 4));
  CHECK(std::string_view(buf, 4) == "more");
}

TEST_CASE("a deadline set from another goroutine wakes a parked reader") {
  no_leaks leaks;
  echo_server srv;
  rt::net::conn c = rt::net::dial("tcp", srv.ln.addr());
  rt::wait_group wg;
  auto parked = rt::make_chan<int>();
  std::atomic<bool> timed_out{false};
  wg.go([&] {
    char buf[8];
    parked.send(1);
    try {
      c.read(std::span(buf));
    } catch (const rt::net::timeout_error&) {
      timed_out = true;
    }
  });
  parked.recv();
  c.set_read_deadline(rt::clock::now() - 1s);  // in the past: give up now
  wg.wait();
  CHECK(timed_out);
}

TEST_CASE("write deadline: a writer stuck on a full send buffer times out") {
  no_leaks leaks;
  rt::net::listener ln = rt::net::listen("tcp", "127.0.0.1:0");
  rt::net::conn c = rt::net::dial("tcp", ln.addr());
  rt::net::conn peer = ln.accept();  // never reads
  c.set_write_deadline(rt::clock::now() + 50ms);
  std::vector<char> chunk(1 << 20, 'w');
  CHECK_THROWS_AS(
      {
        for (int i = 0; i < 1024; ++i) c.write(std::span<const char>(chunk));
      },
      rt::net::timeout_error);
}

TEST_CASE("accept deadline, accept after close, close wakes a parked accept") {
  no_leaks leaks;
  rt::net::listener ln = rt::net::listen("tcp", "127.0.0.1:0");
  ln.set_deadline(rt::clock::now() + 20ms);
  CHECK_THROWS_AS(ln.accept(), rt::net::timeout_error);
  ln.set_deadline({});
  rt::wait_group wg;
  auto parked = rt::make_chan<int>();
  std::string error;
  wg.go([&] {
    parked.send(1);
    try {
      ln.accept();
    } catch (const rt::net::closed_error& e) {
      error = e.what();
    }
  });
  parked.recv();
  ln.close();
  wg.wait();
  CHECK(error.find("use of closed network connection") != std::string::npos);
  CHECK_THROWS_AS(ln.accept(), rt::net::closed_error);
  CHECK_THROWS_AS(ln.addr(), rt::net::closed_error);
  ln.close();  // idempotent
}

TEST_CASE("dial timeout and context: a connect that gets no answer gives up") {
  no_leaks leaks;
  black_hole hole;
  CHECK_THROWS_AS(rt::net::dial("tcp", hole.addr, 30ms), rt::net::timeout_error);
  {
    auto [ctx, cancel] = rt::with_timeout(rt::context::background(), 30ms);
    CHECK_THROWS_AS(rt::net::dial(ctx, "tcp", hole.addr), rt::net::timeout_error);
    cancel();
  }
  {
    auto [ctx, cancel] = rt::with_cancel(rt::context::background());
    rt::wait_group wg;
    std::string error;
    wg.go([&, ctx = ctx] {
      try {
        rt::net::dial(ctx, "tcp", hole.addr);
      } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::operation_canceled);
        error = e.what();
      }
    });
    rt::yield();
    cancel();
    wg.wait();
    CHECK(error.find("context canceled") != std::string::npos);
    CHECK(error.find(hole.addr) != std::string::npos);
  }
  {
    auto [ctx, cancel] = rt::with_cancel(rt::context::background());
    cancel();  // already cancelled: no attempt at all
    CHECK_THROWS_AS(rt::net::dial(ctx, "tcp", hole.addr), std::system_error);
  }
}

TEST_CASE("connection refused and bad addresses name the operation and the address") {
  no_leaks leaks;
  std::string addr;
  {
    rt::net::listener ln = rt::net::listen("tcp", "127.0.0.1:0");
    addr = ln.addr();
  }
  try {
    rt::net::dial("tcp", addr);
    FAIL("dial to a closed port must fail");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == ECONNREFUSED);
    const std::string what = e.what();
    CHECK(what.find("dial tcp " + addr + ": connect") == 0);
    CHECK(what.find("refused") != std::string::npos);
  }
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(message([] { rt::net::dial("tcp", "127.0.0.1"); }).find("missing port") !=
        std::string::npos);
  CHECK(message([] { rt::net::dial("tcp", "::1:80"); }).find("too many colons") !=
        std::string::npos);
  CHECK(message([] { rt::net::dial("tcp", "127.0.0.1:99999"); }).find("invalid port") !=
        std::string::npos);
  CHECK(message([] { rt::net::dial("udp", "127.0.0.1:1"); }).find("unknown network") !=
        std::string::npos);
  CHECK(message([] { rt::net::dial("tcp4", "[::1]:1"); }).find("wrong family") !=
        std::string::npos);
  CHECK(message([] {
          rt::net::dial("tcp", "no-such-host.invalid:80");
        }).find("dial tcp no-such-host.invalid:80: lookup no-such-host.invalid") == 0);
  CHECK_THROWS_AS(rt::net::dial("udp", "x:1"), std::invalid_argument);
  rt::net::listener ln = rt::net::listen("tcp", "127.0.0.1:0");
  try {
    rt::net::listen("tcp4", ln.addr());
    FAIL("the port is in use");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EADDRINUSE);
    CHECK(std::string(e.what()).find("listen tcp4 " + ln.addr()) == 0);
  }
}

TEST_CASE("peer close mid-read: the data, then end of stream; a reset is an error") {
  no_leaks leaks;
  rt::net::listener ln = rt::net::listen("tcp", "127.0.0.1:0");
  rt::wait_group wg;
  wg.go([&] {
    rt::net::conn c = rt::net::dial("tcp", ln.addr());
    c.write("partial");
  });  // closes c
  rt::net::conn s = ln.accept();
  CHECK(read_all(s) == "partial");
  CHECK(s.read(std::span<char>()) == 0);
  wg.wait();
  // A reset: the peer closes with unread data (SO_LINGER 0 sends RST).
  rt::net::conn c = rt::net::dial("tcp", ln.addr());
  rt::net::conn s2 = ln.accept();
  linger lg{1, 0};
  ::setsockopt(c.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  c.close();
  char buf[8];
  try {
    s2.read(std::span(buf));
    FAIL("a reset must be an error");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == ECONNRESET);
    CHECK(std::string(e.what()).find("read tcp") == 0);
  }
}

// A read that returns less than asked means the socket was drained, and the next read
// parks without trying (the poller's short-read rule): an end of stream or a reset that
// came with or after the data must still end that read.
TEST_CASE("after a short read, end of stream and resets are still seen") {
  no_leaks leaks;
  rt::net::listener ln = rt::net::listen("tcp", "127.0.0.1:0");
  char buf[4096];
  for (int i = 0; i < 200; ++i) {
    rt::net::conn c = rt::net::dial("tcp", ln.addr());
    rt::net::conn s = ln.accept();
    // The peer sends "a"; once the reader has read it (a short read), the rest of the
    // message (every other round) and the end of stream, in one burst.
    const std::string rest = i % 2 == 0 ? "message " + std::to_string(i) : "";
    auto go_on = rt::make_chan<int>();
    rt::wait_group wg;
    wg.go([&] {
      c.write("a");
      go_on.recv();
      if (!rest.empty()) c.write(rest);
      c.close();
    });
    REQUIRE(s.read(std::span(buf)) == 1);
    go_on.send(1);
    std::string got;
    while (std::size_t n = s.read(std::span(buf))) got.append(buf, n);
    CHECK(got == rest);
    wg.wait();
  }
  for (int i = 0; i < 100; ++i) {  // a short read, then a reset
    rt::net::conn c = rt::net::dial("tcp", ln.addr());
    rt::net::conn s = ln.accept();
    c.write("x");
    REQUIRE(s.read(std::span(buf)) == 1);
    linger lg{1, 0};
    ::setsockopt(c.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    c.close();
    CHECK_THROWS_AS(s.read(std::span(buf)), std::system_error);
  }
}

TEST_CASE("half-close: the peer sees end of stream and can still answer") {
  no_leaks leaks;
  rt::net::listener ln = rt::net::listen("tcp", "127.0.0.1:0");
  rt::wait_group wg;
  wg.go([&] {
    rt::net::conn s = ln.accept();
    std::string req = read_all(s);
    s.write("got " + std::to_string(req.size()));
  });
  rt::net::conn c = rt::net::dial("tcp", ln.addr());
  c.write("request body");
  c.close_write();
  CHECK(read_all(c) == "got 12");
  wg.wait();
}

TEST_CASE("a 64 MiB write through a slow reader arrives intact") {
  no_leaks leaks;
  constexpr std::size_t size = 64u << 20;
  rt::net::listener ln = rt::net::listen("tcp", "127.0.0.1:0");
  rt::wait_group wg;
  std::uint64_t sent_sum = 0;
  wg.go([&] {
    rt::net::conn c = rt::net::dial("tcp", ln.addr());
    std::vector<char> big(size);
    // 64 MiB of work: yield every MiB, or the monitor reports a stuck worker and its
    // symbolisation's transient descriptor on the executable upsets the fd counts
    for (std::size_t i = 0; i < size; ++i) {
      big[i] = static_cast<char>((i * 2654435761u) >> 13);
      sent_sum = sent_sum * 31 + static_cast<unsigned char>(big[i]);
      if (i % (1u << 20) == 0) rt::yield();
    }
    c.write(std::span<const char>(big));  // one call: parks many times
  });
  rt::net::conn s = ln.accept();
  std::uint64_t sum = 0;
  std::size_t got = 0;
  char buf[4096];
  while (std::size_t n = s.read(std::span(buf))) {
    for (std::size_t i = 0; i < n; ++i) sum = sum * 31 + static_cast<unsigned char>(buf[i]);
    got += n;
    rt::yield();  // slow: lets the writer fill the socket and park again
  }
  wg.wait();
  CHECK(got == size);
  CHECK(sum == sent_sum);
}

TEST_CASE("IPv6 loopback") {
  no_leaks leaks;
  rt::net::listener ln;
  try {
    ln = rt::net::listen("tcp6", "[::1]:0");
  } catch (const std::system_error& e) {
    MESSAGE("no IPv6 loopback here, skipped: " << e.what());
    return;
  }
  const std::string addr = ln.addr();
  CHECK(addr.rfind("[::1]:", 0) == 0);
  rt::wait_group wg;
  wg.go([&] {
    rt::net::conn s = ln.accept();
    CHECK(s.local_addr() == addr);
    s.write(read_all(s));
  });
  rt::net::conn c = rt::net::dial("tcp", addr);
  CHECK(c.remote_addr() == addr);
  c.write("six");
  c.close_write();
  CHECK(read_all(c) == "six");
  wg.wait();
}

TEST_CASE("unix sockets: round trip, and the socket file goes with the listener") {
  no_leaks leaks;
  const std::string path = "/tmp/rt-net-test-" + std::to_string(::getpid()) + "-" +
                           std::to_string(rt::goroutine_id()) + ".sock";
  {
    echo_server srv("unix", path);
    CHECK(srv.ln.addr() == path);
    CHECK(::access(path.c_str(), F_OK) == 0);
    rt::net::conn c = rt::net::dial("unix", path);
    CHECK(c.remote_addr() == path);
    c.write("over unix");
    char buf[9];
    read_full(c, std::span(buf));
    CHECK(std::string_view(buf, 9) == "over unix");
  }
  CHECK(::access(path.c_str(), F_OK) != 0);
  CHECK_THROWS_AS(rt::net::dial("unix", path), std::system_error);
}

TEST_CASE("close from another goroutine wakes a parked reader and a parked writer") {
  no_leaks leaks;
  for (int round = 0; round < 50; ++round) {
    rt::net::listener ln = rt::net::listen("tcp", "127.0.0.1:0");
    rt::net::conn c = rt::net::dial("tcp", ln.addr());
    rt::net::conn peer = ln.accept();  // never reads, never writes
    rt::wait_group wg;
    std::atomic<int> closed{0};
    auto started = rt::make_chan<int>(2);
    wg.go([&] {
      char buf[8];
      started.send(1);
      try {
        c.read(std::span(buf));
      } catch (const rt::net::closed_error& e) {
        if (std::string(e.what()).find("use of closed network connection") != std::string::npos) {
          ++closed;
        }
      }
    });
    wg.go([&] {
      std::vector<char> chunk(1 << 20, 'x');
      started.send(1);
      try {
        for (;;) c.write(std::span<const char>(chunk));
      } catch (const rt::net::closed_error&) {
        ++closed;
      }
    });
    started.recv();
    started.recv();
    rt::yield();
    c.close();
    wg.wait();
    CHECK(closed == 2);
    CHECK_THROWS_AS(c.write("late"), rt::net::closed_error);
    CHECK(c.native_handle() == -1);
  }
}

TEST_CASE("a plain thread's read blocks the thread and is woken by the poller") {
  no_leaks leaks;
  echo_server srv;
  const std::string addr = srv.ln.addr();
  std::string got;
  std::thread t([&] {
    rt::net::conn c = rt::net::dial("tcp", addr);
    c.write("thread");
    char buf[6];
    read_full(c, std::span(buf));
    got.assign(buf, 6);
  });
  rt::blocking([&] { t.join(); });
  CHECK(got == "thread");
}

TEST_CASE("conn models Boost.Asio's SyncReadStream and SyncWriteStream") {
  static_assert(boost::beast::is_sync_read_stream<rt::net::conn>::value);
  static_assert(boost::beast::is_sync_write_stream<rt::net::conn>::value);
  no_leaks leaks;
  echo_server srv;
  rt::net::conn c = rt::net::dial("tcp", srv.ln.addr());
  std::string a = "scatter-", b = "gather";
  std::array<boost::asio::const_buffer, 2> out{boost::asio::buffer(a), boost::asio::buffer(b)};
  const std::size_t sent = c.write_some(out);  // one sendmsg over both buffers
  REQUIRE(sent > 0);
  char in[14];
  boost::system::error_code ec;
  std::size_t got = 0;
  while (got < sent) got += c.read_some(boost::asio::buffer(in + got, sizeof in - got), ec);
  CHECK(!ec);
  CHECK(std::string_view(in, got) == std::string_view("scatter-gather").substr(0, got));
  c.close_write();
  while (!ec) c.read_some(boost::asio::buffer(in), ec);
  CHECK(ec == boost::asio::error::eof);
  c.close();
  c = rt::net::conn();
  c.read_some(boost::asio::buffer(in), ec);
  CHECK(ec == boost::asio::error::bad_descriptor);
  CHECK_THROWS_AS(c.write_some(boost::asio::buffer(in)), boost::system::system_error);
}
