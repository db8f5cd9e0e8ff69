// rt/hub/client.hpp — rt::client_options and rt::client: turns (event, hint, scope) into
// a prepared event and hands it to the transport (sentry-go's Client).
//
// Example:
//   auto c = std::make_shared<rt::client>(rt::client_options{
//       .dsn = "https://public@o1.ingest.sentry.io/42", .release = "app@1.0",
//       .sample_rate = 1.0, .max_breadcrumbs = 50});
//   rt::current_hub().bind_client(c);
//
// Owns: the options (read-only after construction), the client-level event processors and
// the transport; the capture pipeline in sentry-go's order: sample, prepare defaults, apply
// the scope (merge + scope processors), client processors, before_send, send.
// Invariant: a client is shared by every hub cloned from the one it was bound to, so all
// of its members are safe for concurrent use (add_event_processor excepted, see there).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rt/hub/event.hpp"
#include "rt/hub/scope.hpp"
#include "rt/hub/transport.hpp"

namespace rt {

// The SDK identity sent in every event and envelope ("sdk": {name, version}).
inline constexpr std::string_view sdk_name = "rt.cpp";
inline constexpr std::string_view sdk_version = "0.1.0";

// Members in the documented order (docs/hub-client.md), so designated initializers in
// that order compile; new members only ever go at the end.
struct client_options {
  std::string dsn{};          // empty: $SENTRY_DSN; still empty: events go nowhere (noop)
  std::string release{};      // empty: $SENTRY_RELEASE
  std::string environment{};  // empty: $SENTRY_ENVIRONMENT
  std::string server_name{};  // empty: the host name
  std::string dist{};
  double sample_rate = 1.0;  // keep probability of each event; 0.0 drops all (not Go's 1.0)
  int max_breadcrumbs = scope::default_max_breadcrumbs;  // 0: 100; < 0: no breadcrumbs
  // attach_stacktrace: capture_message adds the capturing goroutine's stack (a "threads"
  // entry), and capture_exception the capture's stack to an exception whose throw site is
  // not known (throw-site traces off, or thrown too long ago: rt/hub/stacktrace.hpp).
  bool attach_stacktrace = false;
  // debug: log every event that is dropped or fails, and why, as "[Sentry] ..." lines
  // (warning level) through debug_logger (null: a logger writing to stderr, as sentry-go).
  bool debug = false;
  std::function<std::optional<event>(event)> before_send{};                  // nullopt drops
  std::function<std::optional<breadcrumb>(breadcrumb)> before_breadcrumb{};  // nullopt drops
  std::shared_ptr<rt::transport> transport{};  // null: HTTP if a DSN is set, else noop
  // Per request of the HTTP transport the client builds from the DSN (sentry-go's
  // HTTPTransport.Timeout, 30 s). A transport given in `transport` keeps its own.
  std::chrono::milliseconds http_timeout{30'000};
  // How long a client being destroyed (the last reference dropped, e.g. replaced by
  // init_client/bind_client) keeps delivering what it queued, in the background, before
  // its in-flight request is aborted. sentry-go has no such option: 2 s is the
  // Flush(2 * time.Second) its documentation tells programs to defer, and what rt's panic
  // observer uses.
  std::chrono::milliseconds shutdown_timeout{2'000};
  // See `debug`. Its sinks must outlive the client's background retirement (see
  // ~client): prefer sinks that own their output (e.g. spdlog's ringbuffer_sink).
  std::shared_ptr<spdlog::logger> debug_logger{};
};

// A client's counters: its transport's (see rt::transport_stats) and the events the
// client itself dropped before they reached the transport.
struct client_stats : transport_stats {
  std::uint64_t sampled_out = 0;                 // by sample_rate
  std::uint64_t dropped_by_event_processor = 0;  // a scope or client processor returned nullopt
  std::uint64_t dropped_by_before_send = 0;      // before_send returned nullopt
  bool operator==(const client_stats&) const = default;
};

class client {
 public:
  // Normalises the options (environment fallbacks, max_breadcrumbs 0 -> 100) and builds
  // the transport: the given one (configure() is called on it), else an rt::http_transport
  // when a DSN is set, else a noop_transport. Throws rt::dsn_error for a bad DSN (then no
  // client exists). Registers, once per process, the panic observer that captures a
  // panicking goroutine's exception on its hub.
  explicit client(client_options options);
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  ~client();

  const client_options& options() const noexcept { return options_; }
  const std::shared_ptr<rt::transport>& transport() const noexcept { return options_.transport; }

  // add_event_processor appends a client-level processor (runs after the scope's, before
  // before_send). Not safe concurrently with captures: call it before sharing the client.
  void add_event_processor(event_processor processor);

  // The captures return the event id, or "" when the event was dropped (sampled out, an
  // event processor or before_send returned nullopt). They never park; what user hooks
  // (processors, before_send) throw propagates. A null `scope` merges nothing.
  // capture_message: level `lvl`; an empty message captures a "sentry.usageError" instead.
  std::string capture_message(std::string_view message, level lvl, const event_hint& hint,
                              const scope* scope);
  // capture_exception: level error, exception chain of `e`; null `e` is a usage error.
  std::string capture_exception(std::exception_ptr e, const event_hint& hint, const scope* scope);
  std::string capture_event(event ev, const event_hint& hint, const scope* scope);
  // recover: level fatal; a std::exception becomes an exception event, a thrown const
  // char*/std::string a message event with its text, anything else a message event
  // "unknown exception of type <T>". Null `e`: "" and nothing happens.
  std::string recover(std::exception_ptr e, const event_hint& hint, const scope* scope);

  // flush waits until the transport sent what was captured before the call, at most
  // `timeout`; returns whether it got there. Parks a goroutine, blocks a plain thread.
  bool flush(std::chrono::nanoseconds timeout);
  // close stops the transport's background work at once (an HTTP request in flight is
  // aborted, queued events are dropped); idempotent.
  void close();
  // close(timeout) delivers what was captured before the call for at most `timeout`, then
  // close(): an HTTP request still in flight is aborted and counts as failed. Returns
  // whether everything was delivered. Parks a goroutine, blocks a plain thread.
  bool close(std::chrono::nanoseconds timeout);

  // stats: the transport's counters (rt::transport::stats) and the client's own drops.
  client_stats stats() const;

  // The destructor never waits: unless close() was called, a transport that delivers in
  // the background (rt::transport::delivers_in_background) and that no one else holds is
  // handed to a background thread that runs close(shutdown_timeout)
  // on it, so what this client queued is still delivered. Those threads are joined at
  // process exit (std::exit), each within its shutdown timeout.

 private:
  // process runs the pipeline (sentry-go's processEvent) on `ev` in place; false: the event was
  // dropped.
  bool process(event& ev, const event_hint& hint, const scope* scope);

  void debug_log(const std::string& message) const;  // when options_.debug

  client_options options_;                   // immutable after construction
  std::vector<event_processor> processors_;  // see add_event_processor
  std::atomic<std::uint64_t> sampled_out_{0}, dropped_by_processor_{0}, dropped_by_before_send_{0};
  std::atomic<bool> closed_{false};  // close() or close(timeout) was called
};

}  // namespace rt
