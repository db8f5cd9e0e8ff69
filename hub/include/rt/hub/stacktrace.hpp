// rt/hub/stacktrace.hpp — stack traces for events: where an exception was thrown, where a
// capture was made, and the loaded images a Sentry server needs to symbolicate them.
//
// Example:
//   try { load(path); } catch (...) {
//     for (const rt::stack_frame& f : rt::throw_stacktrace(std::current_exception()))
//       std::cout << f.function << " " << f.filename << ":" << f.lineno << "\n";
//   }
//
// Owns: the throw-site recorder. Linking rt's hub replaces the C++ runtime's __cxa_throw
// (and __cxa_init_primary_exception, which std::make_exception_ptr uses) with a wrapper
// that records the thrower's return addresses and then calls the original, as cpptrace
// does. The addresses are unwound with libunwind's cached fast path (loaded with dlopen,
// privately, so it never replaces the unwinder exceptions use; GCC's _Unwind_Backtrace
// when it is not installed) and only symbolised when an event is built, from the
// program's DWARF line tables (libbacktrace, as the goroutine dumps).
// Invariant: the recorder keeps a trace (at most 64 frames) per live exception object, in a
// table of 512 sets of 4 slots chosen by the object's address, from the throw until the C++
// runtime destroys the object (the wrapper gives it a destructor that frees the slot first).
// So an exception rethrown (throw;, std::rethrow_exception) keeps the trace of its first
// throw however many throws come after, and a lookup finds the trace of that exception or
// none (when 4 other exceptions of its set were alive when it was thrown), never another's.
#pragma once

#include <exception>
#include <vector>

#include "rt/hub/event.hpp"

namespace rt {

// Throw-site recording is on unless the environment sets RT_THROW_STACKTRACES=0 when the
// program starts. Turning it off makes a throw cost what it costs without rt (about 50 ns
// less per throw with libunwind); traces already recorded stay. Never blocks.
void set_throw_stacktraces(bool enabled) noexcept;
bool throw_stacktraces() noexcept;

// throw_stacktrace: the stack where `e`'s exception object was thrown (or made by
// std::make_exception_ptr), oldest frame first, the hub's own innermost frames (the wrapped
// __cxa_throw) left out; empty for a null `e`, when recording was off at the throw or its
// set of the table was full. Symbolising reads the program's debug information the first
// time (slow, see rt/detail/symbolize.hpp); never parks, so it is safe in a catch block.
// Throws only std::bad_alloc.
std::vector<stack_frame> throw_stacktrace(const std::exception_ptr& e);

// current_stacktrace: the caller's stack, oldest frame first, the hub's own innermost frames
// (the capture calls) left out. As throw_stacktrace otherwise.
std::vector<stack_frame> current_stacktrace();

// debug_images_of: the loaded ELF objects that hold the instruction address of some frame
// of `ev` (its exceptions' and threads' traces), in load order, each once. Never parks.
std::vector<debug_image> debug_images_of(const event& ev);

}  // namespace rt
