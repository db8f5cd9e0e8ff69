// scope_test.cpp — rt::scope: setters, getters, clear, copy-on-write copies, the merge into
// events and concurrent use.
#include <doctest/doctest.h>

#include "support.hpp"

using namespace std::chrono_literals;

namespace {

rt::event merged(const rt::scope& s, rt::event ev = {}) {
  std::optional<rt::event> out = s.apply_to_event(std::move(ev), {});
  REQUIRE(out.has_value());
  return *out;
}

std::vector<std::string> messages(const std::vector<rt::breadcrumb>& crumbs) {
  std::vector<std::string> out;
  for (const auto& b : crumbs) out.push_back(b.message);
  return out;
}

rt::event_processor appender(std::string name) {
  return [name](rt::event ev, const rt::event_hint&) -> std::optional<rt::event> {
    ev.fingerprint.push_back(name);
    return ev;
  };
}

}  // namespace

TEST_CASE("scope setters insert, overwrite and remove") {
  rt::scope s;
  s.set_tag("a", "1");
  s.set_tags({{"a", "2"}, {"b", "3"}});
  s.remove_tag("b");
  s.remove_tag("missing");
  CHECK(s.tags() == std::map<std::string, std::string>{{"a", "2"}});
  s.set_extra("n", 1);
  s.set_extras({{"m", "x"}});
  s.remove_extra("n");
  CHECK(s.extras() == std::map<std::string, rt::json>{{"m", "x"}});
  s.set_context("os", {{"name", "linux"}, {"version", "6"}});
  s.set_context("os", {{"name", "bsd"}});  // replaces the whole object, no deep merge
  CHECK(s.contexts().at("os") == rt::json{{"name", "bsd"}});
  s.set_contexts({{"os", {{"name", "hurd"}}}, {"app", {{"v", 1}}}});  // top-level merge
  CHECK(s.contexts().size() == 2);
  CHECK(s.contexts().at("os") == rt::json{{"name", "hurd"}});
  s.remove_context("os");
  s.remove_context("app");
  CHECK(s.contexts().empty());
  s.set_user({.id = "1", .email = "a@b"});
  s.set_user({.username = "u"});  // replaces, no field merge
  CHECK(s.user() == rt::user{.username = "u"});
  s.set_fingerprint({"x", "y"});
  s.set_level(rt::level::warning);
  s.set_transaction("GET /");
  CHECK(s.fingerprint() == std::vector<std::string>{"x", "y"});
  CHECK(s.level() == rt::level::warning);
  CHECK(s.transaction() == "GET /");
}

TEST_CASE("set_context refuses a non-object and names the key") {
  rt::scope s;
  CHECK_THROWS_AS(s.set_contexts({{"ok", rt::json::object()}, {"bad", "text"}}),
                  std::invalid_argument);
  CHECK(s.contexts().empty());  // nothing merged
  CHECK_THROWS_WITH_AS(s.set_context("os", 42),
                       doctest::Contains("context \"os\" must be a JSON object"),
                       std::invalid_argument);
}

TEST_CASE("clear empties every field, processors included, and setters work afterwards") {
  rt::scope s;
  s.set_tag("a", "1");
  s.set_extra("e", 1);
  s.set_context("c", rt::json::object());
  s.set_user({.id = "1"});
  s.set_fingerprint({"f"});
  s.set_level(rt::level::fatal);
  s.set_transaction("t");
  s.add_breadcrumb({.message = "b"});
  s.add_event_processor(appender("p"));
  s.clear();
  CHECK(s.tags().empty());
  CHECK(s.extras().empty());
  CHECK(s.contexts().empty());
  CHECK(s.user().empty());
  CHECK(s.fingerprint().empty());
  CHECK_FALSE(s.level().has_value());
  CHECK(s.transaction().empty());
  CHECK(s.breadcrumbs().empty());
  CHECK(s.event_processor_count() == 0);
  s.set_tag("again", "yes");
  CHECK(s.tags().at("again") == "yes");
}

TEST_CASE("breadcrumbs: timestamp set when unset, newest `limit` kept in order") {
  rt::scope s;
  const rt::timestamp fixed = rt::timestamp{} + 5s;
  s.add_breadcrumb({.message = "given", .timestamp = fixed});
  s.add_breadcrumb({.message = "now"});
  auto crumbs = s.breadcrumbs();
  CHECK(crumbs[0].timestamp == fixed);
  CHECK(crumbs[1].timestamp != rt::timestamp{});
  for (int i = 0; i < 5; ++i) s.add_breadcrumb({.message = std::to_string(i)}, 10);
  // The limit shrinks (where rt differs from sentry-go, which keeps the old ones): the newest
  // `limit` survive, oldest first.
  s.add_breadcrumb({.message = "last"}, 3);
  CHECK(messages(s.breadcrumbs()) == std::vector<std::string>{"3", "4", "last"});
  s.add_breadcrumb({.message = "x"}, 0);  // a zero limit stores nothing
  CHECK(s.breadcrumbs().size() == 3);
  s.clear_breadcrumbs();
  CHECK(s.breadcrumbs().empty());
}

