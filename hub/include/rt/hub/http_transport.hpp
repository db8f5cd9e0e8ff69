// rt/hub/http_transport.hpp — the HTTP transports: rt::http_transport, sentry-go's
// asynchronous HTTPTransport (envelopes POSTed through libcurl by the transport's own
// sender thread), and rt::http_sync_transport, its HTTPSyncTransport (each send does the
// whole request and returns afterwards).
//
// Example:
//   auto t = std::make_shared<rt::http_transport>(rt::dsn::parse(dsn_text),
//                                                 rt::http_transport_options{.queue_size = 5000});
//   rt::init_client({.transport = t});
//   ...
//   rt::flush(std::chrono::seconds(2));
//
// Owns (http_transport): a bounded FIFO of ready envelopes, one sender thread (a plain
// std::thread, never a goroutine or a worker) that POSTs them one at a time, and the
// server's rate limits; all of it behind a pimpl (src/http_transport.cpp), so this header
// needs neither libcurl nor the standard threading headers.
// Invariant: send_event never waits for the network or for queue room: it serialises the
// event on the caller, then enqueues or drops (rate limited, queue full, closed) under a
// short lock. Every event handed to send_event is counted exactly once in stats(): sent,
// failed (including a request aborted by close), rate limited, queue full, or dropped by
// close; with configure(debug), every one that is not sent is logged with its reason.
//
// Owns (http_sync_transport): the rate limits and a free list of libcurl handles, so that
// concurrent sends each have one and sequential sends reuse its connection; also behind a
// pimpl.
//
// Request (sentry-go's and Sentry's envelope endpoint): POST dsn.envelope_url(), Content-Type
// application/x-sentry-envelope, User-Agent <sdk>/<version>, X-Sentry-Auth as rt::dsn::auth_header.
// Responses: 2xx is success; anything else loses the event (no retry). Rate limits are read from
// every response. Each request times out after options.request_timeout (libcurl's
// CURLOPT_TIMEOUT_MS) and is run through a curl multi handle, so close() can wake it and
// abort it at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "rt/hub/dsn.hpp"
#include "rt/hub/transport.hpp"

namespace rt {

namespace detail {
struct http_transport_state;  // http_transport.cpp
struct http_sync_state;
}  // namespace detail

struct http_transport_options {
  std::size_t queue_size = 1000;                      // envelopes waiting; full: drop
  std::chrono::milliseconds request_timeout{30'000};  // per POST
};

// The HTTP transports' counters are rt::transport_stats (rt/hub/transport.hpp).
using http_transport_stats = transport_stats;

class http_transport final : public transport {
 public:
  // Starts the sender thread. Throws std::system_error if it cannot be started.
  explicit http_transport(rt::dsn dsn, http_transport_options options = {});
  ~http_transport() override;  // close()

  // configure takes the client's diagnostics settings (debug, debug_logger).
  void configure(const client_options& options) override;
  // send_event: drops the event when closed, rate limited (category error) or the queue is
  // full; else builds the envelope on the calling thread and enqueues it. Never blocks on
  // I/O; takes a short lock.
  void send_event(event ev) override;
  // flush waits until every envelope enqueued before the call has been handled, or
  // `timeout` passed (false; the envelopes stay queued). After close: false. Parks a
  // calling goroutine (rt::blocking); blocks a plain thread.
  bool flush(std::chrono::nanoseconds timeout) override;
  // close aborts the request in flight (it counts as failed), drops what is queued and
  // stops the sender thread. Idempotent; waits until the thread has exited, which takes
  // no longer than a libcurl wake-up (parks a goroutine, blocks a thread).
  void close() override;
  // close(timeout): flush(timeout), then close().
  bool close(std::chrono::nanoseconds timeout) override;

  bool delivers_in_background() const override { return true; }
  http_transport_stats stats() const override;

 private:
  std::unique_ptr<detail::http_transport_state> state_;
};

// As sentry-go's HTTPSyncTransport: send_event checks the rate limits, serialises the event and
// POSTs it, and returns when the answer is in (or the request failed or timed out): a calling
// goroutine parks meanwhile (the request runs in the blocking pool, rt/blocking.hpp), a plain
// thread blocks. flush waits for the sends in flight when it is called (sentry-go's returns
// at once, so a panicking goroutine's event could still be on its way); close does nothing.
// Never throws for a well-formed event: failures are counted in stats() (and logged with
// configure(debug)).
class http_sync_transport final : public transport {
 public:
  explicit http_sync_transport(
      rt::dsn dsn, std::chrono::milliseconds request_timeout = std::chrono::seconds(30));
  ~http_sync_transport() override;

  void configure(const client_options& options) override;
  void send_event(event ev) override;
  // flush waits until every send_event that started before the call (on any goroutine or
  // thread) has returned, or `timeout` passed (false). True at once when none is in
  // flight. Parks a calling goroutine (rt::blocking); blocks a plain thread.
  bool flush(std::chrono::nanoseconds timeout) override;
  using transport::close;

  http_transport_stats stats() const override;  // queue_full stays 0: there is no queue

 private:
  std::unique_ptr<detail::http_sync_state> state_;
};

}  // namespace rt
