// sdk_debug_test.cpp — client_options::debug (every event that is dropped or fails is
// logged as a "[Sentry] ..." line, with its reason) and the counters of client::stats()
// and rt::transport::stats(), against a real HTTP receiver on 127.0.0.1.
#include <doctest/doctest.h>

#include "support.hpp"

using namespace std::chrono_literals;
using hubtest::dsn_for;
using hubtest::gate;
using hubtest::http_answer;
using hubtest::http_receiver;
using hubtest::http_request;
using hubtest::line_sink;
using hubtest::patience;
using hubtest::url_for;

namespace {

struct debug_log {
  std::shared_ptr<line_sink> sink = std::make_shared<line_sink>();
  std::shared_ptr<spdlog::logger> logger = std::make_shared<spdlog::logger>("test", sink);
};

rt::transport_stats transport_part(const rt::client_stats& s) {
  return s;
}

}  // namespace

TEST_CASE("debug: a 500 is logged with its status, URL and a body excerpt") {
  http_receiver receiver([](const http_request&) {
    return http_answer{.status = 500, .body = "upstream exploded: " + std::string(300, 'x')};
  });
  debug_log log;
  auto c = std::make_shared<rt::client>(
      rt::client_options{.dsn = dsn_for(receiver), .debug = true, .debug_logger = log.logger});
  const std::string id = c->capture_message("boom", rt::level::error, {}, nullptr);
  REQUIRE(c->flush(patience));
  const std::string excerpt = "upstream exploded: " + std::string(200 - 19, 'x');
  CHECK(log.sink->lines() ==
        std::vector<std::string>{"[Sentry] event " + id + " failed: HTTP 500 from " +
                                 url_for(receiver) + ", body: \"" + excerpt + "\" (319 bytes)"});
  CHECK(log.sink->levels() == std::vector{spdlog::level::warn});
  CHECK(transport_part(c->stats()) == rt::transport_stats{.failed = 1});
}

TEST_CASE("debug off: the same failure is counted but nothing is logged") {
  http_receiver receiver([](const http_request&) { return http_answer{.status = 500}; });
  debug_log log;
  auto c = std::make_shared<rt::client>(
      rt::client_options{.dsn = dsn_for(receiver), .debug_logger = log.logger});
  c->capture_message("boom", rt::level::error, {}, nullptr);
  REQUIRE(c->flush(patience));
  CHECK(c->stats().failed == 1);
  CHECK(log.sink->lines().empty());
}

TEST_CASE("debug: a 429 and the events its rate limit drops name the category and deadline") {
  http_receiver receiver([](const http_request&) {
    return http_answer{.status = 429, .headers = {{"Retry-After", "60"}}};
  });
  debug_log log;
  auto c = std::make_shared<rt::client>(
      rt::client_options{.dsn = dsn_for(receiver), .debug = true, .debug_logger = log.logger});
  const std::string first = c->capture_message("first", rt::level::info, {}, nullptr);
  REQUIRE(c->flush(patience));
  const std::string second = c->capture_message("second", rt::level::info, {}, nullptr);
  const std::string third = c->capture_message("third", rt::level::info, {}, nullptr);
  REQUIRE(c->flush(patience));
  const auto lines = log.sink->lines();
  REQUIRE(lines.size() == 3);
  const std::string failed = "[Sentry] event " + first + " failed: HTTP 429 from " +
                             url_for(receiver) +
                             ", body: \"\"; rate limited (category error) until ";
  CHECK(lines[0].starts_with(failed));
  const std::string until = lines[0].substr(failed.size());
  CHECK(until.size() == std::string("2026-12-06T13:00:00.000000Z").size());
  CHECK(until.ends_with("Z"));
  CHECK(lines[1] ==
        "[Sentry] event " + second + " dropped: rate limited (category error) until " + until);
  CHECK(lines[2] ==
        "[Sentry] event " + third + " dropped: rate limited (category error) until " + until);
  CHECK(receiver.requests().size() == 1);
  CHECK(transport_part(c->stats()) == rt::transport_stats{.failed = 1, .rate_limited = 2});
}