TEST_CASE("a copy is independent both ways, however deep") {
  rt::scope parent;
  parent.set_tag("p", "1");
  parent.set_user({.id = "u", .data = {{"k", "v"}}});
  parent.set_context("c", {{"inner", 1}});
  parent.add_breadcrumb({.message = "p1"});
  rt::scope child = parent;
  CHECK(child.tags() == parent.tags());

  // Parent changed after the copy: the child never sees it.
  parent.set_tag("p", "2");
  parent.set_user({.id = "u", .data = {{"k", "changed"}}});
  parent.set_context("c", {{"inner", 2}});
  parent.add_breadcrumb({.message = "p2"});
  CHECK(child.tags().at("p") == "1");
  CHECK(child.user().data.at("k") == "v");
  CHECK(child.contexts().at("c").at("inner") == 1);
  CHECK(messages(child.breadcrumbs()) == std::vector<std::string>{"p1"});

  // Child overrides: the parent never sees them; the child's crumbs are parent's then its own.
  child.set_tag("c", "only-child");
  child.add_breadcrumb({.message = "c1"});
  child.set_level(rt::level::debug);
  CHECK_FALSE(parent.tags().contains("c"));
  CHECK_FALSE(parent.level().has_value());
  CHECK(messages(child.breadcrumbs()) == std::vector<std::string>{"p1", "c1"});
  CHECK(messages(parent.breadcrumbs()) == std::vector<std::string>{"p1", "p2"});

  rt::scope assigned;
  assigned = child;
  child.set_tag("c", "after");
  CHECK(assigned.tags().at("c") == "only-child");
}

TEST_CASE("copies keep independent event-processor lists") {
  rt::scope parent;
  for (auto n : {"a", "b", "c"}) parent.add_event_processor(appender(n));
  rt::scope one = parent;
  rt::scope two = parent;
  one.add_event_processor(appender("x"));
  two.add_event_processor(appender("y"));
  using list = std::vector<std::string>;
  CHECK(merged(one).fingerprint == list{"a", "b", "c", "x"});
  CHECK(merged(two).fingerprint == list{"a", "b", "c", "y"});
  CHECK(merged(parent).fingerprint == list{"a", "b", "c"});
}

TEST_CASE("apply_to_event follows the precedence table") {
  rt::scope s;
  s.set_tag("k", "scope");
  s.set_tag("s", "scope-only");
  s.set_extra("k", "scope");
  s.set_context("k", {{"from", "scope"}});
  s.set_context("s", {{"from", "scope"}});
  s.set_user({.id = "scope-user"});
  s.set_fingerprint({"scope-fp"});
  s.set_level(rt::level::debug);
  s.set_transaction("scope-tx");
  s.add_breadcrumb({.message = "scope-crumb"});

  rt::event ev;
  ev.tags = {{"k", "event"}, {"e", "event-only"}};
  ev.extra = {{"k", "event"}};
  ev.contexts = {{"k", {{"from", "event"}}}};
  ev.user = {.id = "event-user"};
  ev.fingerprint = {"event-fp"};
  ev.level = rt::level::fatal;
  ev.transaction = "event-tx";
  ev.breadcrumbs = {{.message = "event-crumb"}};
  rt::event out = merged(s, ev);
  CHECK(out.tags == std::map<std::string, std::string>{
                        {"e", "event-only"}, {"k", "scope"}, {"s", "scope-only"}});
  CHECK(out.extra.at("k") == "scope");                // scope wins
  CHECK(out.contexts.at("k").at("from") == "event");  // event wins
  CHECK(out.contexts.at("s").at("from") == "scope");
  CHECK(out.user.id == "event-user");  // event wins when non-empty
  CHECK(out.fingerprint == std::vector<std::string>{"event-fp"});
  CHECK(out.level == rt::level::debug);  // scope wins, even over fatal
  CHECK(out.transaction == "scope-tx");  // scope wins
  CHECK(messages(out.breadcrumbs) == std::vector<std::string>{"event-crumb", "scope-crumb"});

  rt::event empty = merged(s);
  CHECK(empty.user.id == "scope-user");
  CHECK(empty.fingerprint == std::vector<std::string>{"scope-fp"});
}

TEST_CASE("an event processor can drop the event and later ones do not run") {
  rt::scope s;
  int later = 0;
  s.add_event_processor(
      [](rt::event, const rt::event_hint&) -> std::optional<rt::event> { return std::nullopt; });
  s.add_event_processor([&](rt::event ev, const rt::event_hint&) -> std::optional<rt::event> {
    ++later;
    return ev;
  });
  CHECK_FALSE(s.apply_to_event({}, {}).has_value());
  CHECK(later == 0);
}

TEST_CASE("a processor may call back into its own scope (no lock held)") {
  rt::scope s;
  s.add_event_processor([&s](rt::event ev, const rt::event_hint&) -> std::optional<rt::event> {
    s.set_tag("touched", "yes");
    ev.tags["seen"] = std::to_string(s.tags().size());
    return ev;
  });
  CHECK(merged(s).tags.at("seen") == "1");
}

TEST_CASE("one scope hammered from many goroutines stays consistent") {
  rt::scope shared;
  rt::wait_group wg;
  for (int g = 0; g < 20; ++g) {
    wg.go([&shared, g] {
      const std::string key = std::string("g").append(std::to_string(g));
      for (int i = 0; i < 200; ++i) {
        shared.set_tag(key, std::to_string(i));
        shared.add_breadcrumb({.message = std::to_string(i)}, 50);
        rt::scope copy = shared;
        copy.set_extra("x", i);
        (void)shared.apply_to_event({}, {});
        if (i % 50 == 0) shared.remove_tag(key);
        if (g == 0 && i == 100) shared.clear();
        if (i % 20 == 0) rt::yield();
      }
    });
  }
  wg.wait();
  CHECK(shared.breadcrumbs().size() <= 50);
  CHECK(shared.extras().empty());
}
