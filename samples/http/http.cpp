// http.cpp — rt_http, an HTTP/1.1 server with keep-alive: Boost.Beast's parser and
// serializer over rt::net::conn, one goroutine per connection and one per request, and
// each request's own hub (as sentry-go's sentryhttp handler clones one per request), so
// an exception in a handler becomes a 500 response and an event carrying that request.
//
//   rt_http [ADDR]     ADDR defaults to 127.0.0.1:8082; 127.0.0.1:0 picks a free port
//
// Routes:
//   GET  /            200 "Hello, World!"
//   GET  /sleep?ms=N  parks the request's goroutine N ms (0..60000), then 200: thousands of
//                     slow requests cost goroutines, not threads
//   POST /echo        200 with the request's body
//   GET  /panic       the handler throws std::runtime_error: 500, and an event is captured
//   another path      404; another method on a known path 405 (with Allow)
// A malformed request gets 400 (413 for a body over 1 MiB, 431 for a header over 8 KiB)
// and the connection is closed; other connections are unaffected.
//
// Events go to the client bound at start: with SENTRY_DSN set, rt's HTTP transport sends
// them to Sentry; without it, the log transport writes each as one JSON line on stderr.
// Either way stderr gets "rt_http: GET /panic (request C-R) threw std::runtime_error: ...;
// captured event ID" (C: connection number, R: request number on it). Nothing is logged per
// successful request.
//
// Prints exactly one line, "listening on HOST:PORT", to stdout once it accepts
// connections. SIGINT or SIGTERM stops it gracefully: no new connections, idle ones are
// closed, requests in flight finish (a /sleep ends early with 503), events are flushed,
// exit 0. A bad address or DSN exits 1 with the reason on stderr. Like Go's zero-valued
// http.Server, it sets no read or idle timeouts.
//
// Owns: the listener (through samples::serve) and the shutdown context (main goroutine); per
// connection, the conn, its read buffer (reused by every request on it) and a watcher goroutine
// that makes the conn's pending read give up at shutdown; per request, the request goroutine and
// its hub. Invariant: a connection handles one request at a time (its goroutine waits for the
// request's goroutine before writing the response), so responses leave in request order.
// Beast's string_view is std::string_view here (not boost::string_view).
#define BOOST_BEAST_USE_STD_STRING_VIEW

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <rt/net/asio.hpp>
#include <rt/rt.hpp>

#include "server.hpp"

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

constexpr int max_sleep_ms = 60'000;
constexpr auto linger_timeout = std::chrono::milliseconds(500);

// ---- handlers ---------------------------------------------------------------------------

response text(http::status status, std::string body) {
  response res(status, 11);
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  return res;
}

response method_not_allowed(std::string_view allow) {
  response res = text(http::status::method_not_allowed, "405 method not allowed\n");
  res.set(http::field::allow, allow);
  return res;
}

// query_value returns the value of `key` in a query string ("a=1&ms=50"), or nullopt.
std::optional<std::string_view> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.size() > key.size() && pair.starts_with(key) && pair[key.size()] == '=')
      return pair.substr(key.size() + 1);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return std::nullopt;
}

// sleep parks for ?ms=N milliseconds, or until the server shuts down (then 503).
response sleep(const rt::context& server, std::string_view query) {
  const std::optional<std::string_view> arg = query_value(query, "ms");
  int ms = -1;
  if (arg) {
    const auto [end, ec] = std::from_chars(arg->data(), arg->data() + arg->size(), ms);
    if (ec != std::errc() || end != arg->data() + arg->size()) ms = -1;
  }
  if (ms < 0 || ms > max_sleep_ms) {
    return text(http::status::bad_request,
                "ms must be an integer from 0 to " + std::to_string(max_sleep_ms) + "\n");
  }
  bool shutting_down = false;
  rt::select(rt::case_recv(rt::after(std::chrono::milliseconds(ms))),
             rt::case_recv(server.done(), [&] { shutting_down = true; }));
  if (shutting_down) return text(http::status::service_unavailable, "server shutting down\n");
  return text(http::status::ok, "slept " + std::to_string(ms) + " ms\n");
}

