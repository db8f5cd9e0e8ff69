// server.hpp — what the network samples (echo, chat, http) share: the command line, the
// signal that ends a server, and the accept loop.
//
// Owns nothing past a call. Invariant: serve() returns only after the listener was closed
// by the shutdown signal (or failed to open), so a sample's main goroutine that then
// cancels its context and waits for its goroutines ends every connection.
#pragma once

#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>

#include <rt/rt.hpp>

namespace samples {

// peer_gone tells whether e is the peer resetting or abandoning the connection, the
// ordinary end of a client that did not close cleanly (not worth a log line).
inline bool peer_gone(const std::system_error& e) {
  return e.code().value() == ECONNRESET || e.code().value() == EPIPE;
}

// listen_address reads `prog [ADDR]`: the address, or nullopt with *status set after
// printing the usage (0 for -h/--help, 2 for a bad command line). `extra` adds lines to
// the usage text.
inline std::optional<std::string> listen_address(int argc, char** argv, const char* prog,
                                                 const char* default_addr, int* status,
                                                 const char* extra = "") {
  const bool help =
      argc == 2 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0);
  if (argc <= 2 && !help) return argc == 2 ? argv[1] : default_addr;
  std::fprintf(help ? stdout : stderr,
               "usage: %s [ADDR]\n  ADDR  host:port to listen on (default %s; port 0 picks a "
               "free one)\n%s",
               prog, default_addr, extra);
  *status = help ? 0 : 2;
  return std::nullopt;
}

// shutdown_signals blocks SIGINT and SIGTERM in the calling thread; call it before the
// runtime starts, so every thread rt starts inherits the mask and the signals stay
// pending until a sigwait takes them. Returns the set.
inline sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// serve listens on addr, prints "listening on HOST:PORT" on stdout and calls
// on_conn(conn, id) (ids from 1) for each accepted connection, until one of `signals`
// arrives: it then logs "PROG: Interrupt, shutting down" and returns 0. A failed listen
// logs the reason and returns 1. A failing accept (say, out of descriptors) is logged and
// retried after a back-off, 5 ms doubling up to 1 s (Go's net/http rule), so a burst
// cannot stop the server. Parks the calling goroutine; the signal is waited for on one
// of rt's blocking threads (by a goroutine that ends before serve returns).
template <class OnConn>
int serve(const char* prog, const std::string& addr, const sigset_t& signals, OnConn on_conn) {
  rt::net::listener ln;
  try {
    ln = rt::net::listen("tcp", addr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
    return 1;
  }
  std::printf("listening on %s\n", ln.addr().c_str());
  std::fflush(stdout);

  rt::wait_group waiter;
  waiter.go([&] {
    int sig = 0;
    rt::blocking([&] { sigwait(&signals, &sig); });
    std::fprintf(stderr, "%s: %s, shutting down\n", prog, strsignal(sig));
    ln.close();  // wakes the accept below
  });
  auto backoff = std::chrono::milliseconds(0);
  for (std::uint64_t id = 1;;) {
    rt::net::conn c;
    try {
      c = ln.accept();
    } catch (const rt::net::closed_error&) {
      break;
    } catch (const std::system_error& e) {
      backoff = std::min(backoff == backoff.zero() ? std::chrono::milliseconds(5) : backoff * 2,
                         std::chrono::milliseconds(1000));
      std::fprintf(stderr, "%s: %s; retrying in %lld ms\n", prog, e.what(),
                   static_cast<long long>(backoff.count()));
      rt::sleep_for(backoff);
      continue;
    }
    backoff = backoff.zero();
    on_conn(std::move(c), id++);
  }
  waiter.wait();
  return 0;
}

}  // namespace samples
