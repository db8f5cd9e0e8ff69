// goroutine_hub_test.cpp — automatic per-goroutine hubs: every goroutine's own
// hub, snapshot at go(), isolation in every direction, plain threads, init_client.
#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "support.hpp"

using hubtest::memory_client;

namespace {

// Runs f in a fresh goroutine and waits, so each test starts from its own hub.
template <class F>
void in_goroutine(F f) {
  rt::wait_group wg;
  wg.go(std::move(f));
  wg.wait();
}

std::string tag_or_none(const std::map<std::string, std::string>& tags, const std::string& k) {
  auto it = tags.find(k);
  return it == tags.end() ? "<none>" : it->second;
}

}  // namespace

TEST_CASE("a goroutine keeps its own hub across suspension points") {
  in_goroutine([] {
    rt::hub* parent = &rt::current_hub();
    rt::wait_group wg;
    for (int g = 0; g < 8; ++g) {
      wg.go([parent] {
        rt::hub* mine = &rt::current_hub();
        CHECK(mine != parent);
        for (int i = 0; i < 50; ++i) {
          rt::yield();
          REQUIRE(&rt::current_hub() == mine);
        }
      });
    }
    wg.wait();
    CHECK(&rt::current_hub() == parent);
  });
}

TEST_CASE("the docs' INCORRECT example is correct: 1000 runs, zero mixed tags") {
  in_goroutine([] {
    memory_client mc;
    rt::current_hub().bind_client(mc.client);
    int mixed = 0;
    for (int iter = 0; iter < 1000; ++iter) {
      rt::wait_group wg;
      for (int k = 1; k <= 2; ++k) {
        wg.go([k] {
          const std::string tag = "go#" + std::to_string(k);
          rt::configure_scope([&](rt::scope& s) { s.set_tag("secretTag", tag); });
          rt::yield();  // let the other goroutine tag its hub in between
          rt::capture_message("Hello from Goroutine! #" + std::to_string(k));
        });
      }
      wg.wait();
      auto events = mc.events();
      REQUIRE(events.size() == 2);
      for (const rt::event& ev : events) {
        const std::string k = ev.message.substr(ev.message.size() - 1);
        if (ev.tags.size() != 1 || tag_or_none(ev.tags, "secretTag") != "go#" + k) ++mixed;
      }
      mc.transport->clear();
    }
    CHECK(mixed == 0);
    CHECK_FALSE(rt::current_hub().scope().tags().contains("secretTag"));
  });
}

TEST_CASE("isolation: parent to child, child to parent, sibling to sibling") {
  in_goroutine([] {
    rt::configure_scope([](rt::scope& s) { s.set_tag("parent", "before-go"); });
    rt::add_breadcrumb({.message = "parent-crumb"});
    rt::wait_group wg;
    wg.go([] {
      CHECK(rt::current_hub().scope().tags().at("parent") == "before-go");
      CHECK(rt::current_hub().scope().breadcrumbs().size() == 1);
      rt::configure_scope([](rt::scope& s) {
        s.set_tag("child", "a");
        s.set_tag("parent", "overwritten-by-child");
        s.set_user({.id = "child-user"});
      });
      rt::add_breadcrumb({.message = "child-a-crumb"});
      rt::current_hub().push_scope();  // a push the parent must not see either
    });
    wg.wait();
    const rt::scope& mine = rt::current_hub().scope();
    CHECK(mine.tags() == std::map<std::string, std::string>{{"parent", "before-go"}});
    CHECK(mine.user().empty());
    CHECK(mine.breadcrumbs().size() == 1);
    wg.go([] {  // a sibling spawned after the first one finished
      CHECK_FALSE(rt::current_hub().scope().tags().contains("child"));
      CHECK(rt::current_hub().scope().breadcrumbs().size() == 1);
    });
    wg.wait();
  });
}

TEST_CASE("isolation: running siblings never see each other") {
  in_goroutine([] {
    auto a_tagged = rt::make_chan<int>(1), b_checked = rt::make_chan<int>(1);
    rt::wait_group wg;
    wg.go([=] {
      rt::configure_scope([](rt::scope& s) { s.set_tag("who", "a"); });
      rt::add_breadcrumb({.message = "a"});
      a_tagged.send(1);
      b_checked.recv();
      CHECK(rt::current_hub().scope().tags().at("who") == "a");
    });
    wg.go([=] {
      a_tagged.recv();
      CHECK_FALSE(rt::current_hub().scope().tags().contains("who"));
      CHECK(rt::current_hub().scope().breadcrumbs().empty());
      b_checked.send(1);
    });
    wg.wait();
  });
}

