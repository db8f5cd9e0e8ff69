// echo.cpp — rt_echo, a TCP echo server on rt::net: one goroutine per connection reads
// what has arrived and writes it back, parking on the poller instead of holding a thread.
//
//   rt_echo [ADDR]     ADDR defaults to 127.0.0.1:8080; 127.0.0.1:0 picks a free port
//
// Prints exactly one line, "listening on HOST:PORT", to stdout once it accepts
// connections. SIGINT or SIGTERM stops it: the listener and every connection are closed,
// every goroutine ends, and it exits 0. A bad address exits 1 with the reason on stderr.
//
// Owns: the listener (main goroutine, through samples::serve), one conn per connection
// goroutine, and the shutdown: once the signal closed the listener, main closes every
// open conn (open_conns) and waits for their goroutines.
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <system_error>
#include <unordered_set>

#include <rt/rt.hpp>

#include "server.hpp"

namespace {

constexpr std::size_t buffer_size = 16 * 1024;

// The open connections, so that shutdown can close them. Each connection's goroutine
// adds its conn first and removes it before it ends; close_all closes every conn still
// in (which wakes its goroutine's parked read with closed_error) and turns later
// additions away.
class open_conns {
 public:
  bool add(rt::net::conn* c) {
    std::lock_guard lk(mu_);
    if (closed_) return false;
    conns_.insert(c);
    return true;
  }
  void remove(rt::net::conn* c) {
    std::lock_guard lk(mu_);
    conns_.erase(c);
  }
  void close_all() {
    std::lock_guard lk(mu_);
    closed_ = true;
    for (rt::net::conn* c : conns_) c->close();
  }

 private:
  rt::mutex mu_;
  bool closed_ = false;
  std::unordered_set<rt::net::conn*> conns_;
};

// echo_conn echoes c until the peer closes it, an error happens, or shutdown closes it.
// The buffer is on the heap, as Go's make([]byte) in its twin: an idle connection keeps
// the pages it touched, not 16 KiB of stack.
void echo_conn(open_conns& open, rt::net::conn c) {
  if (!open.add(&c)) return;
  try {
    const auto buf = std::make_unique_for_overwrite<char[]>(buffer_size);
    const std::span<char> all(buf.get(), buffer_size);
    while (const std::size_t n = c.read(all)) c.write(all.first(n));
  } catch (const rt::net::closed_error&) {
    // Closed by close_all: the server is shutting down.
  } catch (const std::system_error& e) {
    if (!samples::peer_gone(e)) std::fprintf(stderr, "rt_echo: %s\n", e.what());
  }
  open.remove(&c);
}

}  // namespace

int main(int argc, char** argv) {
  int status = 0;
  const auto addr = samples::listen_address(argc, argv, "rt_echo", "127.0.0.1:8080", &status);
  if (!addr) return status;
  const sigset_t signals = samples::shutdown_signals();
  return rt::run([&] {
    open_conns open;
    rt::wait_group conns;
    const int result = samples::serve(
        "rt_echo", *addr, signals,
        [&](rt::net::conn c, std::uint64_t) { conns.go(echo_conn, std::ref(open), std::move(c)); });
    open.close_all();
    conns.wait();
    return result;
  });
}
