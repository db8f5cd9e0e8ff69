// hub_test.cpp — rt::hub on its own: layers, clone, bind_client, captures, last_event_id,
// breadcrumbs rules, recover, flush (sentry-go's Hub).
#include <doctest/doctest.h>

#include <stdexcept>

#include "support.hpp"

using namespace std::chrono_literals;
using hubtest::memory_client;

TEST_CASE("a new hub has one layer, a scope, and no last event id") {
  rt::hub h;
  CHECK(h.client() == nullptr);
  CHECK(h.last_event_id().empty());
  h.pop_scope();  // a depth-1 hub ignores pops
  h.scope().set_tag("still", "here");
  CHECK(h.scope().tags().at("still") == "here");
}

TEST_CASE("scope() is the live top scope; configure_scope writes persist") {
  memory_client mc;
  rt::hub h(mc.client);
  h.configure_scope([](rt::scope& s) { s.set_tag("a", "1"); });
  h.scope().set_tag("b", "2");
  h.capture_message("m");
  CHECK(mc.events().at(0).tags == std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("clone: one layer, same client, an equal but independent scope, no last id") {
  memory_client mc;
  rt::hub h(mc.client);
  h.scope().set_tag("base", "1");
  h.push_scope().set_tag("top", "1");
  h.capture_message("m");
  std::shared_ptr<rt::hub> c = h.clone();
  CHECK(c->client() == h.client());
  CHECK(&c->scope() != &h.scope());
  CHECK(c->scope().tags() == h.scope().tags());
  CHECK(c->last_event_id().empty());
  c->pop_scope();  // the clone has one layer: no-op
  CHECK(c->scope().tags().contains("top"));
  c->scope().set_tag("clone", "1");
  h.scope().set_tag("source", "1");
  CHECK_FALSE(h.scope().tags().contains("clone"));
  CHECK_FALSE(c->scope().tags().contains("source"));
}

TEST_CASE("push_scope copies the current scope at that moment") {
  rt::hub h;
  rt::scope& lower = h.scope();
  lower.set_tag("before", "1");
  rt::scope& pushed = h.push_scope();
  lower.set_tag("after", "1");  // only in layer 0
  CHECK(pushed.tags() == std::map<std::string, std::string>{{"before", "1"}});
  pushed.set_tag("pushed", "1");
  CHECK_FALSE(lower.tags().contains("pushed"));
  h.pop_scope();
  CHECK(&h.scope() == &lower);
}

TEST_CASE("with_scope pops afterwards, also when the callback throws") {
  memory_client mc;
  rt::hub h(mc.client);
  h.scope().set_tag("outer", "1");
  rt::scope* outer = &h.scope();
  const int r = h.with_scope([&](rt::scope& s) {
    s.set_tag("inner", "1");
    CHECK(&h.scope() == &s);
    h.capture_message("inside");
    return 7;
  });
  CHECK(r == 7);
  CHECK(&h.scope() == outer);
  CHECK_FALSE(h.scope().tags().contains("inner"));
  CHECK(mc.events().at(0).tags.contains("inner"));
  CHECK_THROWS_AS(h.with_scope([](rt::scope& s) {
    s.set_tag("doomed", "1");
    throw std::runtime_error("boom");
  }),
                  std::runtime_error);
  CHECK(&h.scope() == outer);
  CHECK_FALSE(h.scope().tags().contains("doomed"));
}

TEST_CASE("bind_client affects the top layer only; a client bound inside with_scope is discarded") {
  memory_client a, b;
  rt::hub h(a.client);
  h.push_scope();
  h.bind_client(b.client);
  CHECK(h.client() == b.client);
  h.pop_scope();
  CHECK(h.client() == a.client);
  h.with_scope([&](rt::scope&) { h.bind_client(b.client); });
  CHECK(h.client() == a.client);
  std::shared_ptr<rt::hub> earlier = h.clone();
  h.bind_client(nullptr);
  CHECK(h.capture_message("disabled").empty());
  CHECK(earlier->client() == a.client);  // clones keep the client they copied
}

TEST_CASE("captures return ids, update last_event_id, and a drop never resets it") {
  int drop = 0;
  memory_client mc({.before_send = [&](rt::event ev) -> std::optional<rt::event> {
    if (drop) return std::nullopt;
    return ev;
  }});
  rt::hub h(mc.client);
  const std::string m = h.capture_message("m");
  CHECK(m.size() == 32);
  CHECK(h.last_event_id() == m);
  const std::string x = h.capture_exception(std::make_exception_ptr(std::runtime_error("x")));
  CHECK(h.last_event_id() == x);
  rt::event ev;
  ev.message = "e";
  const std::string e = h.capture_event(ev);
  CHECK(h.last_event_id() == e);
  drop = 1;
  CHECK(h.capture_message("dropped").empty());
  CHECK(h.last_event_id() == e);
  auto events = mc.events();
  REQUIRE(events.size() == 3);
  CHECK(events[0].event_id == m);
  CHECK(events[1].event_id == x);
  CHECK(events[2].event_id == e);
}

TEST_CASE("without a client captures return nothing and flush is false") {
  rt::hub h;
  CHECK(h.capture_message("m").empty());
  CHECK(h.capture_exception(std::make_exception_ptr(1)).empty());
  CHECK(h.capture_event({}).empty());
  CHECK(h.recover(std::make_exception_ptr(1)).empty());
  CHECK(h.last_event_id().empty());
  CHECK_FALSE(h.flush(1s));
}

TEST_CASE("add_breadcrumb without a client keeps 100") {
  rt::hub h;
  for (int i = 0; i < 150; ++i) h.add_breadcrumb({.message = std::to_string(i)});
  auto crumbs = h.scope().breadcrumbs();
  REQUIRE(crumbs.size() == 100);
  CHECK(crumbs.front().message == "50");
  CHECK(crumbs.back().message == "149");
}

TEST_CASE("add_breadcrumb applies max_breadcrumbs and before_breadcrumb") {
  SUBCASE("max_breadcrumbs < 0 disables them and never calls the callback") {
    int calls = 0;
    memory_client mc({.max_breadcrumbs = -1,
                      .before_breadcrumb = [&](rt::breadcrumb b) -> std::optional<rt::breadcrumb> {
                        ++calls;
                        return b;
                      }});
    rt::hub h(mc.client);
    h.add_breadcrumb({.message = "x"});
    CHECK(calls == 0);
    CHECK(h.scope().breadcrumbs().empty());
  }
  SUBCASE("0 means 100") {
    memory_client mc({.max_breadcrumbs = 0});
    rt::hub h(mc.client);
    for (int i = 0; i < 120; ++i) h.add_breadcrumb({.message = "x"});
    CHECK(h.scope().breadcrumbs().size() == 100);
  }
  SUBCASE("the limit keeps the newest") {
    memory_client mc({.max_breadcrumbs = 2});
    rt::hub h(mc.client);
    for (auto m : {"a", "b", "c"}) h.add_breadcrumb({.message = m});
    auto crumbs = h.scope().breadcrumbs();
    REQUIRE(crumbs.size() == 2);
    CHECK(crumbs[0].message == "b");
    CHECK(crumbs[1].message == "c");
  }
  SUBCASE("before_breadcrumb sees an unset timestamp, may change or drop") {
    bool saw_unset = false;
    memory_client mc({.before_breadcrumb = [&](rt::breadcrumb b) -> std::optional<rt::breadcrumb> {
      saw_unset = b.timestamp == rt::timestamp{};
      if (b.message == "drop") return std::nullopt;
      b.category = "changed";
      return b;
    }});
    rt::hub h(mc.client);
    h.add_breadcrumb({.message = "keep"});
    h.add_breadcrumb({.message = "drop"});
    auto crumbs = h.scope().breadcrumbs();
    CHECK(saw_unset);
    REQUIRE(crumbs.size() == 1);
    CHECK(crumbs[0].category == "changed");
    CHECK(crumbs[0].timestamp != rt::timestamp{});
  }
  SUBCASE("a smaller client limit after a larger one keeps the newest entries") {
    memory_client big({.max_breadcrumbs = 10}), small({.max_breadcrumbs = 3});
    rt::hub h(big.client);
    for (int i = 0; i < 8; ++i) h.add_breadcrumb({.message = std::to_string(i)});
    h.bind_client(small.client);
    h.add_breadcrumb({.message = "new"});
    auto crumbs = h.scope().breadcrumbs();
    REQUIRE(crumbs.size() == 3);
    CHECK(crumbs[0].message == "6");
    CHECK(crumbs[1].message == "7");
    CHECK(crumbs[2].message == "new");
  }
}

TEST_CASE("recover: fatal level, exception or message, scope level wins, last id untouched") {
  memory_client mc;
  rt::hub h(mc.client);
  CHECK(h.recover(nullptr).empty());
  CHECK_FALSE(h.recover(std::make_exception_ptr(std::logic_error("bad"))).empty());
  CHECK_FALSE(h.recover(std::make_exception_ptr("text")).empty());
  CHECK_FALSE(h.recover(std::make_exception_ptr(std::string("string"))).empty());
  CHECK_FALSE(h.recover(std::make_exception_ptr(42)).empty());
  CHECK(h.last_event_id().empty());
  h.scope().set_level(rt::level::warning);
  h.recover(std::make_exception_ptr(std::logic_error("overridden")));
  auto ev = mc.events();
  REQUIRE(ev.size() == 5);
  CHECK(ev[0].level == rt::level::fatal);
  CHECK(ev[0].exception.at(0).type == "std::logic_error");
  CHECK(ev[0].exception.at(0).value == "bad");
  CHECK(ev[1].message == "text");
  CHECK(ev[2].message == "string");
  CHECK(ev[3].message == "unknown exception of type int");
  CHECK(ev[4].level == rt::level::warning);
}

TEST_CASE("hints reach event processors") {
  memory_client mc;
  std::exception_ptr seen_original, seen_recovered;
  mc.client->add_event_processor(
      [&](rt::event ev, const rt::event_hint& hint) -> std::optional<rt::event> {
        if (hint.original_exception) seen_original = hint.original_exception;
        if (hint.recovered_exception) seen_recovered = hint.recovered_exception;
        return ev;
      });
  rt::hub h(mc.client);
  auto e1 = std::make_exception_ptr(std::runtime_error("one"));
  auto e2 = std::make_exception_ptr(std::runtime_error("two"));
  h.capture_exception(e1);
  h.recover(e2);
  CHECK(seen_original == e1);
  CHECK(seen_recovered == e2);
}

TEST_CASE("flush goes to the client's transport") {
  memory_client mc;
  rt::hub h(mc.client);
  CHECK(h.flush(1s));
  CHECK(h.flush(std::chrono::hours::max()));  // saturates, never overflows
  CHECK(rt::detail::to_timeout(std::chrono::hours::max()) == std::chrono::nanoseconds::max());
  CHECK(rt::detail::to_timeout(-1s) == std::chrono::nanoseconds::zero());
}

TEST_CASE("clone is safe while other goroutines push, pop, bind and write the source") {
  memory_client a, b;
  rt::hub h(a.client);
  rt::scope& bottom = h.scope();  // never popped, so this reference stays valid
  rt::wait_group wg;
  wg.go([&] {
    for (int i = 0; i < 2000; ++i) {
      h.push_scope().set_tag("i", std::to_string(i));
      h.bind_client(i % 2 ? a.client : b.client);
      h.pop_scope();
      if (i % 100 == 0) rt::yield();
    }
  });
  wg.go([&] {
    for (int i = 0; i < 2000; ++i) {
      bottom.set_tag("j", std::to_string(i));
      bottom.add_breadcrumb({.message = std::to_string(i)});
      if (i % 100 == 0) rt::yield();
    }
  });
  wg.go([&] {
    int bad = 0;
    for (int i = 0; i < 2000; ++i) {
      std::shared_ptr<rt::hub> c = h.clone();
      if (c->client() != a.client && c->client() != b.client) ++bad;
      if (i % 100 == 0) rt::yield();
    }
    CHECK(bad == 0);
  });
  wg.wait();
  CHECK(h.scope().tags().at("j") == "1999");
}
