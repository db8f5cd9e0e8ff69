// client_test.cpp — rt::client: options, the capture pipeline's order and defaults,
// sampling, usage errors, exception chains, event ids.
#include <doctest/doctest.h>

#include <cstdlib>
#include <regex>
#include <set>
#include <stdexcept>

#include "support.hpp"

using hubtest::memory_client;

TEST_CASE("client_options take designated initializers in the documented order") {
  rt::client_options o{.dsn = "",
                       .release = "app@1",
                       .environment = "prod",
                       .server_name = "srv",
                       .dist = "7",
                       .sample_rate = 1.0,
                       .max_breadcrumbs = 10,
                       .attach_stacktrace = false,
                       .debug = false,
                       .before_send = nullptr,
                       .before_breadcrumb = nullptr,
                       .transport = std::make_shared<rt::memory_transport>()};
  rt::client c(o);
  CHECK(c.options().max_breadcrumbs == 10);
  CHECK(rt::client_options{}.max_breadcrumbs == 100);
  CHECK(rt::client_options{}.sample_rate == 1.0);
}

TEST_CASE("defaults fill empty fields; platform and sdk are always ours") {
  memory_client mc({.release = "app@1", .environment = "prod", .server_name = "srv", .dist = "d1"});
  rt::event given;
  given.event_id = "0123456789abcdef";  // kept as is, even malformed
  given.release = "mine";
  given.platform = "python";
  const std::string id = mc.client->capture_event(given, {}, nullptr);
  CHECK(id == "0123456789abcdef");
  mc.client->capture_message("m", rt::level::info, {}, nullptr);
  auto ev = mc.events();
  CHECK(ev[0].release == "mine");
  CHECK(ev[0].platform == "native");
  CHECK(ev[0].level == rt::level::info);
  CHECK(ev[1].release == "app@1");
  CHECK(ev[1].environment == "prod");
  CHECK(ev[1].server_name == "srv");
  CHECK(ev[1].dist == "d1");
  CHECK(ev[1].timestamp != rt::timestamp{});
  CHECK(rt::event_to_json(ev[1])["sdk"]["name"] == "rt.cpp");
}

TEST_CASE("server_name defaults to the host name; release and environment to the environment") {
  ::setenv("SENTRY_RELEASE", "from-env@2", 1);
  ::setenv("SENTRY_ENVIRONMENT", "staging", 1);
  memory_client mc;
  ::unsetenv("SENTRY_RELEASE");
  ::unsetenv("SENTRY_ENVIRONMENT");
  CHECK(mc.client->options().release == "from-env@2");
  CHECK(mc.client->options().environment == "staging");
  CHECK_FALSE(mc.client->options().server_name.empty());
}

TEST_CASE("the pipeline runs in the spec's order: scope, client processors, before_send") {
  std::vector<std::string> order;
  rt::scope s;
  s.set_level(rt::level::debug);
  s.add_event_processor([&](rt::event ev, const rt::event_hint&) -> std::optional<rt::event> {
    order.push_back("scope:" +
                    std::string(rt::to_string(*ev.level)));  // the scope level already won
    return ev;
  });
  memory_client mc({.before_send = [&](rt::event ev) -> std::optional<rt::event> {
    order.push_back("before_send");
    ev.tags["sent"] = "yes";
    return ev;
  }});
  mc.client->add_event_processor(
      [&](rt::event ev, const rt::event_hint&) -> std::optional<rt::event> {
        order.push_back("client1");
        return ev;
      });
  mc.client->add_event_processor(
      [&](rt::event ev, const rt::event_hint&) -> std::optional<rt::event> {
        order.push_back("client2");
        return ev;
      });
  mc.client->capture_message("m", rt::level::info, {}, &s);
  CHECK(order == std::vector<std::string>{"scope:debug", "client1", "client2", "before_send"});
  CHECK(mc.events().at(0).tags.at("sent") == "yes");
  CHECK(mc.events().at(0).level == rt::level::debug);
}

TEST_CASE("a drop anywhere returns no id and sends nothing") {
  auto drop = [](rt::event, const rt::event_hint&) -> std::optional<rt::event> {
    return std::nullopt;
  };
  SUBCASE("client processor") {
    int before_send = 0;
    memory_client mc({.before_send = [&](rt::event ev) -> std::optional<rt::event> {
      ++before_send;
      return ev;
    }});
    mc.client->add_event_processor(drop);
    CHECK(mc.client->capture_message("m", rt::level::info, {}, nullptr).empty());
    CHECK(before_send == 0);
    CHECK(mc.events().empty());
  }
  SUBCASE("before_send") {
    memory_client mc(
        {.before_send = [](rt::event) -> std::optional<rt::event> { return std::nullopt; }});
    CHECK(mc.client->capture_message("m", rt::level::info, {}, nullptr).empty());
    CHECK(mc.events().empty());
  }
}

