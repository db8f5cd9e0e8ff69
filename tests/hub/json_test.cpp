// json_test.cpp — every kind of event the hub produces validates against Sentry's event
// schema; the canonical forms; timestamps; the envelope format.
#include <doctest/doctest.h>

#include <stdexcept>

#include "support.hpp"

using namespace std::chrono_literals;
using hubtest::event_schema_errors;
using hubtest::memory_client;
using hubtest::schema_errors;

namespace {

// A hub whose scope has every field set.
void fill_scope(rt::scope& s) {
  s.set_tag("tag", "v");
  s.set_extra("number", 1.5);
  s.set_extra("list", rt::json::array({1, "two", nullptr}));
  s.set_context("os", {{"name", "linux"}});
  s.set_context("custom", {{"deep", {{"x", true}}}});
  s.set_user({.id = "1",
              .email = "a@b.c",
              .ip_address = "127.0.0.1",
              .username = "u",
              .name = "N",
              .data = {{"plan", "free"}}});
  s.set_fingerprint({"{{ default }}", "extra"});
  s.set_transaction("GET /items");
  s.add_breadcrumb({.type = "http",
                    .category = "net",
                    .message = "GET /",
                    .level = rt::level::warning,
                    .data = {{"status", 200}}});
  s.add_breadcrumb({.message = "bare"});
}

}  // namespace

TEST_CASE("the validator really checks: legacy and wrong forms are rejected") {
  CHECK(schema_errors(R"({"event_id":"0123456789abcdef0123456789abcdef"})") == "");
  CHECK(schema_errors(R"({"message":"legacy"})") != "");
  CHECK(schema_errors(R"({"breadcrumbs":[]})") != "");
  CHECK(schema_errors(R"({"exception":[]})") != "");
  CHECK(schema_errors(R"({"sdk":{}})") != "");
  CHECK(schema_errors(R"({"level":"critical"})") != "");
  CHECK(schema_errors(R"({"user":{"unknown":1}})") != "");
  CHECK(schema_errors(R"({"unknown":1})") != "");
}

TEST_CASE("every kind of captured event validates against event.schema.json") {
  memory_client mc({.release = "app@1", .environment = "test", .dist = "3"});
  rt::hub h(mc.client);
  h.capture_message("plain message");  // message, bare scope
  fill_scope(h.scope());
  h.capture_message("full scope", rt::level::debug);                      // every scope field
  h.capture_exception(std::make_exception_ptr(std::runtime_error("x")));  // one exception
  try {
    try {
      throw std::invalid_argument("inner");
    } catch (...) {
      std::throw_with_nested(std::runtime_error("outer"));
    }
  } catch (...) {
    h.capture_exception(std::current_exception());  // a chain
  }
  h.capture_exception(std::make_exception_ptr(42));               // non-std exception
  h.capture_message("");                                          // usage error
  h.capture_exception(nullptr);                                   // usage error
  h.recover(std::make_exception_ptr(std::logic_error("panic")));  // fatal exception
  h.recover(std::make_exception_ptr("panic text"));               // fatal message
  h.recover(std::make_exception_ptr(7));                          // unknown thrown type
  rt::event custom;
  custom.message = "custom";
  custom.logger = "my.logger";
  custom.server_name = "host";
  custom.exception.push_back(
      {.type = "T",
       .value = "v",
       .frames = {
           {.function = "main", .filename = "a.cpp", .lineno = 3, .instruction_addr = 0x1234}}});
  custom.contexts["trace-like"] = rt::json::object();
  h.capture_event(custom);  // frames, all fields
  h.capture_event({});      // empty event
  auto events = mc.events();
  CHECK(events.size() == 12);
  for (const rt::event& ev : events) {
    INFO(rt::event_json_line(ev));
    CHECK(event_schema_errors(ev) == "");
  }
}

