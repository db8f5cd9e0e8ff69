// diagnostics.cpp — goroutine snapshots, dumps and leak checks (rt/diagnostics.hpp), and
// the reports of the scheduler's monitor: stuck workers, deadlocks, SIGQUIT dumps.
//
// Owns: turning the scheduler's goroutine views into goroutine_info (creation sites
// symbolised with libbacktrace, which ships with GCC and reads the program's DWARF line
// tables, inlined calls included), the grouping of dumps, and the monitor's hooks.
// Invariant: a creation site is symbolised once per address (cached); nothing here runs
// on a worker thread unless the caller asked for a snapshot from a goroutine.
#include <backtrace.h>
#include <cxxabi.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <ostream>
#include <sstream>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "diagnostics_internal.hpp"
#include "rt/blocking.hpp"
#include "rt/detail/symbolize.hpp"
#include "rt/diagnostics.hpp"
#include "rt/scheduler/fatal.hpp"
#include "rt/scheduler/race.hpp"
#include "rt/scheduler/scheduler.hpp"
#include "rt/time.hpp"

namespace rt {
namespace detail {
namespace {

struct site {
  std::string at;
  std::string function;
};

// The program's symbols. The first lookup reads the DWARF line tables; libbacktrace lets
// concurrent first lookups each read them, so the state is returned only after one lookup
// has (a function-local static: the other first callers wait instead of reading too).
backtrace_state* symbols() {
  static backtrace_state* const state = [] {
    backtrace_state* s = backtrace_create_state(
        nullptr, /*threaded=*/1, [](void*, const char*, int) {}, nullptr);
    backtrace_pcinfo(
        s, reinterpret_cast<std::uintptr_t>(&symbols),
        [](void*, std::uintptr_t, const char*, int, const char*) { return 1; },
        [](void*, const char*, int) {}, nullptr);
    return s;
  }();
  return state;
}

// The frame (innermost first, inlined calls included) that called go(): the first one
// outside rt's headers, which always inline go() into the caller. Without line tables: the
// enclosing symbol and the offset into it.
site symbolize(std::uintptr_t pc) {
  site s;
  if (pc == 0) return s;
  for (const source_frame& f : symbolize_call(pc)) {
    if (f.file.empty()) {
      char off[40];
      s.function = demangle(f.function.c_str());
      std::snprintf(off, sizeof off, "+0x%" PRIxPTR, pc - f.symbol_addr);
      s.at = s.function + off;
      return s;
    }
    s.at = f.file + ":" + std::to_string(f.line);
    s.function = f.function;
    if (f.file.find("/include/rt/") == std::string::npos) return s;  // the user's code
  }
  if (s.at.empty()) {
    char off[40];
    std::snprintf(off, sizeof off, "0x%" PRIxPTR, pc);
    s.at = off;
  }
  return s;
}

std::mutex sites_mu;
std::unordered_map<std::uintptr_t, site> sites;  // guarded by sites_mu

site site_of(std::uintptr_t pc) {
  std::lock_guard lk(sites_mu);
  auto it = sites.find(pc);
  if (it == sites.end()) it = sites.emplace(pc, symbolize(pc)).first;
  return it->second;
}

// resolve symbolises the sites not cached yet. Reading the program's debug information
// the first time takes a while (100 ms and more for a large program): a goroutine hands
// the work to a blocking-pool thread, so its worker goes on running others.
void resolve(const std::vector<sched::goroutine_view>& views, bool may_park) {
  std::vector<std::uintptr_t> missing;
  {
    std::lock_guard lk(sites_mu);
    for (const sched::goroutine_view& v : views) {
      if (sites.count(v.created_pc) == 0) missing.push_back(v.created_pc);
    }
  }
  if (missing.empty()) return;
  auto work = [&missing] {
    for (std::uintptr_t pc : missing) site_of(pc);
  };
  if (may_park && sched::current() != nullptr) {
    blocking(work);
  } else {
    work();
  }
}

std::int64_t now_ns() noexcept {
  return sched::clock::now().time_since_epoch().count();
}

std::chrono::milliseconds age(std::int64_t since_ns, std::int64_t now) {
  if (since_ns == 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::max<std::int64_t>(0, now - since_ns) / 1'000'000);
}

std::string format_age(std::chrono::milliseconds d) {
  const long long ms = d.count();
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms < 120'000) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms / 60'000) + " min";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

struct group {
  const goroutine_info* first = nullptr;
  std::vector<std::uint64_t> ids;
  std::vector<std::uint64_t> parents;  // distinct, ascending
  std::chrono::milliseconds longest{0};
  std::vector<int> workers;
};

std::vector<group> group_by_site(const std::vector<goroutine_info>& gs) {
  std::map<std::tuple<std::string, std::string, std::string>, group> by;
  for (const goroutine_info& g : gs) {
    group& gr = by[{g.created_at, g.function, g.state}];
    if (gr.first == nullptr) gr.first = &g;
    gr.ids.push_back(g.id);
    if (std::find(gr.parents.begin(), gr.parents.end(), g.parent) == gr.parents.end()) {
      gr.parents.push_back(g.parent);
    }
    gr.longest = std::max(gr.longest, g.in_state);
    if (g.worker >= 0) gr.workers.push_back(g.worker);
  }
  std::vector<group> out;
  for (auto& [key, gr] : by) {
    std::sort(gr.ids.begin(), gr.ids.end());
    std::sort(gr.parents.begin(), gr.parents.end());
    out.push_back(std::move(gr));
  }
  std::sort(out.begin(), out.end(), [](const group& a, const group& b) {
    return a.ids.size() != b.ids.size() ? a.ids.size() > b.ids.size() : a.ids[0] < b.ids[0];
  });
  return out;
}

constexpr std::size_t ids_shown = 10;
constexpr std::size_t json_ids_max = 100;

void write_text(std::ostream& out, const std::vector<goroutine_info>& gs) {
  for (const group& gr : group_by_site(gs)) {
    const goroutine_info& g = *gr.first;
    const std::size_t n = gr.ids.size();
    out << n << (n == 1 ? " goroutine @ " : " goroutines @ ")
        << (g.created_at.empty() ? "(unknown site)" : g.created_at);
    if (!g.function.empty() && g.created_at.find(g.function) == std::string::npos) {
      out << " in " << g.function;
    }
    out << " [" << g.state;
    if (!gr.workers.empty()) {
      out << " on worker";
      for (std::size_t i = 0; i < gr.workers.size() && i < ids_shown; ++i) {
        out << (i == 0 ? " " : ",") << gr.workers[i];
      }
    }
    if (gr.longest.count() > 0) out << ", " << format_age(gr.longest);
    out << "]\n    " << (n == 1 ? "id" : "ids");
    for (std::size_t i = 0; i < n && i < ids_shown; ++i) out << ' ' << gr.ids[i];
    if (n > ids_shown) out << " ... (" << n << ")";
    if (gr.parents.size() == 1 && gr.parents[0] != 0) {
      out << ", created by goroutine " << gr.parents[0];
    } else if (gr.parents.size() > 1) {
      out << ", created by " << gr.parents.size() << " goroutines";
    }
    out << '\n';
  }
}

void write_json(std::ostream& out, const std::vector<goroutine_info>& gs) {
  out << "{\"goroutines\": " << gs.size() << ", \"groups\": [";
  bool first_group = true;
  for (const group& gr : group_by_site(gs)) {
    const goroutine_info& g = *gr.first;
    out << (first_group ? "" : ", ") << "{\"count\": " << gr.ids.size()
        << ", \"created_at\": " << json_string(g.created_at)
        << ", \"function\": " << json_string(g.function) << ", \"state\": " << json_string(g.state)
        << ", \"longest_ms\": " << gr.longest.count() << ", \"ids\": [";
    for (std::size_t i = 0; i < gr.ids.size() && i < json_ids_max; ++i) {
      out << (i == 0 ? "" : ", ") << gr.ids[i];
    }
    out << "], \"parents\": [";
    for (std::size_t i = 0; i < gr.parents.size() && i < json_ids_max; ++i) {
      out << (i == 0 ? "" : ", ") << gr.parents[i];
    }
    out << "]}";
    first_group = false;
  }
  out << "]}\n";
}

void write_stderr(const std::string& s) noexcept {
  std::fwrite(s.data(), 1, s.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

void preload_symbols() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      std::thread([] { symbols(); }).detach();
    } catch (const std::system_error&) {
      // no thread: the first symbolize_call reads the debug information itself
    }
  });
}

std::string demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string s = status == 0 && d != nullptr ? d : name;
  std::free(d);
  return s;
}

