// stacktrace_test.cpp — throw-site and capture-site stack traces (rt/hub/stacktrace.hpp):
// the frames name the throwing function, file and line, oldest first; rethrows keep the
// first throw's site; nested exceptions each have theirs; events carry the traces and the
// debug images; concurrent throws on every worker never get each other's trace.
//
// Owns: the throwing functions below, whose names and lines the assertions check.
// Invariant: every thrower is noinline, so it is a frame of its own in any build.
#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {

// The line of thrower_a's throw, set before it throws (by many threads at once).
std::atomic<int> throw_line{0};

[[gnu::noinline]] void thrower_a() {
  throw_line = __LINE__ + 1;
  throw std::runtime_error("from a");
}

[[gnu::noinline]] void calls_a() {
  thrower_a();
  asm volatile("");  // not a tail call: calls_a stays on the stack
}

[[gnu::noinline]] void thrower_b() {
  throw std::out_of_range("from b");
}
[[gnu::noinline]] void thrower_c() {
  throw std::length_error("from c");
}
[[gnu::noinline]] void thrower_d() {
  throw 42;
}

[[gnu::noinline]] void wraps_a() {
  try {
    thrower_a();
  } catch (...) {
    std::throw_with_nested(std::logic_error("while wrapping"));
  }
}

[[gnu::noinline]] void rethrows(std::exception_ptr e) {
  std::rethrow_exception(e);
}

[[gnu::noinline]] std::exception_ptr makes_ptr() {
  return std::make_exception_ptr(std::invalid_argument("made"));
}

template <class Fn>
std::exception_ptr caught(Fn fn) {
  try {
    fn();
  } catch (...) {
    return std::current_exception();
  }
  FAIL("did not throw");
  return nullptr;
}

// The innermost frame of the user's code (the last in_app one: inlined frames of the C++
// library, e.g. std::throw_with_nested's, may follow it) is the named function's.
bool innermost_is(const std::vector<rt::stack_frame>& frames, const std::string& function) {
  for (auto f = frames.rbegin(); f != frames.rend(); ++f)
    if (f->in_app == true) return f->function.find(function) != std::string::npos;
  return false;
}