TEST_CASE("sampling comes first: a sampled-out event reaches no hook") {
  int hooks = 0;
  memory_client mc(
      {.sample_rate = 0.0, .before_send = [&](rt::event ev) -> std::optional<rt::event> {
         ++hooks;
         return ev;
       }});
  rt::scope s;
  s.add_event_processor([&](rt::event ev, const rt::event_hint&) -> std::optional<rt::event> {
    ++hooks;
    return ev;
  });
  for (int i = 0; i < 100; ++i)
    CHECK(mc.client->capture_message("m", rt::level::info, {}, &s).empty());
  CHECK(hooks == 0);
  CHECK(mc.events().empty());
}

TEST_CASE("sample_rate keeps about that share of events") {
  memory_client mc({.sample_rate = 0.5});
  for (int i = 0; i < 4000; ++i) mc.client->capture_message("m", rt::level::info, {}, nullptr);
  const auto kept = mc.events().size();
  // Binomial(4000, 0.5): mean 2000, sd 32; these bounds are 12 sd away.
  CHECK(kept > 1600);
  CHECK(kept < 2400);
}

TEST_CASE("usage errors replace empty messages and null exceptions") {
  memory_client mc;
  mc.client->capture_message("", rt::level::warning, {}, nullptr);
  mc.client->capture_exception(nullptr, {}, nullptr);
  auto ev = mc.events();
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].exception.at(0).type == "sentry.usageError");
  CHECK(ev[0].exception.at(0).value == "CaptureMessage called with empty message");
  CHECK(ev[0].level == rt::level::warning);
  CHECK(ev[1].exception.at(0).value == "CaptureException called with nil error");
  CHECK(ev[1].level == rt::level::error);
}

TEST_CASE("exception chains are innermost first with linked mechanisms") {
  std::exception_ptr e;
  try {
    try {
      throw std::out_of_range("inner");
    } catch (...) {
      std::throw_with_nested(std::runtime_error("outer"));
    }
  } catch (...) {
    e = std::current_exception();
  }
  memory_client mc;
  mc.client->capture_exception(e, {}, nullptr);
  const rt::event ev = mc.events().at(0);
  REQUIRE(ev.exception.size() == 2);
  CHECK(ev.level == rt::level::error);
  CHECK(ev.exception[0].type == "std::out_of_range");
  CHECK(ev.exception[0].value == "inner");
  CHECK(ev.exception[0].mechanism->type == "chained");
  CHECK(ev.exception[0].mechanism->exception_id == 1);
  CHECK(ev.exception[0].mechanism->parent_id == 0);
  CHECK(ev.exception[1].value == "outer");
  CHECK(ev.exception[1].type.find("std::runtime_error") != std::string::npos);
  CHECK(ev.exception[1].mechanism->type == "generic");
  CHECK_FALSE(ev.exception[1].mechanism->parent_id.has_value());
  CHECK(rt::exception_chain(std::make_exception_ptr(std::logic_error("one"))).at(0).mechanism ==
        std::nullopt);
  CHECK(rt::exception_chain(nullptr).empty());
  CHECK(rt::exception_chain(std::make_exception_ptr(3.5)).at(0).type == "double");
}

TEST_CASE("event ids are uuid4, 32 lowercase hex digits, unique") {
  const std::regex uuid4("[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}");
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = rt::new_event_id();
    REQUIRE(std::regex_match(id, uuid4));
    seen.insert(std::move(id));
  }
  CHECK(seen.size() == 10000);
}

TEST_CASE("a bad DSN fails client construction, naming the problem") {
  CHECK_THROWS_WITH_AS(rt::client({.dsn = "ftp://public@host/1"}),
                       "[Sentry] DsnParseError: invalid scheme", rt::dsn_error);
  CHECK_THROWS_AS(rt::init_client({.dsn = "https://public@host/"}), rt::dsn_error);
}

TEST_CASE("an empty dsn option falls back to $SENTRY_DSN") {
  ::setenv("SENTRY_DSN", "http://pub@127.0.0.1:9/1", 1);
  rt::client c({});
  ::unsetenv("SENTRY_DSN");
  CHECK(c.options().dsn == "http://pub@127.0.0.1:9/1");
  CHECK(dynamic_cast<rt::http_transport*>(c.transport().get()) != nullptr);
  c.close();
  c.close();  // idempotent
}

TEST_CASE("an empty DSN and no transport: ids are returned, nothing is sent") {
  rt::client c({});
  CHECK(dynamic_cast<rt::noop_transport*>(c.transport().get()) != nullptr);
  CHECK(c.capture_message("m", rt::level::info, {}, nullptr).size() == 32);
  CHECK(c.flush(std::chrono::seconds(1)));
}
