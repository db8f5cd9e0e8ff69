// event.cpp — the helpers of the event model: level spellings, event ids, exception
// chains with their throw sites (rt/hub/event.hpp, rt/hub/level.hpp).
//
// Owns: the per-thread buffer of kernel randomness event ids are cut from.
// Invariant: every id is a uuid4 (version and variant bits set) rendered as 32 lowercase
// hex digits; the random bytes come from getrandom() and are used once.
#include <cxxabi.h>
#include <sys/random.h>

#include <cerrno>
#include <system_error>
#include <typeinfo>

#include "rt/detail/symbolize.hpp"
#include "rt/hub/event.hpp"
#include "rt/hub/level.hpp"
#include "rt/hub/stacktrace.hpp"
#include "rt/scheduler/race.hpp"

namespace rt {

std::string_view to_string(level l) noexcept {
  switch (l) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warning:
      return "warning";
    case level::error:
      return "error";
    case level::fatal:
      return "fatal";
  }
  return "error";  // unreachable for a valid enumerator
}

bool user::empty() const noexcept {
  return id.empty() && email.empty() && ip_address.empty() && username.empty() && name.empty() &&
         data.empty();
}

namespace {

// Kernel randomness, fetched 4 KiB at a time so an id costs no system call on average.
class random_pool {
 public:
  void take(unsigned char* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (next_ == sizeof(buf_)) refill();
      out[i] = buf_[next_++];
    }
  }

 private:
  void refill() {
    std::size_t got = 0;
    while (got < sizeof(buf_)) {
      ssize_t r = getrandom(buf_ + got, sizeof(buf_) - got, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "rt::new_event_id: getrandom");
      }
      got += static_cast<std::size_t>(r);
    }
    next_ = 0;
  }
  unsigned char buf_[4096];
  std::size_t next_ = sizeof(buf_);
};

// type_name: the demangled dynamic type of a thrown object; std::throw_with_nested's
// wrapper (libstdc++'s std::_Nested_exception<T>, a T that is also a nested_exception) is
// named T, the type the user threw.
std::string type_name(const std::type_info& t) {
  std::string name = detail::demangle(t.name());
  constexpr std::string_view wrapper = "std::_Nested_exception<";
  if (name.starts_with(wrapper) && name.ends_with('>'))
    name = name.substr(wrapper.size(), name.size() - wrapper.size() - 1);
  return name;
}

constexpr int max_error_depth = 100;  // sentry-go's maxErrorDepth

}  // namespace

std::string new_event_id() {
  thread_local random_pool pool;
  unsigned char b[16];
  {
    sched::tsan_quiet quiet;  // per-thread, used between parks (rt/scheduler/race.hpp)
    pool.take(b, sizeof(b));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) {
    id[2 * i] = hex[b[i] >> 4];
    id[2 * i + 1] = hex[b[i] & 0x0F];
  }
  return id;
}

std::vector<exception_info> exception_chain(std::exception_ptr e) {
  std::vector<exception_info> outermost_first;
  while (e && static_cast<int>(outermost_first.size()) < max_error_depth) {
    std::exception_ptr inner;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      outermost_first.push_back({.type = type_name(typeid(x)), .value = x.what()});
      if (auto* nested = dynamic_cast<const std::nested_exception*>(&x))
        inner = nested->nested_ptr();
    } catch (const char* text) {
      outermost_first.push_back({.type = "const char*", .value = text ? text : ""});
    } catch (const std::string& text) {
      outermost_first.push_back({.type = "std::string", .value = text});
    } catch (...) {
      const std::type_info* t = abi::__cxa_current_exception_type();
      outermost_first.push_back({.type = t ? type_name(*t) : "unknown"});
    }
    outermost_first.back().frames = throw_stacktrace(e);
    e = inner;
  }
  if (outermost_first.size() > 1) {
    for (std::size_t i = 0; i < outermost_first.size(); ++i) {
      exception_mechanism m{.type = i == 0 ? "generic" : "chained",
                            .exception_id = static_cast<int>(i)};
      if (i > 0) {
        m.source = "nested";
        m.parent_id = static_cast<int>(i) - 1;
      }
      outermost_first[i].mechanism = m;
    }
  }
  return {std::make_move_iterator(outermost_first.rbegin()),
          std::make_move_iterator(outermost_first.rend())};
}

}  // namespace rt