std::vector<source_frame> symbolize_call(std::uintptr_t return_address) {
  std::vector<source_frame> out;
  if (return_address == 0) return out;
  // libbacktrace (not instrumented) publishes the tables it reads lazily through its own
  // atomics, which ThreadSanitizer does not see: it would report the callbacks' reads of
  // its strings as races with the first reader's copies. Its work is not recorded.
  sched::tsan_quiet quiet;
  const std::uintptr_t call = return_address - 1;
  backtrace_pcinfo(
      symbols(), call,
      [](void* data, std::uintptr_t, const char* file, int line, const char* function) -> int {
        if (file == nullptr) return 0;  // no line tables for this address
        static_cast<std::vector<source_frame>*>(data)->push_back(
            {.function = function ? function : "", .file = file ? file : "", .line = line});
        return 0;
      },
      [](void*, const char*, int) {}, &out);
  if (!out.empty()) return out;
  backtrace_syminfo(
      symbols(), call,
      [](void* data, std::uintptr_t, const char* name, std::uintptr_t value, std::uintptr_t) {
        if (name != nullptr) {
          static_cast<std::vector<source_frame>*>(data)->push_back(
              {.function = name, .symbol_addr = value});
        }
      },
      [](void*, const char*, int) {}, &out);
  return out;
}

