// rt/scheduler/fatal.hpp — internal: the one way rt ends the process.
//
// Owns: rt's two tiers of failure, as Go's runtime has them. A *panic* is an exception
// that escapes a goroutine: the runtime reports it ("panic: goroutine N: ...", after the
// hub captured it) and ends the program with exit_status unless options::on_panic says
// otherwise (runtime.cpp). A *fatal error* is a state rt cannot go on from (a corrupted
// primitive, scheduling in a forked child, a stack overflow, every goroutine asleep): no
// exception, no recovery, the process ends at once. Both end through exit_now().
// Invariant: every rt message that ends the process is followed by exit_now(); nothing
// in rt calls abort(), exit() or _exit() itself.
#pragma once

namespace rt::sched {

// The exit status of an unrecovered panic and of a fatal error (Go's: 2).
inline constexpr int exit_status = 2;

// fatal writes "rt: fatal error: <printf-formatted message>" and a newline to stderr (one
// write, at most 1 KiB) and calls exit_now(). Never returns, never throws, never parks.
[[noreturn]] void fatal(const char* fmt, ...) noexcept __attribute__((format(printf, 1, 2)));

// exit_now flushes stdio (what the program printed is not lost) and ends the process with
// exit_status at once: no destructors, no atexit handlers, other threads stopped where
// they are. For an ending whose message is already written.
[[noreturn]] void exit_now() noexcept;

// fatal_in_signal_handler is fatal() for a signal handler: the message goes out with
// write(2) only and stdio is not flushed (its locks may be held by the interrupted code).
[[noreturn]] void fatal_in_signal_handler(const char* message) noexcept;

}  // namespace rt::sched
