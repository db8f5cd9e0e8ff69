// fatal.cpp — how rt ends the process (rt/scheduler/fatal.hpp).
//
// Owns: the formatting of fatal errors and the process exit itself.
// Invariant: async-signal-safe where the header says so; the message reaches stderr in
// a single write, so that lines of two failing threads do not interleave.
#include "rt/scheduler/fatal.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace rt::sched {
namespace {

constexpr char prefix[] = "rt: fatal error: ";

void write_all(const char* s, std::size_t n) noexcept {
  while (n > 0) {
    const ssize_t w = ::write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

void fatal(const char* fmt, ...) noexcept {
  char buf[1024];
  std::memcpy(buf, prefix, sizeof prefix - 1);
  const std::size_t room = sizeof buf - (sizeof prefix - 1) - 1;  // 1: the newline
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf + sizeof prefix - 1, room + 1, fmt, ap);
  va_end(ap);
  std::size_t len = sizeof prefix - 1 + (n < 0 ? 0 : std::min<std::size_t>(n, room));
  buf[len++] = '\n';
  std::fflush(nullptr);
  write_all(buf, len);
  exit_now();
}

void exit_now() noexcept {
  std::fflush(nullptr);
  ::_exit(exit_status);
}

void fatal_in_signal_handler(const char* message) noexcept {
  write_all(prefix, sizeof prefix - 1);
  write_all(message, std::strlen(message));
  write_all("\n", 1);
  ::_exit(exit_status);
}

}  // namespace rt::sched
