// http_transport_test.cpp — rt::http_transport against a real HTTP receiver on 127.0.0.1:
// every request byte, 10,000 events, the bounded queue, flush, close, rate limits.
#include <doctest/doctest.h>

#include <set>

#include "support.hpp"

using namespace std::chrono_literals;
using hubtest::dsn_for;
using hubtest::gate;
using hubtest::held_server;
using hubtest::http_answer;
using hubtest::http_receiver;
using hubtest::http_request;
using hubtest::patience;

namespace {

// Every DSN here has a public and a secret key, as old DSNs do.
const std::string key = "pub:sec";

std::shared_ptr<rt::http_transport> transport_for(const http_receiver& r,
                                                  std::size_t queue = 1000) {
  return std::make_shared<rt::http_transport>(rt::dsn::parse(dsn_for(r, key)),
                                              rt::http_transport_options{.queue_size = queue});
}

void send_message(rt::transport& t, const std::string& text) {
  rt::event ev;
  ev.event_id = rt::new_event_id();
  ev.message = text;
  t.send_event(std::move(ev));
}

}  // namespace

TEST_CASE("every byte of the request: line, headers, envelope") {
  http_receiver receiver;
  // No transport given: the client builds the HTTP transport from the DSN.
  rt::hub h(std::make_shared<rt::client>(
      rt::client_options{.dsn = dsn_for(receiver, key), .release = "app@1"}));
  h.scope().set_tag("k", "v");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(h.capture_message("message " + std::to_string(i)));
  REQUIRE(h.flush(patience));
  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 3);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const http_request& r = requests[i];
    CHECK(r.method == "POST");
    CHECK(r.target == "/api/42/envelope/");
    CHECK(r.version == "HTTP/1.1");
    std::set<std::string> names;
    for (const auto& [k, v] : r.headers) names.insert(k);
    // Envelopes over 1 KiB travel gzip-compressed (limits_test has both sides of that).
    const bool gzipped = r.body.size() > 1024;
    std::set<std::string> expected{"Host", "User-Agent", "Content-Type", "X-Sentry-Auth",
                                   "Content-Length"};
    if (gzipped) expected.insert("Content-Encoding");
    CHECK(names == expected);
    CHECK(r.header("Content-Encoding") == (gzipped ? "gzip" : ""));
    CHECK(r.header("Host") == "127.0.0.1:" + std::to_string(receiver.port()));
    CHECK(r.header("User-Agent") == "rt.cpp/0.1.0");
    CHECK(r.header("Content-Type") == "application/x-sentry-envelope");
    CHECK(r.header("X-Sentry-Auth") ==
          "Sentry sentry_version=7, sentry_client=rt.cpp/0.1.0, sentry_key=pub, sentry_secret=sec");
    CHECK(r.header("Content-Length") == std::to_string(r.wire_body.size()));
    const hubtest::envelope_parts p = hubtest::split_envelope(r.body);
    CHECK(p.header.size() == 4);
    CHECK(p.header["event_id"] == ids[i]);
    CHECK(p.header["dsn"] == dsn_for(receiver, key));
    CHECK(p.header["sdk"] == nlohmann::json{{"name", "rt.cpp"}, {"version", "0.1.0"}});
    CHECK(p.header["sent_at"].get<std::string>().ends_with("Z"));
    CHECK(r.body.starts_with("{\"event_id\":\"" + ids[i] + "\",\"sent_at\":"));
    CHECK(hubtest::schema_errors(p.payload) == "");
    const auto payload = nlohmann::json::parse(p.payload);
    CHECK(payload["event_id"] == ids[i]);
    CHECK(payload["logentry"]["formatted"] == "message " + std::to_string(i));
    CHECK(payload["tags"]["k"] == "v");
    CHECK(payload["release"] == "app@1");
  }
}

