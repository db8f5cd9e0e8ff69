// panic_test.cpp — an exception escaping a goroutine is captured on that goroutine's hub
// (its tags and breadcrumbs, level fatal) before the runtime's panic policy applies.
// Linked with rt_test_main_continue: the session runs under report_and_continue, so the panics
// this test provokes do not end the process.
#include <doctest/doctest.h>

#include <stdexcept>

#include "support.hpp"

TEST_CASE("a panic is captured on the panicking goroutine's hub") {
  hubtest::memory_client mc;
  rt::current_hub().bind_client(mc.client);
  rt::configure_scope([](rt::scope& s) { s.set_tag("where", "parent"); });
  // wg.go's done() comes after the panic was reported (observers included), so wait()
  // returning means the capture has happened.
  rt::wait_group wg;
  const int line = __LINE__ + 1;
  wg.go([] {
    rt::configure_scope([](rt::scope& s) { s.set_tag("where", "panicking child"); });
    rt::add_breadcrumb({.message = "about to fail"});
    throw std::runtime_error("boom");
  });
  wg.go([] {
    rt::current_hub().bind_client(nullptr);  // no client: nothing is captured
    throw std::runtime_error("unreported");
  });
  wg.wait();
  const auto events = mc.events();
  REQUIRE(events.size() == 1);
  const rt::event& ev = events[0];
  CHECK(ev.level == rt::level::fatal);
  CHECK(ev.tags.at("where") == "panicking child");
  REQUIRE(ev.breadcrumbs.size() == 1);
  CHECK(ev.breadcrumbs[0].message == "about to fail");
  REQUIRE(ev.exception.size() == 1);
  CHECK(ev.exception[0].type == "std::runtime_error");
  CHECK(ev.exception[0].value == "boom");
  // The panicking goroutine's context: its id, its parent and where it was started.
  const rt::json& g = ev.contexts.at("goroutine");
  CHECK(g.at("id").get<std::uint64_t>() != rt::goroutine_id());
  CHECK(g.at("parent_id").get<std::uint64_t>() == rt::goroutine_id());
  const std::string site = g.at("created_at").get<std::string>();
  const std::string want = "panic_test.cpp:" + std::to_string(line);
  CHECK(site.substr(site.size() - std::min(site.size(), want.size())) == want);
  CHECK(hubtest::event_schema_errors(ev) == "");
  CHECK(rt::current_hub().scope().tags().at("where") == "parent");
}

TEST_CASE("a before_send that throws on a panic's event does not lose the event") {
  for (int round = 0; round < 20; ++round) {
    hubtest::memory_client mc({.before_send = [](rt::event) -> std::optional<rt::event> {
      throw std::runtime_error("before_send failed");
    }});
    rt::wait_group wg;
    wg.go([&mc] {
      rt::current_hub().bind_client(mc.client);
      throw std::runtime_error("boom " + std::to_string(rt::goroutine_id()));
    });
    wg.wait();
    const auto events = mc.events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].level == rt::level::fatal);
    REQUIRE(events[0].exception.size() == 1);
    CHECK(events[0].exception[0].value.rfind("boom ", 0) == 0);
  }
}