TEST_CASE("debug: a reset connection and a refused one are logged with libcurl's error") {
  SUBCASE("reset") {
    http_receiver receiver([](const http_request&) { return http_answer{.reset = true}; });
    debug_log log;
    auto c = std::make_shared<rt::client>(
        rt::client_options{.dsn = dsn_for(receiver), .debug = true, .debug_logger = log.logger});
    const std::string id = c->capture_message("lost", rt::level::info, {}, nullptr);
    REQUIRE(c->flush(patience));
    const auto lines = log.sink->lines();
    REQUIRE(lines.size() == 1);
    const std::string head = "[Sentry] event " + id + " failed: ";
    const std::string tail = " (" + url_for(receiver) + ")";
    REQUIRE(lines[0].starts_with(head));
    REQUIRE(lines[0].ends_with(tail));
    const std::string error =
        lines[0].substr(head.size(), lines[0].size() - head.size() - tail.size());
    INFO("libcurl said: " << error);
    CHECK((error.find("reset") != std::string::npos ||
           error.find("Empty reply") != std::string::npos));
    CHECK(receiver.requests().size() == 1);  // the request arrived, no answer came back
    CHECK(transport_part(c->stats()) == rt::transport_stats{.failed = 1});
  }
  SUBCASE("nobody listening") {
    int port = 0;
    {
      http_receiver gone;
      port = gone.port();
    }
    debug_log log;
    auto c = std::make_shared<rt::client>(
        rt::client_options{.dsn = "http://pub@127.0.0.1:" + std::to_string(port) + "/42",
                           .debug = true,
                           .debug_logger = log.logger});
    const std::string id = c->capture_message("lost", rt::level::info, {}, nullptr);
    REQUIRE(c->flush(patience));
    const auto lines = log.sink->lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].starts_with("[Sentry] event " + id + " failed: "));
    CHECK(lines[0].find("onnect") != std::string::npos);  // "Couldn't connect", "Failed to connect"
    CHECK(transport_part(c->stats()) == rt::transport_stats{.failed = 1});
  }
}

TEST_CASE("debug: a full queue, and sends after close, are logged and counted") {
  gate arrived, release;
  http_receiver receiver([&](const http_request&) {
    arrived.open();
    release.wait();
    return http_answer{};
  });
  debug_log log;
  auto t = std::make_shared<rt::http_transport>(rt::dsn::parse(dsn_for(receiver)),
                                                rt::http_transport_options{.queue_size = 1});
  // A given transport gets the client's debug settings through configure().
  auto c = std::make_shared<rt::client>(
      rt::client_options{.debug = true, .transport = t, .debug_logger = log.logger});
  c->capture_message("in flight", rt::level::info, {}, nullptr);
  rt::blocking([&] { arrived.wait(); });
  c->capture_message("queued", rt::level::info, {}, nullptr);
  std::vector<std::string> dropped;
  for (int i = 0; i < 3; ++i)
    dropped.push_back(c->capture_message("dropped", rt::level::info, {}, nullptr));
  CHECK(c->stats().queue_full == 3);
  release.open();
  REQUIRE(c->flush(patience));
  c->close();
  const std::string after = c->capture_message("after close", rt::level::info, {}, nullptr);
  std::vector<std::string> expected;
  for (const std::string& id : dropped)
    expected.push_back("[Sentry] event " + id +
                       " dropped: the transport's queue is full (1 envelopes)");
  expected.push_back("[Sentry] event " + after + " dropped: the transport is closed");
  CHECK(log.sink->lines() == expected);
  CHECK(transport_part(c->stats()) ==
        rt::transport_stats{.sent = 2, .queue_full = 3, .dropped_closed = 1});
}

