// logging_test.cpp — spdlog integration: log records become breadcrumbs on the logging
// goroutine's hub only; the %g flag prints the goroutine id; the log transport writes one
// JSON line per event.
#include <doctest/doctest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include <rt/hub/logging.hpp>

#include "support.hpp"

namespace {

std::shared_ptr<spdlog::logger> crumb_logger() {
  auto logger = std::make_shared<spdlog::logger>("app", std::make_shared<rt::breadcrumb_sink>());
  logger->set_level(spdlog::level::trace);
  return logger;
}

}  // namespace

TEST_CASE("log records become breadcrumbs on the logging goroutine's hub only") {
  auto logger = crumb_logger();
  rt::wait_group wg;
  wg.go([logger] {
    rt::wait_group inner;
    inner.go([logger] {
      logger->warn("child says {}", 1);
      auto crumbs = rt::current_hub().scope().breadcrumbs();
      REQUIRE(crumbs.size() == 1);
      CHECK(crumbs[0].message == "child says 1");
      CHECK(crumbs[0].category == "app");
      CHECK(crumbs[0].type == "log");
      CHECK(crumbs[0].level == rt::level::warning);
      CHECK(crumbs[0].timestamp != rt::timestamp{});
    });
    inner.wait();
    CHECK(rt::current_hub().scope().breadcrumbs().empty());
    logger->critical("parent");
    logger->trace("fine");
    auto crumbs = rt::current_hub().scope().breadcrumbs();
    REQUIRE(crumbs.size() == 2);
    CHECK(crumbs[0].level == rt::level::fatal);
    CHECK(crumbs[1].level == rt::level::debug);
  });
  wg.wait();
}

TEST_CASE("the breadcrumb sink goes through the client's rules") {
  rt::wait_group wg;
  wg.go([] {
    hubtest::memory_client mc(
        {.before_breadcrumb = [](rt::breadcrumb b) -> std::optional<rt::breadcrumb> {
          if (b.message.starts_with("secret")) return std::nullopt;
          return b;
        }});
    rt::current_hub().bind_client(mc.client);
    auto logger = crumb_logger();
    logger->info("secret token");
    logger->info("public");
    rt::capture_message("m");
    auto ev = mc.events().at(0);
    REQUIRE(ev.breadcrumbs.size() == 1);
    CHECK(ev.breadcrumbs[0].message == "public");
  });
  wg.wait();
}

TEST_CASE("%g prints the goroutine id") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("g", sink);
  logger->set_formatter(rt::make_log_formatter("[g%g] %v"));
  std::uint64_t id = 0;
  rt::wait_group wg;
  wg.go([&] {
    id = rt::goroutine_id();
    logger->info("hi");
  });
  wg.wait();
  CHECK(id != 0);
  CHECK(out.str() == "[g" + std::to_string(id) + "] hi\n");
}

TEST_CASE("the log transport writes each event as one JSON line") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("events", sink);
  logger->set_pattern("%l %v");
  auto c = std::make_shared<rt::client>(
      rt::client_options{.transport = std::make_shared<rt::log_transport>(logger)});
  rt::hub h(c);
  h.scope().set_tag("job", "7");
  const std::string id = h.capture_message("line one\nline two", rt::level::warning);
  CHECK(h.flush(std::chrono::seconds(1)));
  const std::string text = out.str();
  REQUIRE(text.starts_with("warning {"));
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);  // the message's newline is escaped
  const auto json = nlohmann::json::parse(text.substr(text.find('{')));
  CHECK(json["event_id"] == id);
  CHECK(json["tags"]["job"] == "7");
  CHECK(hubtest::schema_errors(json.dump()) == "");
}
