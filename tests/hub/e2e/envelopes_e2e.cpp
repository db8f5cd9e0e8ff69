// envelopes_e2e.cpp — the C++ half of the end-to-end test hub_e2e_envelopes: sends a varied
// set of events through rt's real HTTP transports (the asynchronous http_transport and
// http_sync_transport) to a local receiver, checks every envelope here (framing, Sentry's
// event schema, stack traces), and writes each request body to a file in
// $RT_E2E_ENVELOPE_DIR, where run.sh has Sentry's own parser (parse_envelopes.mjs) read them.
//
// Owns: the choice of events (a message, one with attach_stacktrace, a thrown exception, a
// nested one, a goroutine's panic with a tag and a breadcrumb, an event with user, extra,
// contexts, breadcrumbs, non-ASCII text and control characters, a ~100 KB message).
// Invariant: the receiver gets exactly one envelope per event sent, and every one of them is
// written to the directory, one file per request, named "NN-<transport>-<kind>.envelope".
// Linked with rt_test_main_continue: the session runs under report_and_continue, so the
// goroutine panic this test provokes does not end the process.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support.hpp"

using hubtest::dsn_for;
using hubtest::http_receiver;
using hubtest::http_request;
using hubtest::patience;
using nlohmann::json;

namespace {

// Throw sites and a capture site with names the checks look for among the frames. noipa:
// never inlined nor folded with an identical function (GCC's -fipa-icf would merge two
// one-line throwers into one symbol, and the frame would carry the other's name).
[[gnu::noipa]] void e2e_throw_site(const std::string& what) {
  throw std::runtime_error(what);
}

// The panicking goroutine's work: a tag and a breadcrumb on its own hub, then the throw.
[[gnu::noipa]] void e2e_panic_site(const std::string& what, const std::string& transport) {
  rt::configure_scope([&](rt::scope& s) {
    s.set_tag("e2e", "panic-" + transport);
    s.set_tag("transport", transport);
  });
  rt::add_breadcrumb({.category = "e2e", .message = "before the panic"});
  throw std::runtime_error(what);
}

[[gnu::noipa]] std::string e2e_capture_with_stack(rt::hub& h) {
  return h.capture_message("e2e: message with attach_stacktrace", rt::level::warning);
}

[[gnu::noipa]] void e2e_nested_throw() {
  try {
    throw std::logic_error("e2e: inner logic_error");
  } catch (...) {
    std::throw_with_nested(std::runtime_error("e2e: outer runtime_error"));
  }
}

// Text with every kind of character a JSON writer must escape or pass through: multi-byte
// UTF-8 (2, 3 and 4 bytes), the C0 controls (NUL included), DEL, quote and backslash.
std::string tricky_text() {
  std::string s = "héllo wörld — Grüße, 日本語, emoji 🚀🙂, ";
  for (int c = 0; c < 0x20; ++c) s.push_back(static_cast<char>(c));
  s += "\x7f \"quoted\" back\\slash /slash \u2028\u2029 end";
  return s;
}

// What the test sent through one transport, by event id.
struct sent_events {
  std::string transport{};                    // "async" or "sync"
  std::map<std::string, std::string> kind{};  // event id -> kind
  std::string panic_what{};                   // the panic's exception text (its id is unknown)
};

// send_all captures the varied set through `plain` and `with_stack` (a client with
// attach_stacktrace), both bound to the same transport. The goroutine panic's event id is
// not returned to anyone: it is recognised by its exception text.
void send_all(const std::shared_ptr<rt::client>& plain,
              const std::shared_ptr<rt::client>& with_stack, sent_events& out) {
  rt::hub h(plain);
  h.scope().set_tag("transport", out.transport);
  auto sent = [&](const std::string& id, const std::string& kind) {
    REQUIRE(id.size() == 32);
    out.kind[id] = kind;
  };

  sent(h.capture_message("e2e: plain message"), "message");

  rt::hub hs(with_stack);
  hs.scope().set_tag("transport", out.transport);
  sent(e2e_capture_with_stack(hs), "message-stacktrace");

  try {
    e2e_throw_site("e2e: thrown runtime_error");
  } catch (...) {
    sent(h.capture_exception(std::current_exception()), "exception");
  }

  try {
    e2e_nested_throw();
  } catch (...) {
    sent(h.capture_exception(std::current_exception()), "nested-exception");
  }

  // A panic: the exception escapes a goroutine started with rt::go; the hub's panic
  // observer captures it on that goroutine's own hub. The receiver's count is the only
  // thing the test waits on.
  out.panic_what = "e2e: goroutine panic (" + out.transport + ")";
  rt::current_hub().bind_client(plain);
  rt::go([what = out.panic_what, transport = out.transport] { e2e_panic_site(what, transport); });
  rt::current_hub().bind_client(nullptr);

  {
    rt::event ev;
    ev.message = "e2e: rich event " + tricky_text();
    ev.level = rt::level::error;
    ev.logger = "e2e.logger";
    ev.release = "e2e@1.0.0";
    ev.environment = "e2e-" + out.transport;
    ev.dist = "7";
    ev.transaction = "e2e/transaction";
    ev.fingerprint = {"{{ default }}", "e2e", "ünïcode"};
    ev.tags["unicode"] = "日本語 🚀";
    ev.user = {.id = "42",
               .email = "user@example.com",
               .ip_address = "127.0.0.1",
               .username = "jörg",
               .name = "Jörg Ünïcode",
               .data = {{"plan", "pro"}, {"tricky", tricky_text()}}};
    rt::hub r(plain);
    r.scope().set_tag("transport", out.transport);
    r.scope().set_extra("tricky", tricky_text());
    r.scope().set_extra("nested", json{{"list", {1, 2.5, "three", nullptr, true}},
                                       {"object", {{"ключ", "значение"}}}});
    r.scope().set_extra("number", 12345678901234LL);
    r.scope().set_context("e2e", {{"run", out.transport}, {"text", tricky_text()}});
    r.scope().set_context("app", {{"app_name", "envelopes_e2e"}, {"app_version", "1.0"}});
    for (int i = 0; i < 60; ++i) {
      r.add_breadcrumb({.type = i % 2 ? "http" : "default",
                        .category = "e2e.crumb",
                        .message = "breadcrumb " + std::to_string(i) + " ✓ \t\"" +
                                   std::string(1, static_cast<char>(1 + i % 31)),
                        .level = i % 3 ? rt::level::info : rt::level::warning,
                        .data = {{"i", i}, {"url", "http://127.0.0.1/ü?q=" + std::to_string(i)}}});
    }
    sent(r.capture_event(std::move(ev)), "rich");
  }

  {
    std::string big = "e2e: large message ";
    while (big.size() < 100 * 1024) big += "0123456789abcdef ünïcode ✓ ";
    sent(h.capture_message(big, rt::level::info), "large");
  }
}

// frames_of: the frames of the exception values and thread stacktraces of an event payload.
std::vector<json> frames_of(const json& values) {
  std::vector<json> frames;
  for (const json& v : values) {
    if (v.contains("stacktrace"))
      for (const json& f : v.at("stacktrace").at("frames")) frames.push_back(f);
  }
  return frames;
}

bool has_in_app_frame(const std::vector<json>& frames, const std::string& function) {
  for (const json& f : frames) {
    if (f.value("function", "").find(function) != std::string::npos && f.value("in_app", false))
      return true;
  }
  return false;
}

}  // namespace

