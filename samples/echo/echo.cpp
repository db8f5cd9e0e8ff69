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
// goroutine, and the shutdown: once the signal closed the listener, main cancels the
// context every connection watches and waits for them.
#include <cstdio>
#include <span>
#include <string>
#include <system_error>

#include <rt/rt.hpp>

#include "server.hpp"

namespace {

// echo_conn echoes c until the peer closes it, an error happens, or ctx is cancelled (a
// watcher goroutine then closes c, which wakes the parked read with closed_error).
void echo_conn(rt::context ctx, rt::net::conn c) {
  auto [conn_ctx, stop_watching] = rt::with_cancel(ctx);
  rt::wait_group watcher;
  watcher.go(
      [&c](rt::context done) {
        done.done().recv();
        c.close();
      },
      conn_ctx);
  try {
    char buf[16 * 1024];
    while (const std::size_t n = c.read(std::span(buf))) c.write(std::span(buf, n));
  } catch (const rt::net::closed_error&) {
    // Closed by the watcher: the server is shutting down.
  } catch (const std::system_error& e) {
    if (!samples::peer_gone(e)) std::fprintf(stderr, "rt_echo: %s\n", e.what());
  }
  stop_watching();  // ends the watcher (it closes c, which is done with anyway)
  watcher.wait();
}

}  // namespace

int main(int argc, char** argv) {
  int status = 0;
  const auto addr = samples::listen_address(argc, argv, "rt_echo", "127.0.0.1:8080", &status);
  if (!addr) return status;
  const sigset_t signals = samples::shutdown_signals();
  return rt::run([&] {
    auto [ctx, cancel] = rt::with_cancel(rt::context::background());
    rt::wait_group conns;
    const int result = samples::serve(
        "rt_echo", *addr, signals,
        [&](rt::net::conn c, std::uint64_t) { conns.go(echo_conn, ctx, std::move(c)); });
    cancel();  // every connection's watcher closes its conn
    conns.wait();
    return result;
  });
}
