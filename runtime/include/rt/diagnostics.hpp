// rt/diagnostics.hpp — what the runtime can tell about its goroutines: a snapshot of
// every live one, dumps grouped by creation site and state, and a leak check for tests.
//
// Example (a test that must not leave goroutines behind, uber-go/goleak's idea):
//   TEST_CASE("server shuts down cleanly") {
//     rt::leak_check leaks;          // remembers the goroutines alive now
//     run_server_until_stopped();
//     CHECK(leaks.verify() == "");   // else: which goroutines are left, and where from
//   }
//
// Owns: the public view of the scheduler's goroutine registry, and its text/JSON forms.
// Invariant: every call here only reads, never changes what any goroutine does. The
// first symbolisation of creation sites reads the program's debug information: goroutines()
// and dump_goroutines hand it to the blocking pool and park meanwhile; leak_check sleeps
// between its looks.
//
// The same dump is printed on stderr when the process gets SIGQUIT (kill -QUIT pid or
// Ctrl-\), and the program goes on running — as the JVM does; Go prints its dump and
// exits with status 2. A creation site is the file and line of the go() call when the
// program has debug line information (-g or -g1), else the function and offset.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <set>
#include <string>
#include <vector>

namespace rt {

struct goroutine_info {
  std::uint64_t id = 0;
  std::uint64_t parent = 0;  // the goroutine that started it; 0: a plain thread (or rt::run)
  std::string created_at;    // "server.cpp:42", or "handle(conn)+0x2a" without line info
  std::string function;      // the function that called go(), when known
  // "running", "runnable", or what it waits for: "chan send", "chan receive", "select",
  // "mutex lock", "rw_mutex lock", "rw_mutex lock_shared", "cond wait", "wait_group wait",
  // "sleep", "IO wait (read)", "IO wait (write)", "blocking call", "select (no cases)",
  // "chan send (nil chan)", "chan receive (nil chan)".
  std::string state;
  std::chrono::milliseconds in_state{0};  // for how long (to within ~25 ms; 0: unknown)
  int worker = -1;                        // running: the worker thread's index
};

// goroutines returns every live goroutine of the running runtime (empty without one).
// Never blocks for long: the registry's lock, held while it copies a few fields each.
std::vector<goroutine_info> goroutines();

// current_goroutine describes the calling goroutine (id 0 outside any goroutine). Never
// parks (the first call may take a while on its worker: it reads the debug information).
goroutine_info current_goroutine();

enum class dump_format { text, json };

// dump_goroutines writes every live goroutine, grouped by identical creation site and
// state, largest group first:
//   1000 goroutines @ /src/server.cpp:42 in serve(listener&) [chan receive, 3 min]
//       ids 7 8 9 10 11 12 13 14 ... (1000), created by goroutine 1
// As JSON: {"goroutines": N, "groups": [{"count", "created_at", "function", "state",
// "longest_ms", "ids", "parents"}]}. Never throws but what the stream throws.
void dump_goroutines(std::ostream& out, dump_format format = dump_format::text);
// The same grouping for a given list (what leak_check reports).
void dump_goroutines(std::ostream& out, const std::vector<goroutine_info>& gs,
                     dump_format format = dump_format::text);

// leak_check remembers the goroutines alive at its construction; verify() lists the
// ones started since that are still alive, after giving them up to `grace` to end
// (goroutines woken by the test's last step may still be finishing). Call verify from
// the goroutine (or thread) that built it; it sleeps between looks (rt::sleep_for).
class leak_check {
 public:
  leak_check();
  // The goroutines started since construction and still alive after `grace`.
  std::vector<goroutine_info> leaked(
      std::chrono::milliseconds grace = std::chrono::milliseconds(1000)) const;
  // "" when none leaked; else "N goroutines leaked:" and their grouped dump.
  std::string verify(std::chrono::milliseconds grace = std::chrono::milliseconds(1000)) const;

 private:
  std::set<std::uint64_t> before_;
};

}  // namespace rt