TEST_CASE("every event sent through the HTTP transports arrives as a valid envelope") {
  const char* dir_env = std::getenv("RT_E2E_ENVELOPE_DIR");
  REQUIRE_MESSAGE(dir_env != nullptr,
                  "RT_E2E_ENVELOPE_DIR is not set: run this program through tests/hub/e2e/run.sh");
  const std::filesystem::path dir(dir_env);
  REQUIRE_MESSAGE(std::filesystem::is_directory(dir), "RT_E2E_ENVELOPE_DIR is not a directory");

  http_receiver receiver;
  const std::string dsn = dsn_for(receiver);

  // The asynchronous transport, built by the client from its DSN; a second client with
  // attach_stacktrace shares it.
  sent_events async{.transport = "async"};
  auto async_plain = std::make_shared<rt::client>(rt::client_options{.dsn = dsn});
  auto async_stack = std::make_shared<rt::client>(
      rt::client_options{.attach_stacktrace = true, .transport = async_plain->transport()});
  REQUIRE(dynamic_cast<rt::http_transport*>(async_plain->transport().get()) != nullptr);
  send_all(async_plain, async_stack, async);

  // The synchronous transport: each capture returns after its request was answered.
  sent_events sync{.transport = "sync"};
  auto sync_transport = std::make_shared<rt::http_sync_transport>(rt::dsn::parse(dsn));
  auto sync_plain = std::make_shared<rt::client>(rt::client_options{.transport = sync_transport});
  auto sync_stack = std::make_shared<rt::client>(
      rt::client_options{.attach_stacktrace = true, .transport = sync_transport});
  send_all(sync_plain, sync_stack, sync);

  const std::size_t expected = async.kind.size() + 1 + sync.kind.size() + 1;  // + the panics
  const auto arrived = receiver.wait_for_requests(expected);
  REQUIRE(arrived.size() >= expected);
  // Everything sent is handled: nothing more can arrive, so the count is exact.
  REQUIRE(async_plain->flush(patience));
  REQUIRE(sync_plain->flush(patience));
  const std::vector<http_request> requests = receiver.requests();
  REQUIRE(requests.size() == expected);
  CHECK(async_plain->stats().sent == async.kind.size() + 1);
  CHECK(sync_transport->stats().sent == sync.kind.size() + 1);

  std::set<std::string> seen;
  int panics = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const http_request& r = requests[i];
    CAPTURE(i);
    CHECK(r.method == "POST");
    CHECK(r.target == "/api/42/envelope/");
    const hubtest::envelope_parts p = hubtest::split_envelope(r.body);
    const std::string id = p.header.value("event_id", "");
    CAPTURE(id);
    CHECK(p.header.value("dsn", "") == dsn);
    CHECK(p.header.contains("sent_at"));
    CHECK(seen.insert(id).second);
    INFO("schema: ", hubtest::schema_errors(p.payload));
    CHECK(hubtest::schema_errors(p.payload) == "");
    const json ev = json::parse(p.payload);
    CHECK(ev.value("event_id", "") == id);

    std::string transport, kind;
    for (const sent_events* s : {&async, &sync}) {
      if (auto it = s->kind.find(id); it != s->kind.end()) {
        transport = s->transport;
        kind = it->second;
      }
    }
    const std::string exc_value =
        ev.contains("exception") && !ev.at("exception").at("values").empty()
            ? ev.at("exception").at("values").back().value("value", "")
            : "";
    if (kind.empty()) {  // not a capture's id: it must be one of the panics
      for (const sent_events* s : {&async, &sync})
        if (exc_value == s->panic_what) transport = s->transport;
      REQUIRE_MESSAGE(!transport.empty(), "an envelope nobody sent: ", p.payload.substr(0, 200));
      kind = "panic";
    }
    CAPTURE(kind);
    CAPTURE(transport);
    CHECK(ev.value("tags", json::object()).value("transport", "") == transport);

    const json no_values = json::array();
    const json& exceptions = ev.contains("exception") ? ev.at("exception").at("values") : no_values;
    if (kind == "message") {
      CHECK(ev.at("logentry").at("formatted") == "e2e: plain message");
    } else if (kind == "message-stacktrace") {
      REQUIRE(ev.contains("threads"));
      CHECK(has_in_app_frame(frames_of(ev.at("threads").at("values")), "e2e_capture_with_stack"));
    } else if (kind == "exception") {
      REQUIRE(exceptions.size() == 1);
      CHECK(exceptions[0].at("type") == "std::runtime_error");
      CHECK(has_in_app_frame(frames_of(exceptions), "e2e_throw_site"));
    } else if (kind == "nested-exception") {
      REQUIRE(exceptions.size() == 2);
      std::set<std::string> types{exceptions[0].at("type").get<std::string>(),
                                  exceptions[1].at("type").get<std::string>()};
      CHECK(types == std::set<std::string>{"std::logic_error", "std::runtime_error"});
      CHECK(has_in_app_frame(frames_of(exceptions), "e2e_nested_throw"));
    } else if (kind == "panic") {
      ++panics;
      CHECK(ev.at("level") == "fatal");
      CHECK(ev.value("tags", json::object()).value("e2e", "") == "panic-" + transport);
      bool crumb = false;
      for (const json& b : ev.at("breadcrumbs").at("values"))
        crumb = crumb || b.value("message", "") == "before the panic";
      CHECK(crumb);
      REQUIRE(!exceptions.empty());
      CHECK(exceptions.back().at("type") == "std::runtime_error");
      CHECK(has_in_app_frame(frames_of(exceptions), "e2e_panic_site"));
    } else if (kind == "rich") {
      CHECK(ev.at("user").at("username") == "jörg");
      CHECK(ev.at("extra").contains("tricky"));
      CHECK(ev.at("contexts").at("e2e").at("run") == transport);
      CHECK(ev.at("breadcrumbs").at("values").size() == 60);
      CHECK(p.payload.find("日本語") != std::string::npos);
    } else if (kind == "large") {
      CHECK(p.payload.size() > 1000);  // size limits may trim it; it must still be one event
    }

    char name[96];
    std::snprintf(name, sizeof name, "%02zu-%s-%s.envelope", i, transport.c_str(), kind.c_str());
    std::ofstream out(dir / name, std::ios::binary);
    out << r.body;
    out.close();
    REQUIRE_MESSAGE(out.good(), "cannot write ", (dir / name).string());
  }
  CHECK(panics == 2);
  CHECK(seen.size() == expected);
  MESSAGE(requests.size(), " envelopes written to ", dir.string());
}
