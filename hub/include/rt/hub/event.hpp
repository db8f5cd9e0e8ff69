// rt/hub/event.hpp — rt::event and rt::breadcrumb: the plain values a hub captures.
//
// Example:
//   rt::event ev;
//   ev.message = "disk almost full";
//   ev.level = rt::level::warning;
//   ev.tags["disk"] = "/dev/sda1";
//   std::string id = rt::capture_event(std::move(ev));   // empty when dropped
//
// Owns: the data model of an event (sentry-go's Event, in the fields docs/hub.md lists) and the
// helpers that build its parts: event ids, exception chains from std::exception_ptr.
// Invariant: these are values. Copying an event or breadcrumb copies everything in it;
// nothing is shared with the scope or hub it came from.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rt/hub/level.hpp"

namespace rt {

// A point in time. The default (the clock's epoch) means "unset": the hub fills it in.
using timestamp = std::chrono::system_clock::time_point;

// Arbitrary JSON values for extras, contexts and breadcrumb data.
using json = nlohmann::json;

struct breadcrumb {
  std::string type{};      // e.g. "default", "http", "navigation"
  std::string category{};  // e.g. the logger name
  std::string message{};
  std::optional<rt::level> level{};  // unset: not sent
  std::map<std::string, json> data{};
  rt::timestamp timestamp{};  // unset: set when it is stored on a scope
};

struct user {
  std::string id{};
  std::string email{};
  std::string ip_address{};
  std::string username{};
  std::string name{};
  std::map<std::string, std::string> data{};

  // empty tells whether every field is empty (the scope's user then fills the event's).
  bool empty() const noexcept;
  bool operator==(const user&) const = default;
};

// One frame of a stack trace (Sentry's "frame"); a trace lists them oldest first. An
// inlined call is a frame of its own, with the instruction address of the call it is in.
struct stack_frame {
  std::string function{};               // demangled, e.g. "app::load(std::string const&)"
  std::string filename{};               // the source file's name, e.g. "load.cpp"
  std::string abs_path{};               // the source file's path as the debug information has it
  int lineno = 0;                       // 0: unknown
  std::uintptr_t instruction_addr = 0;  // a return address (the call is just before it)
  std::string package{};                // the ELF object the code is in (program or library)
  std::optional<bool> in_app{};         // the user's program, not rt, Boost or the C++ library
};

// A thread of an event (Sentry's "threads" interface): attach_stacktrace puts the
// capturing goroutine's stack here.
struct thread_info {
  std::string id{};  // the goroutine id ("" if captured outside a goroutine)
  std::string name{};
  bool current = false;  // the one that captured the event
  bool crashed = false;
  std::vector<stack_frame> frames{};  // oldest first
};

// A loaded ELF object some frame of the event is in (Sentry's "debug_meta.images"), so a
// Sentry server can symbolicate a stripped program from uploaded debug files.
struct debug_image {
  std::string code_file{};        // the object's path
  std::string code_id{};          // the GNU build-id, hex
  std::string debug_id{};         // the build-id's first 16 bytes as Sentry's debug id
  std::uintptr_t image_addr = 0;  // where it is loaded
  std::uint64_t image_size = 0;   // bytes, from its lowest to its highest loaded segment
};

// How an exception of a chain relates to the others (set when the chain has > 1 entry).
struct exception_mechanism {
  std::string type{};    // "generic" for the outermost, else "chained"
  std::string source{};  // "nested" for a std::nested_exception link
  int exception_id = 0;
  std::optional<int> parent_id{};
};

// One exception of an event's chain (Sentry's "exception" interface).
struct exception_info {
  std::string type{};                 // demangled dynamic type, e.g. "std::runtime_error"
  std::string value{};                // what()
  std::vector<stack_frame> frames{};  // where it was thrown (oldest first); empty: unknown
  std::optional<exception_mechanism> mechanism{};
};

struct event {
  std::string event_id{};            // 32 lowercase hex digits; empty: the client makes one
  rt::timestamp timestamp{};         // unset: now, at capture
  std::optional<rt::level> level{};  // unset: info, at capture
  std::string message{};
  std::string logger{};
  std::string platform{};  // always overwritten at capture ("native")
  std::string release{};
  std::string environment{};
  std::string server_name{};
  std::string dist{};
  std::map<std::string, std::string> tags{};
  std::map<std::string, json> extra{};
  std::map<std::string, json> contexts{};  // each value is a JSON object
  rt::user user{};
  std::vector<std::string> fingerprint{};
  std::string transaction{};
  std::vector<rt::breadcrumb> breadcrumbs{};  // oldest first
  std::vector<exception_info> exception{};    // innermost (oldest) first, outermost last
  std::vector<thread_info> threads{};
  std::vector<debug_image> debug_images{};  // set at capture when the event has frames
};

// What a capture knows beyond the event; event processors receive it.
struct event_hint {
  std::exception_ptr original_exception{};   // capture_exception's argument
  std::exception_ptr recovered_exception{};  // recover's argument
};

// new_event_id returns a fresh uuid4 as 32 lowercase hex digits, no dashes, from the
// system's cryptographic RNG (getrandom, buffered per thread). Never blocks on entropy
// after boot; throws std::system_error if the kernel refuses.
std::string new_event_id();

// exception_chain describes `e` as Sentry exceptions, innermost first: a std::exception
// gives its demangled dynamic type (std::throw_with_nested's wrapper named as the type the
// user threw) and what(), each std::nested_exception level adds the
// exception it holds (at most 100 levels), a thrown const char* or std::string gives type
// "const char*"/"std::string" and the text, anything else its demangled type and an empty
// value. Each carries the stack of its throw site when one was recorded
// (rt/hub/stacktrace.hpp). With more than one entry each gets a mechanism linking it to
// its parent. A null
// `e` gives an empty chain. Never throws for a non-null `e` except std::bad_alloc.
std::vector<exception_info> exception_chain(std::exception_ptr e);

}  // namespace rt