TEST_CASE("isolation: parent changes after go() never reach the child, even before it runs") {
  in_goroutine([] {
    memory_client mc;
    rt::current_hub().bind_client(mc.client);
    rt::configure_scope([](rt::scope& s) { s.set_tag("v", "at-go"); });
    rt::add_breadcrumb({.message = "at-go"});
    auto go_on = rt::make_chan<int>(1);
    rt::wait_group wg;
    wg.go([go_on] {
      go_on.recv();  // the parent has changed its hub by now
      rt::capture_message("child");
    });
    rt::configure_scope([](rt::scope& s) {
      s.set_tag("v", "after-go");
      s.set_tag("extra", "after-go");
    });
    rt::add_breadcrumb({.message = "after-go"});
    rt::current_hub().bind_client(nullptr);
    go_on.send(1);
    wg.wait();
    auto events = mc.events();
    REQUIRE(events.size() == 1);  // the child kept the client it had at go()
    CHECK(events[0].tags == std::map<std::string, std::string>{{"v", "at-go"}});
    REQUIRE(events[0].breadcrumbs.size() == 1);
    CHECK(events[0].breadcrumbs[0].message == "at-go");
  });
}

TEST_CASE("the child's snapshot includes the parent's with_scope scope; grandchildren inherit") {
  in_goroutine([] {
    rt::configure_scope([](rt::scope& s) { s.set_tag("layer", "base"); });
    rt::wait_group wg;
    rt::with_scope([&](rt::scope& s) {
      s.set_tag("layer", "temporary");
      wg.go([&wg] {
        CHECK(rt::current_hub().scope().tags().at("layer") == "temporary");
        rt::current_hub().pop_scope();  // one layer: no-op
        CHECK(rt::current_hub().scope().tags().at("layer") == "temporary");
        // A child that never touched its hub passes its snapshot on.
        wg.go([] { CHECK(rt::current_hub().scope().tags().at("layer") == "temporary"); });
      });
      wg.wait();
    });
    wg.go([] { CHECK(rt::current_hub().scope().tags().at("layer") == "base"); });
    wg.wait();
  });
}

namespace {

// What a child can see of its hub.
struct hub_view {
  std::map<std::string, std::string> tags;
  std::size_t breadcrumbs = 0;
  const rt::client* client = nullptr;
  std::string user;
  bool operator==(const hub_view&) const = default;
};

hub_view view_of(rt::hub& h) {
  rt::event ev;
  rt::scope& s = h.scope();
  s.apply_to(ev, {});
  return {s.tags(), ev.breadcrumbs.size(), h.client().get(), ev.user.id};
}

// The view of a child spawned now, taken in the child.
hub_view child_view() {
  hub_view v;
  rt::wait_group wg;
  wg.go([&v] { v = view_of(rt::current_hub()); });
  wg.wait();
  return v;
}

}  // namespace

TEST_CASE("every go() sees the parent's hub as it is then: each kind of change between spawns") {
  in_goroutine([] {
    memory_client mc, other;
    rt::hub& h = rt::current_hub();
    h.bind_client(mc.client);
    rt::scope replacement;
    replacement.set_tag("replaced", "yes");
    const std::pair<const char*, std::function<void()>> changes[] = {
        {"set_tag", [&] { h.scope().set_tag("k", "v1"); }},
        {"set_tag again", [&] { h.scope().set_tag("k", "v2"); }},
        {"remove_tag", [&] { h.scope().remove_tag("k"); }},
        {"add_breadcrumb", [&] { h.add_breadcrumb({.message = "b"}); }},
        {"set_user", [&] { h.scope().set_user({.id = "42"}); }},
        {"bind another client", [&] { h.bind_client(other.client); }},
        {"bind no client", [&] { h.bind_client(nullptr); }},
        {"push_scope and tag it", [&] { h.push_scope().set_tag("pushed", "1"); }},
        {"pop_scope", [&] { h.pop_scope(); }},
        {"clear", [&] { h.scope().clear(); }},
        {"assign a scope", [&] { h.scope() = replacement; }},
        {"a plain thread tags it",
         [&] { std::thread([&] { h.scope().set_tag("thread", "t"); }).join(); }},
    };
    // The children's views are taken outside CHECK_MESSAGE: its message lives in a
    // thread_local of doctest's, and child_view() parks (and may resume on another thread).
    for (const auto& [what, change] : changes) {
      const hub_view before = view_of(h);
      const hub_view first = child_view(), second = child_view();
      CHECK_MESSAGE(first == before, what, ": the first child");
      CHECK_MESSAGE(second == before, what, ": a second child, nothing changed");
      change();
      const hub_view after = view_of(h), third = child_view();
      CHECK_MESSAGE(!(after == before), what, ": the change is visible to the parent");
      CHECK_MESSAGE(third == after, what, ": the child spawned after the change");
    }
  });
}