TEST_CASE("canonical forms: logentry, values containers, RFC 3339 UTC, no empty keys") {
  const std::string sdk =
      R"({"name":"rt.cpp","version":"0.1.0","integrations":["Environment","GoroutineContext",)"
      R"("PanicObserver"],"packages":[{"name":"rt.cpp","version":"0.1.0"}]})";
  memory_client mc;
  rt::hub h(mc.client);
  fill_scope(h.scope());
  h.capture_exception(std::make_exception_ptr(std::runtime_error("x")));
  h.capture_message("hello");
  const auto events = mc.events();
  const auto ex = rt::event_to_json(events[0]);
  CHECK(ex["exception"]["values"].size() == 1);
  CHECK(ex["breadcrumbs"]["values"].size() == 2);
  CHECK_FALSE(ex.contains("logentry"));
  CHECK_FALSE(ex.contains("message"));
  const auto msg = rt::event_to_json(events[1]);
  CHECK(msg["logentry"]["formatted"] == "hello");
  CHECK_FALSE(msg.contains("exception"));
  CHECK(msg["platform"] == "native");
  CHECK(msg["sdk"] == nlohmann::ordered_json::parse(sdk));
  CHECK(msg["user"]["data"]["plan"] == "free");
  const auto empty = rt::event_to_json(rt::event{});
  CHECK(empty.dump() == R"({"sdk":)" + sdk + "}");
  CHECK(rt::format_timestamp(rt::timestamp{}) == "1970-01-01T00:00:00Z");
  CHECK(rt::format_timestamp(rt::timestamp{} + 1721901600s + 123456us) ==
        "2024-07-25T10:00:00.123456Z");
}

TEST_CASE("invalid UTF-8 never makes serialisation throw") {
  rt::event ev;
  ev.message = std::string("bad \xff byte");
  std::string line;
  CHECK_NOTHROW(line = rt::event_json_line(ev));
  CHECK(line.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD
}

TEST_CASE("envelope: the golden example byte for byte") {
  const rt::dsn d = rt::dsn::parse("http://public@example.com/sentry/1");
  const std::string env =
      rt::make_envelope("b81c5be4d31e48959103a1f878a1efcb", rt::timestamp{}, &d, "sentry.go",
                        "0.0.1", R"({"type":"event","fields":"omitted"})");
  CHECK(env ==
        "{\"event_id\":\"b81c5be4d31e48959103a1f878a1efcb\",\"sent_at\":\"1970-01-01T00:00:00Z\","
        "\"dsn\":\"http://public@example.com/sentry/"
        "1\",\"sdk\":{\"name\":\"sentry.go\",\"version\":\"0.0.1\"}}\n"
        "{\"type\":\"event\",\"length\":35}\n"
        "{\"type\":\"event\",\"fields\":\"omitted\"}\n");
  const std::string no_dsn = rt::make_envelope("id", rt::timestamp{}, nullptr, "n", "v", "{}");
  CHECK(no_dsn ==
        "{\"event_id\":\"id\",\"sent_at\":\"1970-01-01T00:00:00Z\",\"sdk\":{\"name\":\"n\","
        "\"version\":\"v\"}}\n"
        "{\"type\":\"event\",\"length\":2}\n{}\n");
}

TEST_CASE("envelope of an event: its id, its payload length, a valid payload") {
  memory_client mc;
  rt::hub h(mc.client);
  h.capture_message("héllo");  // multi-byte: length counts bytes
  const rt::event ev = mc.events().at(0);
  const rt::dsn d = rt::dsn::parse("https://pub:sec@host/42");
  const std::string env = rt::make_envelope(ev, &d);
  const auto first = env.find('\n'), second = env.find('\n', first + 1);
  const auto header = nlohmann::json::parse(env.substr(0, first));
  const auto item = nlohmann::json::parse(env.substr(first + 1, second - first - 1));
  const std::string payload = env.substr(second + 1, env.size() - second - 2);
  CHECK(env.back() == '\n');
  CHECK(header["event_id"] == ev.event_id);
  CHECK(header["dsn"] == "https://pub:sec@host/42");
  CHECK(item["type"] == "event");
  CHECK(item["length"] == payload.size());
  CHECK(schema_errors(payload) == "");
}