TEST_CASE("debug: events the client drops are logged and counted by reason") {
  debug_log log;
  SUBCASE("sampled out") {
    hubtest::memory_client mc(
        rt::client_options{.sample_rate = 0.0, .debug = true, .debug_logger = log.logger});
    CHECK(mc.client->capture_message("never", rt::level::info, {}, nullptr) == "");
    CHECK(mc.client->capture_message("never", rt::level::info, {}, nullptr) == "");
    CHECK(log.sink->lines() ==
          std::vector<std::string>(2, "[Sentry] event dropped: sampled out (sample_rate 0)"));
    CHECK(mc.client->stats().sampled_out == 2);
    CHECK(mc.client->stats().dropped_by_before_send == 0);
  }
  SUBCASE("before_send") {
    std::string seen;
    hubtest::memory_client mc(
        rt::client_options{.debug = true,
                           .before_send = [&](rt::event ev) -> std::optional<rt::event> {
                             seen = ev.event_id;
                             return std::nullopt;
                           },
                           .debug_logger = log.logger});
    CHECK(mc.client->capture_message("dropped", rt::level::info, {}, nullptr) == "");
    CHECK(log.sink->lines() ==
          std::vector<std::string>{"[Sentry] event " + seen + " dropped by before_send"});
    const rt::client_stats s = mc.client->stats();
    CHECK(s.dropped_by_before_send == 1);
    CHECK(s.sampled_out == 0);
    CHECK(s.dropped_by_event_processor == 0);
  }
  SUBCASE("event processors, the scope's and the client's") {
    hubtest::memory_client mc(rt::client_options{.debug = true, .debug_logger = log.logger});
    rt::scope dropping;
    dropping.add_event_processor(
        [](rt::event, const rt::event_hint&) -> std::optional<rt::event> { return std::nullopt; });
    CHECK(mc.client->capture_message("a", rt::level::info, {}, &dropping) == "");
    mc.client->add_event_processor(
        [](rt::event, const rt::event_hint&) -> std::optional<rt::event> { return std::nullopt; });
    CHECK(mc.client->capture_message("b", rt::level::info, {}, nullptr) == "");
    const auto lines = log.sink->lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].ends_with(" dropped by a scope event processor"));
    CHECK(lines[1].ends_with(" dropped by a client event processor"));
    CHECK(mc.client->stats().dropped_by_event_processor == 2);
    CHECK(mc.events().empty());
  }
}

TEST_CASE("stats through the transport interface, no downcast") {
  http_receiver receiver;
  std::shared_ptr<rt::transport> t =
      std::make_shared<rt::http_transport>(rt::dsn::parse(dsn_for(receiver)));
  rt::client c(rt::client_options{.transport = t});
  for (int i = 0; i < 5; ++i) c.capture_message("counted", rt::level::info, {}, nullptr);
  REQUIRE(c.flush(patience));
  CHECK(t->stats() == rt::transport_stats{.sent = 5});
  CHECK(c.stats().sent == 5);
  CHECK(std::make_shared<rt::memory_transport>()->stats() == rt::transport_stats{});
}

TEST_CASE("debug: the sync transport logs its failures too") {
  http_receiver receiver(
      [](const http_request&) { return http_answer{.status = 500, .body = "no"}; });
  debug_log log;
  auto t = std::make_shared<rt::http_sync_transport>(rt::dsn::parse(dsn_for(receiver)));
  rt::client c(rt::client_options{.debug = true, .transport = t, .debug_logger = log.logger});
  const std::string id = c.capture_message("sync", rt::level::info, {}, nullptr);
  CHECK(log.sink->lines() ==
        std::vector<std::string>{"[Sentry] event " + id + " failed: HTTP 500 from " +
                                 url_for(receiver) + ", body: \"no\""});
  CHECK(c.stats() == rt::client_stats{{.failed = 1}});
}