TEST_CASE("the docs' CORRECT example: an explicit clone handed to a goroutine") {
  in_goroutine([] {
    memory_client mc;
    rt::current_hub().bind_client(mc.client);
    rt::wait_group wg;
    for (int k = 1; k <= 2; ++k) {
      std::shared_ptr<rt::hub> local = rt::current_hub().clone();
      wg.go([local, k] {
        local->configure_scope(
            [&](rt::scope& s) { s.set_tag("secretTag", "go#" + std::to_string(k)); });
        local->capture_message("Hello from Goroutine! #" + std::to_string(k));
      });
    }
    wg.wait();
    for (const rt::event& ev : mc.events()) {
      CHECK(ev.tags.at("secretTag") == "go#" + ev.message.substr(ev.message.size() - 1));
    }
    CHECK(mc.events().size() == 2);
  });
}

TEST_CASE(
    "plain threads have their own hub cloned from the root; init_client binds root and caller") {
  // A thread whose hub exists before init_client keeps no client (as in Go).
  std::atomic<int> step{0};
  std::string early_capture = "unset";
  std::thread early([&] {
    rt::current_hub();  // materialised now, from the root without a client
    step = 1;
    while (step.load() != 2) std::this_thread::yield();  // a plain thread, not a goroutine
    early_capture = rt::capture_message("early thread");
  });
  while (step.load() != 1) std::this_thread::yield();
  auto mem = std::make_shared<rt::memory_transport>();
  in_goroutine([&] {
    rt::current_hub();  // a goroutine hub that exists before init_client
    auto before = rt::make_chan<int>(1);
    rt::wait_group wg;
    wg.go([before] {
      before.recv();
      CHECK(rt::capture_message("spawned before init").empty());
    });
    std::shared_ptr<rt::client> c = rt::init_client({.release = "init@1", .transport = mem});
    CHECK(rt::current_hub().client() == c);
    before.send(1);
    wg.wait();
    wg.go([c] { CHECK(rt::current_hub().client() == c); });  // spawned after: inherits
    wg.wait();
  });
  step = 2;
  early.join();
  CHECK(early_capture.empty());
  std::thread late([&] {  // a thread after init_client: cloned from the root, which has it
    CHECK(rt::capture_message("late thread").size() == 32);
    rt::configure_scope([](rt::scope& s) { s.set_tag("thread", "late"); });
  });
  late.join();
  auto events = mem->events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].message == "late thread");
  CHECK(events[0].release == "init@1");
  CHECK_FALSE(rt::current_hub().scope().tags().contains("thread"));
}

TEST_CASE("an event carries the capturing goroutine's context; a plain thread's none") {
  memory_client mc;
  rt::current_hub().bind_client(mc.client);
  std::uint64_t child_id = 0;
  rt::wait_group wg;
  const int line = __LINE__ + 1;
  wg.go([&] {
    child_id = rt::goroutine_id();
    rt::capture_message("from a goroutine");
  });
  wg.wait();
  std::thread([&] { rt::hub(mc.client).capture_message("from a plain thread"); }).join();
  const auto events = mc.events();
  REQUIRE(events.size() == 2);
  const rt::json& g = events[0].contexts.at("goroutine");
  CHECK(g.at("type") == "goroutine");
  CHECK(g.at("id").get<std::uint64_t>() == child_id);
  CHECK(g.at("parent_id").get<std::uint64_t>() == rt::goroutine_id());
  const std::string site = g.at("created_at").get<std::string>();
  const std::string want = "goroutine_hub_test.cpp:" + std::to_string(line);
  CHECK(site.substr(site.size() - std::min(site.size(), want.size())) == want);
  CHECK(hubtest::event_schema_errors(events[0]) == "");
  CHECK(events[1].contexts.count("goroutine") == 0);
}