// route answers req; what a handler throws propagates (handle_request makes it a 500).
response route(const rt::context& server, request& req) {
  const std::string_view target = req.target();
  const std::size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  const http::verb method = req.method();

  if (path == "/") {
    if (method != http::verb::get) return method_not_allowed("GET");
    return text(http::status::ok, "Hello, World!");
  }
  if (path == "/sleep") {
    if (method != http::verb::get) return method_not_allowed("GET");
    return sleep(server, query);
  }
  if (path == "/echo") {
    if (method != http::verb::post) return method_not_allowed("POST");
    response res(http::status::ok, 11);
    const auto type = req.find(http::field::content_type);
    res.set(http::field::content_type,
            type != req.end() ? type->value() : beast::string_view("application/octet-stream"));
    res.body() = std::move(req.body());
    return res;
  }
  if (path == "/panic") {
    if (method != http::verb::get) return method_not_allowed("GET");
    throw std::runtime_error("the /panic handler always throws");
  }
  return text(http::status::not_found, "404 page not found\n");
}

// describe names the exception in flight: "std::runtime_error: what".
std::string describe(std::exception_ptr e) {
  const std::vector<rt::exception_info> chain = rt::exception_chain(e);
  if (chain.empty()) return "unknown exception";
  return chain.back().type + ": " + chain.back().value;
}

// handle_request runs on the request's own goroutine: it puts the request on the
// goroutine's hub (cloned from the connection's at go()), then routes it. A handler's
// exception is captured through that hub, with the request on it, and becomes a 500.
void handle_request(const rt::context& server, request& req, response& res, std::uint64_t conn_id,
                    std::uint64_t seq) {
  const std::string request_id = std::to_string(conn_id) + "-" + std::to_string(seq);
  rt::configure_scope([&](rt::scope& scope) {
    scope.set_tag("request_id", request_id);
    scope.set_context("request", {{"method", req.method_string()}, {"url", req.target()}});
  });
  try {
    res = route(server, req);
  } catch (...) {
    const std::string event_id = rt::capture_exception(std::current_exception());
    std::fprintf(stderr, "rt_http: %.*s %.*s (request %s) threw %s; captured event %s\n",
                 static_cast<int>(req.method_string().size()), req.method_string().data(),
                 static_cast<int>(req.target().size()), req.target().data(), request_id.c_str(),
                 describe(std::current_exception()).c_str(),
                 event_id.empty() ? "(dropped)" : event_id.c_str());
    res = text(http::status::internal_server_error, "500 internal server error\n");
  }
}

// ---- connections ------------------------------------------------------------------------

// http_date returns the current time as an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"),
// formatted at most once a second per thread (the buffer is the calling thread's: use it
// before the goroutine can park and move).
std::string_view http_date() {
  thread_local std::time_t cached_second = -1;
  thread_local char buf[32];
  thread_local std::size_t len = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {buf, len};
}

// write_response completes res (version, keep-alive, Date, Content-Length) and writes it;
// tells whether the write succeeded.
bool write_response(rt::net::conn& c, unsigned version, response& res, bool keep_alive) {
  res.version(version);
  res.keep_alive(keep_alive);
  res.set(http::field::date, http_date());
  res.prepare_payload();
  beast::error_code ec;
  http::write(c, res, ec);
  return !ec;
}

// rejection is the response to a request the parser refused (ec from http::read), or
// nullopt when there is nobody to answer (end of stream, a read error, shutdown).
std::optional<response> rejection(const beast::error_code& ec) {
  static const beast::error_category& parse_errors =
      http::make_error_code(http::error::bad_method).category();
  if (ec.category() != parse_errors || ec == http::error::end_of_stream ||
      ec == http::error::partial_message) {
    return std::nullopt;
  }
  if (ec == http::error::body_limit)
    return text(http::status::payload_too_large, "413 request body too large\n");
  if (ec == http::error::header_limit)
    return text(http::status::request_header_fields_too_large, "431 request header too large\n");
  return text(http::status::bad_request, "400 bad request: " + ec.message() + "\n");
}

