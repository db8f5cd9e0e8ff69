// rt/detail/symbolize.hpp — internal: code addresses to source frames, with the same
// libbacktrace state the goroutine dumps use (the hub's stack traces need it; one state
// means the program's debug information is read once).
//
// Owns: nothing but the declaration (runtime/src/diagnostics.cpp implements it).
// Invariant: thread-safe; never parks; reads the program's DWARF line tables the first
// time it is called (100 ms and more for a large program), later calls only look up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rt::detail {

struct source_frame {
  std::string function{};          // as the debug information or symbol table spells it (mangled)
  std::string file{};              // "" without line tables
  int line = 0;                    // 0: unknown
  std::uintptr_t symbol_addr = 0;  // without line tables: where `function` starts
};

// symbolize_call describes the call that returned to `return_address`: its source frames,
// innermost inlined call first, or the enclosing symbol alone when the code has no line
// tables; empty when nothing is known about the address.
std::vector<source_frame> symbolize_call(std::uintptr_t return_address);

// preload_symbols starts, once per process, a background thread that reads the program's
// debug information, so the first symbolize_call (e.g. the first event with a stack trace,
// made on a goroutine) does not pay for it. Never blocks.
void preload_symbols() noexcept;

// demangle: the C++ spelling of a mangled name (a type's or a function's); the name itself
// when it is not one. Throws only std::bad_alloc.
std::string demangle(const char* name);

}  // namespace rt::detail
