// rt/hub/transport.hpp — rt::transport, where a client hands its prepared events, and
// the in-process transports: rt::memory_transport (tests, inspection), rt::log_transport
// (one JSON line per event through spdlog) and rt::noop_transport.
//
// Example:
//   auto mem = std::make_shared<rt::memory_transport>();
//   rt::init_client({.transport = mem});
//   rt::capture_message("hello");
//   assert(mem->events().size() == 1);
//
// Owns: the transport interface (sentry-go's Transport) and the transports that never
// touch the network (rt/hub/http_transport.hpp has the HTTP one).
// Invariant: every transport is safe for concurrent use; send_event never blocks a worker
// thread and never throws for a well-formed event (only rt::http_sync_transport waits for
// the network, and it parks the calling goroutine to do so).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "rt/hub/event.hpp"
#include "rt/mutex.hpp"

namespace spdlog {
class logger;
}

namespace rt {

struct client_options;

// What happened to the events handed to one transport. Once a transport has handled an
// event (flush returned true, or close returned), that event is counted in exactly one of
// these, so their sum is the number of send_event calls handled.
struct transport_stats {
  std::uint64_t sent = 0;              // delivered (HTTP: answered 2xx)
  std::uint64_t failed = 0;            // not delivered: a non-2xx answer, a network error, or
                                       // a request aborted by close(timeout) or the timeout
  std::uint64_t rate_limited = 0;      // dropped by a rate limit (at send_event or send time)
  std::uint64_t queue_full = 0;        // dropped because the queue was full
  std::uint64_t dropped_closed = 0;    // dropped by close: sent after it, or still queued
  std::uint64_t dropped_oversize = 0;  // dropped (HTTP transports): its JSON is over Relay's
                                       // 1 MiB limit even without breadcrumbs and extras
  bool operator==(const transport_stats&) const = default;
};

class transport {
 public:
  virtual ~transport() = default;
  // configure is called once by the client that adopts this transport, with its options.
  virtual void configure(const client_options& options) {}
  // send_event takes a prepared event. Must not block a worker thread on I/O: queue the
  // event for a thread of the transport's own, or run the I/O through rt::blocking.
  virtual void send_event(event ev) = 0;
  // flush waits until every event sent before the call has been handled, at most
  // `timeout`; returns whether it got there.
  virtual bool flush(std::chrono::nanoseconds timeout) = 0;
  // close stops background work at once (an HTTP transport aborts its request in flight
  // and drops what is queued); idempotent. Later sends are dropped.
  virtual void close() {}
  // close(timeout) first delivers what was sent before the call, for at most `timeout`,
  // then close(): returns whether everything was delivered in time. The default is
  // flush(timeout) then close().
  virtual bool close(std::chrono::nanoseconds timeout) {
    const bool delivered = flush(timeout);
    close();
    return delivered;
  }
  // delivers_in_background: whether events may still be waiting for delivery after
  // send_event returned (a queue, a sender thread). A client destroyed while holding the
  // last reference to such a transport retires it in the background with
  // close(shutdown_timeout) instead of destroying it on the spot. Default: false.
  virtual bool delivers_in_background() const { return false; }
  // stats: the counters above. Transports that keep none return zeros (the default).
  virtual transport_stats stats() const { return {}; }
};

// Discards every event (an empty DSN and no transport). flush returns true.
class noop_transport final : public transport {
 public:
  void send_event(event) override {}
  bool flush(std::chrono::nanoseconds) override { return true; }
};

// Keeps every event, synchronously at send time. flush returns true at once.
class memory_transport final : public transport {
 public:
  void send_event(event ev) override;  // takes a short lock (parks only while contended)
  bool flush(std::chrono::nanoseconds) override { return true; }
  std::vector<event> events() const;  // a copy of every event kept so far, oldest first
  void clear();

 private:
  mutable rt::mutex mu_;      // parks contending goroutines instead of blocking workers
  std::deque<event> events_;  // guarded by mu_; a deque never moves kept events
};

// Writes each event as one compact JSON line (rt::event_to_json) through an spdlog logger,
// at the spdlog level matching the event's. Whether that blocks is the logger's sinks'
// business (a file sink writes on the calling thread; use an async logger to avoid it).
class log_transport final : public transport {
 public:
  // Null `logger`: spdlog's default logger at the time of each send.
  explicit log_transport(std::shared_ptr<spdlog::logger> logger = nullptr);
  void send_event(event ev) override;
  bool flush(std::chrono::nanoseconds) override;  // flushes the logger; returns true

 private:
  std::shared_ptr<spdlog::logger> logger_;  // immutable after construction
};

}  // namespace rt