// linger_close ends a connection the server chose to close so that the response just
// written is not destroyed by a reset: shut down the sending side, then read and discard
// what the client still sends until it closes, at most linger_timeout (Go's
// closeWriteAndWait, bounded by a read deadline instead of a sleep).
void linger_close(rt::net::conn& c) {
  try {
    c.close_write();
    c.set_read_deadline(rt::clock::now() + linger_timeout);
    char discard[4096];
    while (c.read(std::span(discard)) != 0) {
    }
  } catch (const std::exception&) {
    // The deadline passed or the peer reset: the conn is closed below either way.
  }
  c.close();
}

// serve_requests answers requests on c in order until the peer closes, a request asks
// to close, the parser rejects one, a read or write fails, or shutdown makes the read
// give up. Returns whether the server ended the exchange (then linger_close applies).
bool serve_requests(const rt::context& server, rt::net::conn& c, std::uint64_t conn_id) {
  beast::flat_buffer buf;
  for (std::uint64_t seq = 1;; ++seq) {
    http::request_parser<http::string_body> parser;
    beast::error_code ec;
    http::read_header(c, buf, parser, ec);
    if (!ec && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> proceed(http::status::continue_, 11);
      http::write(c, proceed, ec);
    }
    if (!ec) http::read(c, buf, parser, ec);
    if (ec) {
      std::optional<response> res = rejection(ec);
      if (!res) return false;
      write_response(c, 11, *res, false);  // the request's own version may be unparsed
      return true;
    }
    request& req = parser.get();
    response res;
    rt::wait_group handler;  // the request's own goroutine (and hub)
    handler.go(handle_request, std::cref(server), std::ref(req), std::ref(res), conn_id, seq);
    handler.wait();
    const bool keep_alive = req.keep_alive() && !server.err();
    if (!write_response(c, req.version(), res, keep_alive)) return false;
    if (!keep_alive) return true;
  }
}

// serve_conn runs one connection. Its watcher ends the connection at shutdown by making
// the read it is parked in (or its next one) give up: a request in flight still gets
// its response.
void serve_conn(rt::context server, rt::net::conn c, std::uint64_t conn_id) {
  auto [watch, stop_watching] = rt::with_cancel(server);
  rt::wait_group watcher;
  watcher.go(
      [&c](rt::context ctx) {
        ctx.done().recv();
        c.set_read_deadline(rt::clock::now());  // a deadline that has passed
      },
      watch);
  const bool server_closes = serve_requests(server, c, conn_id);
  stop_watching();
  watcher.wait();
  if (server_closes) linger_close(c);
}

// bind_event_client binds the client every request's hub inherits: Sentry's HTTP
// transport for $SENTRY_DSN, else the log transport writing JSON lines on stderr.
void bind_event_client() {
  const char* dsn = std::getenv("SENTRY_DSN");
  if (dsn != nullptr && *dsn != '\0') {
    rt::init_client({.dsn = dsn});
    return;
  }
  auto logger =
      std::make_shared<spdlog::logger>("events", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");
  rt::init_client({.transport = std::make_shared<rt::log_transport>(std::move(logger))});
}

}  // namespace

int main(int argc, char** argv) {
  int status = 0;
  const auto addr =
      samples::listen_address(argc, argv, "rt_http", "127.0.0.1:8082", &status,
                              "  SENTRY_DSN  if set, captured events are sent there\n");
  if (!addr) return status;
  const sigset_t signals = samples::shutdown_signals();
  return rt::run([&] {
    try {
      bind_event_client();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rt_http: bad SENTRY_DSN: %s\n", e.what());
      return 1;
    }
    auto [ctx, cancel] = rt::with_cancel(rt::context::background());
    rt::wait_group conns;
    const int result = samples::serve(
        "rt_http", *addr, signals,
        [&](rt::net::conn c, std::uint64_t id) { conns.go(serve_conn, ctx, std::move(c), id); });
    cancel();  // idle connections close, requests in flight finish
    conns.wait();
    rt::flush(std::chrono::seconds(2));
    return result;
  });
}