goroutine_info describe(const sched::goroutine_view& v, std::int64_t now) {
  goroutine_info g;
  g.id = v.id;
  g.parent = v.parent;
  const site s = site_of(v.created_pc);
  g.created_at = s.at;
  g.function = s.function;
  switch (v.state) {
    case sched::fiber_state::running:
      g.state = "running";
      g.worker = v.worker;
      break;
    case sched::fiber_state::runnable:
      g.state = "runnable";
      break;
    default:
      g.state = v.wait_reason;
      break;
  }
  g.in_state = age(v.since_ns, now);
  return g;
}

void report_stuck(const sched::goroutine_view& v, std::int64_t held_ns) {
  const goroutine_info g = describe(v, now_ns());
  std::ostringstream s;
  s << "rt: goroutine " << g.id << " has held worker " << g.worker << " for " << held_ns / 1'000'000
    << " ms without parking or yielding (created at "
    << (g.created_at.empty() ? "(unknown site)" : g.created_at);
  if (g.parent != 0) s << " by goroutine " << g.parent;
  s << "): a blocking call belongs in rt::blocking, a long computation can rt::yield\n";
  write_stderr(s.str());
}

std::string count(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " goroutine" : " goroutines");
}

void report_deadlock() {
  std::ostringstream s;
  const std::vector<goroutine_info> gs = goroutines();
  s << "rt: fatal error: all goroutines are asleep - deadlock!\n\n" << count(gs.size()) << ":\n";
  dump_goroutines(s, gs);
  std::fflush(stdout);
  write_stderr(s.str());
  sched::exit_now();
}

void report_dump() {
  std::ostringstream s;
  const std::vector<goroutine_info> gs = goroutines();
  s << "SIGQUIT: goroutine dump (the program goes on), " << count(gs.size()) << ":\n";
  dump_goroutines(s, gs);
  write_stderr(s.str());
}

void report_alive(std::uint64_t main_id) {
  std::vector<goroutine_info> gs = goroutines();
  std::erase_if(gs, [main_id](const goroutine_info& g) { return g.id == main_id; });
  std::ostringstream s;
  dump_goroutines(s, gs);
  write_stderr(s.str());
}

}  // namespace detail

std::vector<goroutine_info> goroutines() {
  const std::vector<sched::goroutine_view> views = sched::goroutines();
  const std::int64_t now = detail::now_ns();  // before symbolising, which may take a while
  detail::resolve(views, true);
  std::vector<goroutine_info> out;
  out.reserve(views.size());
  for (const sched::goroutine_view& v : views) out.push_back(detail::describe(v, now));
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.id < b.id; });
  return out;
}

goroutine_info current_goroutine() {
  const sched::goroutine_view v = sched::self_view();
  if (v.id == 0) return {};
  // Never parks: the hub calls it from catch blocks, and a goroutine that parks in one
  // may resume on another thread, which does not know the exception being handled.
  detail::resolve({v}, false);
  return detail::describe(v, 0);  // in_state 0: how long it has run is not known here
}

void dump_goroutines(std::ostream& out, const std::vector<goroutine_info>& gs, dump_format format) {
  if (format == dump_format::json) {
    detail::write_json(out, gs);
  } else {
    detail::write_text(out, gs);
  }
}

void dump_goroutines(std::ostream& out, dump_format format) {
  dump_goroutines(out, goroutines(), format);
}

leak_check::leak_check() {
  for (const goroutine_info& g : goroutines()) before_.insert(g.id);
}

std::vector<goroutine_info> leak_check::leaked(std::chrono::milliseconds grace) const {
  const auto deadline = sched::clock::now() + grace;
  const std::uint64_t self = current_goroutine().id;
  for (;;) {
    std::vector<goroutine_info> left;
    for (goroutine_info& g : goroutines()) {
      if (g.id != self && before_.count(g.id) == 0) left.push_back(std::move(g));
    }
    if (left.empty() || sched::clock::now() >= deadline) return left;
    sleep_for(std::chrono::milliseconds(5));
  }
}

std::string leak_check::verify(std::chrono::milliseconds grace) const {
  const std::vector<goroutine_info> left = leaked(grace);
  if (left.empty()) return "";
  std::ostringstream s;
  s << detail::count(left.size()) << " leaked:\n";
  dump_goroutines(s, left);
  return s.str();
}

}  // namespace rt