TEST_CASE("10,000 events from 4 goroutines all arrive as valid envelopes") {
  http_receiver receiver;
  auto t = transport_for(receiver, 10'000);
  auto c = std::make_shared<rt::client>(rt::client_options{.transport = t});
  rt::wait_group wg;
  for (int g = 0; g < 4; ++g) {
    wg.go([c, g] {
      rt::current_hub().bind_client(c);
      rt::configure_scope([g](rt::scope& s) { s.set_tag("g", std::to_string(g)); });
      for (int i = 0; i < 2500; ++i)
        REQUIRE(rt::capture_message("event " + std::to_string(i)).size() == 32);
    });
  }
  wg.wait();
  REQUIRE(t->flush(patience));
  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 10'000);
  std::set<std::string> ids;
  for (const http_request& r : requests) {
    const hubtest::envelope_parts p = hubtest::split_envelope(r.body);
    ids.insert(p.header["event_id"].get<std::string>());
    REQUIRE(hubtest::schema_errors(p.payload) == "");
  }
  CHECK(ids.size() == 10'000);
  CHECK(t->stats().sent == 10'000);
}

TEST_CASE("a full queue drops at once; flush times out while the server stalls") {
  held_server server;
  auto t = transport_for(server.receiver, 2);
  send_message(*t, "in flight");
  server.arrived.wait();  // the sender holds this one; the queue is empty
  for (int i = 0; i < 5; ++i) send_message(*t, "queued or dropped");  // never blocks
  CHECK(t->stats().queue_full == 3);
  CHECK_FALSE(t->flush(20ms));  // the server answers nothing until released
  server.release.open();
  CHECK(t->flush(patience));
  CHECK(server.receiver.requests().size() == 3);
  CHECK(t->stats().sent == 3);
  CHECK(t->flush(patience));  // repeated flushes are fine
}

TEST_CASE("non-2xx answers count as failures and are not retried") {
  http_receiver receiver([](const http_request&) { return http_answer{.status = 500}; });
  auto t = transport_for(receiver);
  send_message(*t, "a");
  send_message(*t, "b");
  CHECK(t->flush(patience));
  CHECK(receiver.requests().size() == 2);
  CHECK(t->stats().failed == 2);
}

TEST_CASE("rate limits from the server stop later events") {
  SUBCASE("429 with Retry-After limits every category") {
    http_receiver receiver([](const http_request&) {
      return http_answer{.status = 429, .headers = {{"Retry-After", "60"}}};
    });
    auto t = transport_for(receiver);
    send_message(*t, "first");
    CHECK(t->flush(patience));
    send_message(*t, "limited");
    CHECK(t->flush(patience));
    CHECK(receiver.requests().size() == 1);
    CHECK(t->stats().rate_limited == 1);
  }
  SUBCASE("X-Sentry-Rate-Limits on a 200 wins over Retry-After") {
    http_receiver receiver([](const http_request&) {
      return http_answer{
          .headers = {{"X-Sentry-Rate-Limits", "60:error:project"}, {"Retry-After", "1"}}};
    });
    auto t = transport_for(receiver);
    send_message(*t, "first");
    CHECK(t->flush(patience));
    send_message(*t, "limited");
    CHECK(t->flush(patience));
    CHECK(receiver.requests().size() == 1);
    CHECK(t->stats().sent == 1);
    CHECK(t->stats().rate_limited == 1);
  }
  SUBCASE("limits on other categories do not stop events") {
    http_receiver receiver([](const http_request&) {
      return http_answer{
          .headers = {{"x-sentry-rate-limits", "60:transaction;default, 60:unknown"}}};
    });
    auto t = transport_for(receiver);
    for (int i = 0; i < 3; ++i) send_message(*t, "goes");
    CHECK(t->flush(patience));
    CHECK(receiver.requests().size() == 3);
  }
  SUBCASE("a limit arriving while events wait in the queue drops them at send time") {
    gate arrived, release;
    http_receiver receiver([&](const http_request&) {
      arrived.open();
      release.wait();
      return http_answer{.status = 429};  // no Retry-After: 60 s
    });
    auto t = transport_for(receiver);
    send_message(*t, "first");
    arrived.wait();
    send_message(*t, "queued 1");
    send_message(*t, "queued 2");
    release.open();
    CHECK(t->flush(patience));
    CHECK(receiver.requests().size() == 1);
    CHECK(t->stats().rate_limited == 2);
  }
}

TEST_CASE("close is idempotent; afterwards sends are dropped and flush is false") {
  http_receiver receiver;
  auto t = transport_for(receiver);
  send_message(*t, "before");
  CHECK(t->flush(patience));
  for (int i = 0; i < 10; ++i) t->close();
  send_message(*t, "after");
  CHECK_FALSE(t->flush(1s));
  CHECK(receiver.requests().size() == 1);
}

TEST_CASE("sends and flushes may run concurrently") {
  http_receiver receiver;
  auto t = transport_for(receiver);
  rt::wait_group wg;
  for (int g = 0; g < 2; ++g) {
    wg.go([t] {
      for (int i = 0; i < 200; ++i) send_message(*t, "concurrent");
    });
  }
  wg.go([t] {
    for (int i = 0; i < 20; ++i) CHECK(t->flush(patience));
  });
  wg.wait();
  CHECK(t->flush(patience));
  CHECK(receiver.requests().size() == 400);
}

// ---- http_sync_transport ---------------------------------------------------------------------

namespace {

std::shared_ptr<rt::http_sync_transport> sync_transport_for(const http_receiver& r) {
  return std::make_shared<rt::http_sync_transport>(rt::dsn::parse(dsn_for(r, key)));
}

}  // namespace

TEST_CASE("sync transport: the request is done when send_event returns") {
  http_receiver receiver;
  auto t = sync_transport_for(receiver);
  rt::hub h(std::make_shared<rt::client>(rt::client_options{.transport = t}));
  for (int i = 0; i < 20; ++i) {
    const std::string id = h.capture_message("sync " + std::to_string(i));
    const auto requests = receiver.requests();  // no flush: already answered
    REQUIRE(requests.size() == static_cast<std::size_t>(i + 1));
    const http_request& r = requests.back();
    CHECK(r.target == "/api/42/envelope/");
    CHECK(r.header("X-Sentry-Auth") ==
          "Sentry sentry_version=7, sentry_client=rt.cpp/0.1.0, sentry_key=pub, sentry_secret=sec");
    CHECK(r.header("Content-Type") == "application/x-sentry-envelope");
    const hubtest::envelope_parts p = hubtest::split_envelope(r.body);
    CHECK(p.header["event_id"] == id);
    CHECK(hubtest::schema_errors(p.payload) == "");
  }
  CHECK(t->stats().sent == 20);
  CHECK(t->flush(0s));
}

TEST_CASE("sync transport: a slow answer parks only the sending goroutine") {
  // The server holds the answer until another goroutine releases it. Were the sender's
  // worker blocked, at GOMAXPROCS=1 the releasing goroutine could never run.
  held_server server;
  auto t = sync_transport_for(server.receiver);
  rt::wait_group wg;
  wg.go([&] { send_message(*t, "slow"); });
  wg.go([&] {
    rt::blocking([&] { server.arrived.wait(); });
    server.release.open();
  });
  wg.wait();
  CHECK(t->stats().sent == 1);
  CHECK(server.receiver.requests().size() == 1);
}

TEST_CASE("sync transport: flush waits for the sends in flight on other goroutines") {
  // A panicking goroutine's event goes out on that goroutine: a flush before exit must
  // wait for it. The server holds the answer while the main goroutine flushes.
  held_server server;
  auto t = sync_transport_for(server.receiver);
  rt::wait_group wg;
  wg.go([&] { send_message(*t, "in flight"); });
  rt::blocking([&] { server.arrived.wait(); });
  CHECK_FALSE(t->flush(0s));  // the send has not returned
  CHECK(t->stats().sent == 0);
  wg.go([&] { server.release.open(); });
  CHECK(t->flush(patience));
  CHECK(t->stats().sent == 1);  // counted before the send let flush return
  wg.wait();
  CHECK(t->flush(0s));  // none in flight
}

TEST_CASE("sync transport: 8 goroutines sending at once; every event arrives once") {
  http_receiver receiver;
  auto t = sync_transport_for(receiver);
  std::vector<std::string> sent(8 * 50);
  rt::wait_group wg;
  for (int g = 0; g < 8; ++g) {
    wg.go([&, g] {
      for (int i = 0; i < 50; ++i) {
        rt::event ev;
        ev.event_id = rt::new_event_id();
        ev.message = "concurrent";
        sent[g * 50 + i] = ev.event_id;
        t->send_event(std::move(ev));
      }
    });
  }
  wg.wait();
  std::multiset<std::string> got;
  for (const http_request& r : receiver.requests())
    got.insert(hubtest::split_envelope(r.body).header["event_id"].get<std::string>());
  CHECK(got == std::multiset<std::string>(sent.begin(), sent.end()));
  CHECK(t->stats().sent == 400);
}

TEST_CASE("sync transport: failures and rate limits") {
  SUBCASE("a non-2xx answer is a failure, not retried") {
    http_receiver receiver([](const http_request&) { return http_answer{.status = 500}; });
    auto t = sync_transport_for(receiver);
    send_message(*t, "a");
    CHECK(t->stats().failed == 1);
    CHECK(receiver.requests().size() == 1);
  }
  SUBCASE("429 with Retry-After stops the next events before any request") {
    http_receiver receiver([](const http_request&) {
      return http_answer{.status = 429, .headers = {{"Retry-After", "60"}}};
    });
    auto t = sync_transport_for(receiver);
    send_message(*t, "first");
    send_message(*t, "limited");
    send_message(*t, "limited");
    CHECK(receiver.requests().size() == 1);
    CHECK(t->stats().rate_limited == 2);
  }
  SUBCASE("X-Sentry-Rate-Limits for the error category on a 200") {
    http_receiver receiver([](const http_request&) {
      return http_answer{.headers = {{"X-Sentry-Rate-Limits", "60:error:organization"}}};
    });
    auto t = sync_transport_for(receiver);
    send_message(*t, "first");
    send_message(*t, "limited");
    CHECK(t->stats().sent == 1);
    CHECK(t->stats().rate_limited == 1);
  }
  SUBCASE("nobody listening: the request fails, the caller goes on") {
    int port = 0;
    {
      http_receiver gone;
      port = gone.port();
    }
    rt::http_sync_transport t(
        rt::dsn::parse("http://pub@127.0.0.1:" + std::to_string(port) + "/42"));
    send_message(t, "lost");
    CHECK(t.stats().failed == 1);
  }
}