bool has_function(const std::vector<rt::stack_frame>& frames, const std::string& function) {
  for (const rt::stack_frame& f : frames)
    if (f.function.find(function) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("the trace of a caught exception is its throw site's, oldest frame first") {
  const std::exception_ptr e = caught(calls_a);
  const std::vector<rt::stack_frame> frames = rt::throw_stacktrace(e);
  REQUIRE(frames.size() >= 3);
  const rt::stack_frame& top = frames.back();
  CHECK(top.function.find("thrower_a") != std::string::npos);
  CHECK(top.filename == "stacktrace_test.cpp");
  CHECK(top.abs_path.ends_with("/tests/hub/stacktrace_test.cpp"));
  CHECK(top.lineno == throw_line.load());
  CHECK(top.in_app == true);
  CHECK(top.instruction_addr != 0);
  CHECK(top.package.find("hub_tests") != std::string::npos);
  CHECK(frames[frames.size() - 2].function.find("calls_a") != std::string::npos);
  // Nothing of the recorder itself (the wrapped __cxa_throw) is in the trace.
  for (const rt::stack_frame& f : frames) {
    CHECK(f.abs_path.find("/hub/src/") == std::string::npos);
    CHECK(f.function.find("__cxa_throw") == std::string::npos);
  }
  // The caught-at function (this test case) is the outer end of the throw site's stack,
  // and the frames of rt's scheduler below it are not the user's.
  bool some_library_frame = false;
  for (const rt::stack_frame& f : frames) some_library_frame |= f.in_app == false;
  CHECK(some_library_frame);
}

TEST_CASE("a rethrown exception keeps the trace of its first throw") {
  const std::exception_ptr first = caught(thrower_b);
  const std::exception_ptr again = caught([&] { rethrows(first); });
  CHECK(again == first);
  const auto frames = rt::throw_stacktrace(again);
  CHECK(innermost_is(frames, "thrower_b"));
  CHECK_FALSE(has_function(frames, "rethrows"));
  const std::exception_ptr plain = caught([&] {
    try {
      thrower_c();
    } catch (...) {
      throw;  // rethrow in place
    }
  });
  CHECK(innermost_is(rt::throw_stacktrace(plain), "thrower_c"));
}

TEST_CASE("a live exception keeps its trace however many exceptions are thrown after it") {
  const std::exception_ptr first = caught(thrower_b);
  // A ring of live exceptions at ever more addresses, each replaced by a new throw: every
  // set of the table sees many throws while `first` is alive.
  constexpr std::size_t ring = 1024, rounds = 8;
  std::vector<std::exception_ptr> live(ring);
  std::size_t traced = 0, wrong = 0;
  for (std::size_t i = 0; i < ring * rounds; ++i) {
    std::exception_ptr& slot = live[i % ring];
    slot = caught(thrower_c);
    const auto frames = rt::throw_stacktrace(slot);
    if (frames.empty()) continue;  // its set was full of live exceptions
    (innermost_is(frames, "thrower_c") ? traced : wrong) += 1;
  }
  CHECK(innermost_is(rt::throw_stacktrace(first), "thrower_b"));
  CHECK(wrong == 0);
  CHECK(traced > ring * rounds / 2);
}

// Counts its live instances: every constructed one is destroyed once.
struct counted {
  static inline std::atomic<int> alive{0};
  counted() { ++alive; }
  counted(const counted&) { ++alive; }
  ~counted() { --alive; }
};

TEST_CASE("an exception object is destroyed once, thrown or made, with recording on or off") {
  for (const bool recording : {true, false}) {
    rt::set_throw_stacktraces(recording);
    {
      const std::exception_ptr thrown = caught([] { throw counted(); });
      const std::exception_ptr made = std::make_exception_ptr(counted());
      CHECK(counted::alive.load() == 2);
      CHECK(rt::throw_stacktrace(thrown).empty() != recording);
      CHECK(rt::throw_stacktrace(made).empty() != recording);
    }
    CHECK(counted::alive.load() == 0);
  }
  rt::set_throw_stacktraces(true);
}

TEST_CASE("each exception of a nested chain has its own throw site and its user-facing type") {
  const std::exception_ptr e = caught(wraps_a);
  const std::vector<rt::exception_info> chain = rt::exception_chain(e);
  REQUIRE(chain.size() == 2);
  CHECK(chain[0].type == "std::runtime_error");  // innermost first
  CHECK(innermost_is(chain[0].frames, "thrower_a"));
  CHECK(chain[1].type == "std::logic_error");  // not std::_Nested_exception<std::logic_error>
  CHECK(chain[1].value == "while wrapping");
  CHECK(innermost_is(chain[1].frames, "wraps_a"));
  CHECK_FALSE(has_function(chain[1].frames, "thrower_a"));
}

TEST_CASE("std::make_exception_ptr records where the exception was made; any type is traced") {
  CHECK(innermost_is(rt::throw_stacktrace(makes_ptr()), "makes_ptr"));
  CHECK(innermost_is(rt::throw_stacktrace(caught(thrower_d)), "thrower_d"));
  CHECK(rt::throw_stacktrace(nullptr).empty());
}

TEST_CASE("with throw-site recording off, a new throw has no trace; turned on again, it has") {
  REQUIRE(rt::throw_stacktraces());
  rt::set_throw_stacktraces(false);
  const std::exception_ptr off = caught(thrower_c);
  rt::set_throw_stacktraces(true);
  CHECK(rt::throw_stacktrace(off).empty());
  CHECK(innermost_is(rt::throw_stacktrace(caught(thrower_c)), "thrower_c"));
}

TEST_CASE("a captured exception's event carries the throw site and the program's debug image") {
  hubtest::memory_client mc;
  rt::hub h(mc.client);
  REQUIRE_FALSE(h.capture_exception(caught(calls_a)).empty());
  const auto events = mc.events();
  REQUIRE(events.size() == 1);
  const rt::event& ev = events[0];
  REQUIRE(ev.exception.size() == 1);
  CHECK(innermost_is(ev.exception[0].frames, "thrower_a"));
  CHECK(ev.threads.empty());  // attach_stacktrace is off
  REQUIRE_FALSE(ev.debug_images.empty());
  const rt::debug_image& program = ev.debug_images[0];
  CHECK(program.code_file.find("hub_tests") != std::string::npos);
  REQUIRE(program.code_id.size() >= 32);
  // debug_id: the build-id's first 16 bytes as a little-endian GUID.
  const std::string& c = program.code_id;
  auto swap = [&c](std::size_t at, std::size_t bytes) {
    std::string out;
    for (std::size_t i = bytes; i > 0; --i) out += c.substr(at + 2 * (i - 1), 2);
    return out;
  };
  CHECK(program.debug_id == swap(0, 4) + "-" + swap(8, 2) + "-" + swap(12, 2) + "-" +
                                c.substr(16, 4) + "-" + c.substr(20, 12));
  const std::uintptr_t top = ev.exception[0].frames.back().instruction_addr;
  CHECK(top >= program.image_addr);
  CHECK(top < program.image_addr + program.image_size);
  CHECK(hubtest::event_schema_errors(ev) == "");
  const std::string json = rt::event_json_line(ev);
  CHECK(json.find("\"instruction_addr_adjustment\":\"all\"") != std::string::npos);
  CHECK(json.find("\"debug_meta\":{\"images\":[{\"type\":\"elf\"") != std::string::npos);
}

TEST_CASE("attach_stacktrace adds the capturing goroutine's stack to capture_message") {
  hubtest::memory_client traced({.attach_stacktrace = true});
  hubtest::memory_client plain;
  rt::hub with(traced.client), without(plain.client);
  REQUIRE_FALSE(with.capture_message("traced").empty());
  REQUIRE_FALSE(without.capture_message("plain").empty());
  const rt::event ev = traced.events().at(0);
  REQUIRE(ev.threads.size() == 1);
  const rt::thread_info& t = ev.threads[0];
  CHECK(t.current);
  CHECK_FALSE(t.crashed);
  CHECK(t.id == std::to_string(rt::current_goroutine().id));
  REQUIRE_FALSE(t.frames.empty());
  CHECK(t.frames.back().filename == "stacktrace_test.cpp");  // the capture call, not rt's
  CHECK(t.frames.back().in_app == true);
  CHECK_FALSE(ev.debug_images.empty());
  CHECK(hubtest::event_schema_errors(ev) == "");
  const rt::event bare = plain.events().at(0);
  CHECK(bare.threads.empty());
  CHECK(bare.debug_images.empty());
}

TEST_CASE("attach_stacktrace gives an exception without a recorded throw site the capture's") {
  hubtest::memory_client traced({.attach_stacktrace = true});
  rt::hub h(traced.client);
  rt::set_throw_stacktraces(false);
  const std::exception_ptr e = caught(thrower_b);
  rt::set_throw_stacktraces(true);
  h.capture_exception(e);
  const rt::event ev = traced.events().at(0);
  REQUIRE_FALSE(ev.exception.at(0).frames.empty());
  CHECK(ev.exception[0].frames.back().filename == "stacktrace_test.cpp");
  CHECK_FALSE(has_function(ev.exception[0].frames, "thrower_b"));
}

TEST_CASE("concurrent throws on every worker and on plain threads each find their own trace") {
  using thrower_fn = void (*)();
  static constexpr thrower_fn throwers[] = {thrower_a, thrower_b, thrower_c, thrower_d};
  static const char* const names[] = {"thrower_a", "thrower_b", "thrower_c", "thrower_d"};
  constexpr int goroutines = 64, throws = 50, threads = 4;
  std::atomic<int> right{0}, wrong{0};
  auto one = [&](int i) {
    const int k = i % 4;
    const std::exception_ptr e = caught(throwers[k]);
    (innermost_is(rt::throw_stacktrace(e), names[k]) ? right : wrong).fetch_add(1);
  };
  std::vector<std::thread> plain;
  for (int t = 0; t < threads; ++t) {
    plain.emplace_back([&, t] {
      for (int i = 0; i < throws; ++i) one(t + i);
    });
  }
  rt::wait_group wg;
  for (int g = 0; g < goroutines; ++g) {
    wg.go([&, g] {
      for (int i = 0; i < throws; ++i) {
        one(g + i);
        if (i % 8 == 0) rt::yield();  // move between workers mid-way
      }
    });
  }
  wg.wait();
  rt::blocking([&] {
    for (std::thread& th : plain) th.join();
  });
  CHECK(wrong.load() == 0);
  CHECK(right.load() == (goroutines + threads) * throws);
}
