// contexts.cpp — the contexts every event carries unless the user set them: the host's
// operating system, the device (machine), the runtime (rt) and the C++ toolchain (the
// compiler and its standard library), as Sentry's SDKs send them (internal.hpp).
//
// Forms: https://develop.sentry.dev/sdk/data-model/event-payloads/contexts/ (os: name,
// version, kernel_version; device: arch, processor_count, memory_size in bytes; runtime:
// name, version). sentry-go's "Environment" integration adds the same three contexts
// (https://github.com/getsentry/sentry-go, integrations.go).
//
// Owns: the process-wide default contexts, computed on first use.
// Invariant: computed once per process (a function-local static, so thread-safe) and
// immutable afterwards; every value is a JSON object with no empty field, whose type is its
// key (os, device, runtime: Sentry infers it, so it is not sent) or its "type" member.
// Every event copies these, so they are kept small: a member is a few allocations.
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "internal.hpp"
#include "rt/hub/client.hpp"

namespace rt::detail {
namespace {

// os_release_value: the value of `key` in /etc/os-release ("" when absent), quotes
// removed (https://www.freedesktop.org/software/systemd/man/os-release.html).
std::string os_release_value(const std::string& key) {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(key + "=")) continue;
    std::string v = line.substr(key.size() + 1);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
      v = v.substr(1, v.size() - 2);
    return v;
  }
  return "";
}

// put sets o[key] = value unless value is empty (the schema's "no empty field").
void put(json& o, const char* key, const std::string& value) {
  if (!value.empty()) o[key] = value;
}

json os_context(const utsname& u) {
  json o = json::object();  // its type is its key, "os"
  const std::string name = os_release_value("NAME");
  put(o, "name", name.empty() ? std::string(u.sysname) : name);
  put(o, "version", os_release_value("VERSION_ID"));
  put(o, "kernel_version", u.release);
  return o;
}

json device_context(const utsname& u) {
  json o = json::object();  // its type is its key, "device"
  put(o, "arch", u.machine);
  if (const long n = sysconf(_SC_NPROCESSORS_ONLN); n > 0) o["processor_count"] = n;
  struct sysinfo si {};
  if (sysinfo(&si) == 0) o["memory_size"] = static_cast<std::uint64_t>(si.totalram) * si.mem_unit;
  return o;
}

// The standard library rt was built against, as one string ("libstdc++ 12 (20220819)").
std::string stdlib_text() {
#if defined(_LIBCPP_VERSION)
  return "libc++ " + std::to_string(_LIBCPP_VERSION);
#elif defined(__GLIBCXX__)
  return "libstdc++ " + std::to_string(_GLIBCXX_RELEASE) + " (" + std::to_string(__GLIBCXX__) + ")";
#else
  return "unknown";
#endif
}

// The C++ toolchain: a runtime-typed context (its key is not "runtime"), with the standard
// library as a field of its own.
json compiler_context() {
#if defined(__clang__)
  json o{{"type", "runtime"}, {"name", "clang++"}, {"version", __clang_version__}};
#elif defined(__GNUC__)
  json o{{"type", "runtime"}, {"name", "g++"}, {"version", __VERSION__}};
#else
  json o{{"type", "runtime"}, {"name", "c++"}, {"version", std::to_string(__cplusplus)}};
#endif
  o["stdlib"] = stdlib_text();
  return o;
}

}  // namespace

const std::map<std::string, json>& default_contexts() {
  static const std::map<std::string, json> contexts = [] {
    utsname u{};
    if (uname(&u) != 0) u = utsname{};
    return std::map<std::string, json>{
        {"os", os_context(u)},
        {"device", device_context(u)},
        {"runtime", {{"name", "rt"}, {"version", sdk_version}}},
        {"compiler", compiler_context()},
    };
  }();
  return contexts;
}

}  // namespace rt::detail
