// lifecycle_test.cpp — a client's end: close(timeout) and the destructor abort a request
// the server never answers, http_timeout bounds each request, and a client replaced by
// init_client still delivers what it queued (retired in the background).
#include <doctest/doctest.h>

#include <set>

#include "support.hpp"

using namespace std::chrono_literals;
using hubtest::dsn_for;
using hubtest::held_server;
using hubtest::http_receiver;
using hubtest::http_request;
using hubtest::line_sink;
using hubtest::patience;

namespace {

std::string envelope_event_id(const http_request& r) {
  return nlohmann::json::parse(r.body.substr(0, r.body.find('\n')))["event_id"].get<std::string>();
}

}  // namespace

TEST_CASE("defaults: http_timeout 30 s, shutdown_timeout 2 s") {
  const rt::client_options o;
  CHECK(o.http_timeout == 30s);
  CHECK(o.shutdown_timeout == 2s);
}

TEST_CASE("close(timeout) aborts a request the server never answers; it counts as failed") {
  held_server server;
  auto sink = std::make_shared<line_sink>();
  auto c = std::make_shared<rt::client>(
      rt::client_options{.dsn = dsn_for(server.receiver),
                         .debug = true,
                         .debug_logger = std::make_shared<spdlog::logger>("test", sink)});
  const std::string id = c->capture_message("never answered", rt::level::info, {}, nullptr);
  rt::blocking([&] { server.arrived.wait(); });  // the request is in flight
  CHECK_FALSE(c->close(200ms));                  // returns, without the answer
  CHECK(c->stats() == rt::client_stats{{.failed = 1}});
  CHECK(sink->wait_for(id).find("failed: request aborted by close") != std::string::npos);
  CHECK_FALSE(c->flush(0s));  // closed
}

TEST_CASE("the destructor does not wait; the retired transport aborts after shutdown_timeout") {
  held_server server;
  auto sink = std::make_shared<line_sink>();
  auto c = std::make_shared<rt::client>(
      rt::client_options{.dsn = dsn_for(server.receiver),
                         .debug = true,
                         .shutdown_timeout = 100ms,
                         .debug_logger = std::make_shared<spdlog::logger>("test", sink)});
  const std::string id = c->capture_message("never answered", rt::level::info, {}, nullptr);
  rt::blocking([&] { server.arrived.wait(); });
  c.reset();  // returns at once: the request in flight is left to the background
  // The background close(100ms) gives up on the held server and aborts the request.
  CHECK(sink->wait_for(id) == "[Sentry] event " + id +
                                  " failed: request aborted by close (http://127.0.0.1:" +
                                  std::to_string(server.receiver.port()) + "/api/42/envelope/)");
}

TEST_CASE("http_timeout bounds each request of the client's HTTP transport") {
  held_server server;
  auto sink = std::make_shared<line_sink>();
  auto c = std::make_shared<rt::client>(
      rt::client_options{.dsn = dsn_for(server.receiver),
                         .debug = true,
                         .http_timeout = 100ms,
                         .debug_logger = std::make_shared<spdlog::logger>("test", sink)});
  const std::string id = c->capture_message("times out", rt::level::info, {}, nullptr);
  CHECK(c->flush(patience));  // handled: the request timed out
  CHECK(c->stats() == rt::client_stats{{.failed = 1}});
  CHECK(sink->wait_for(id).find("timed out") != std::string::npos);
}

TEST_CASE("50 x (init_client + capture): every replaced client still delivers its event") {
  http_receiver receiver;
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    rt::init_client({.dsn = dsn_for(receiver)});
    ids.insert(rt::capture_message("generation " + std::to_string(i)));
  }
  REQUIRE(ids.size() == 50);
  CHECK(rt::flush(patience));                            // the last client's event
  const auto requests = receiver.wait_for_requests(50);  // the 49 retired clients' events
  std::set<std::string> got;
  for (const http_request& r : requests) got.insert(envelope_event_id(r));
  CHECK(requests.size() == 50);  // no retries: one request per event
  CHECK(got == ids);
  rt::init_client({.transport = std::make_shared<rt::noop_transport>()});
}

TEST_CASE("bind_client replacing a hub's client: the replaced clients still deliver") {
  http_receiver receiver;
  rt::hub h;
  std::set<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    h.bind_client(std::make_shared<rt::client>(rt::client_options{.dsn = dsn_for(receiver)}));
    ids.insert(h.capture_message("bound " + std::to_string(i)));
  }
  h.bind_client(nullptr);  // the last one is retired too
  const auto requests = receiver.wait_for_requests(10);
  std::set<std::string> got;
  for (const http_request& r : requests) got.insert(envelope_event_id(r));
  CHECK(requests.size() == 10);
  CHECK(got == ids);
}
