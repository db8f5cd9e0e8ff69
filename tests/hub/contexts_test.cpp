// contexts_test.cpp — what every event says about where it came from, as sentry-go's
// Environment integration does: contexts.os, contexts.device, contexts.runtime (rt) and the
// C++ toolchain (compiler, with its standard library), under what the user set; sdk.integrations
// and sdk.packages.
#include <doctest/doctest.h>

#include <sys/utsname.h>
#include <unistd.h>

#include "support.hpp"

using hubtest::memory_client;

namespace {

rt::event one_event(const rt::scope* s = nullptr) {
  memory_client mc;
  mc.client->capture_message("where am I", rt::level::info, {}, s);
  const auto events = mc.events();
  REQUIRE(events.size() == 1);
  return events[0];
}

}  // namespace

TEST_CASE("os, device and runtime describe this host and this build") {
  const rt::event ev = one_event();
  utsname u{};
  REQUIRE(uname(&u) == 0);
  const auto& os = ev.contexts.at("os");
  CHECK_FALSE(os.contains("type"));  // Sentry takes it from the key
  CHECK_FALSE(os["name"].get<std::string>().empty());
  CHECK(os["kernel_version"] == u.release);
  const auto& device = ev.contexts.at("device");
  CHECK(device["arch"] == u.machine);
  CHECK(device["processor_count"] == sysconf(_SC_NPROCESSORS_ONLN));
  CHECK(device["memory_size"].get<std::uint64_t>() ==
        static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE));
  CHECK(ev.contexts.at("runtime") == nlohmann::json{{"name", "rt"}, {"version", "0.1.0"}});
  const auto& compiler = ev.contexts.at("compiler");
  CHECK(compiler["type"] == "runtime");
  CHECK(compiler["name"] == "g++");
  CHECK(compiler["version"] == __VERSION__);
  CHECK(compiler["stdlib"] ==
        "libstdc++ " + std::to_string(_GLIBCXX_RELEASE) + " (" + std::to_string(__GLIBCXX__) + ")");
  CHECK(ev.contexts.size() == 5);  // os, device, runtime, compiler and goroutine
  CHECK(hubtest::event_schema_errors(ev) == "");
}

TEST_CASE("a context the user set is not replaced") {
  rt::scope s;
  s.set_context("os", {{"name", "MyOS"}});
  s.set_context("app", {{"app_name", "demo"}});
  const rt::event ev = one_event(&s);
  CHECK(ev.contexts.at("os") == nlohmann::json{{"name", "MyOS"}});
  CHECK(ev.contexts.at("app") == nlohmann::json{{"app_name", "demo"}});
  CHECK(ev.contexts.contains("device"));
  CHECK(ev.contexts.contains("goroutine"));
}

TEST_CASE("sdk: name, version, integrations and packages") {
  const auto j = rt::event_to_json(one_event());
  CHECK(j["sdk"]["name"] == "rt.cpp");
  CHECK(j["sdk"]["integrations"] ==
        nlohmann::ordered_json{"Environment", "GoroutineContext", "PanicObserver"});
  CHECK(j["sdk"]["packages"] ==
        nlohmann::ordered_json::parse(R"([{"name":"rt.cpp","version":"0.1.0"}])"));
}
