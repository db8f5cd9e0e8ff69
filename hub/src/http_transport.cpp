// http_transport.cpp — rt::http_transport and rt::http_sync_transport
// (rt/hub/http_transport.hpp): preparing each request (the envelope within Relay's size
// limit, the auth header), the bounded queue and the sender thread, rate limits, counters
// and the diagnostics of every event that is not delivered. The POST itself is
// curl_poster.cpp's.
//
// Owns: both transports' state (pimpls: http_transport's queue, sequence counters flush
// waits on, rate limits, counters, the sender thread and its poster, whose connection is
// reused; http_sync_transport's rate limits, counters, idle posters and the tickets of
// the sends in flight, which its flush waits on).
// Invariant: items leave the queue in FIFO order and handled_ counts them as they finish,
// so "every item with seq <= n is handled" is exactly "handled_ >= n"; a flush that
// snapshots enqueued_ at its call waits for precisely the items sent before it. Likewise a
// sync flush waits for precisely the sends whose ticket is at most `started` at its call. Every
// send_event is counted once (transport_stats) and, with debug on, each one not sent is
// logged once, outside the lock.
//
// Sender loop, as numbered steps:
//   1. Under mu, wait until the queue is non-empty or closed; on closed exit.
//   2. Pop the front item; if its category is rate limited now, drop it (step 5).
//   3. Release mu and POST it (blocking this thread only, at most request_timeout; close()
//      sets the abort flag and wakes the poll, which ends the request at once).
//   4. Under mu, merge the response's rate limits and count the outcome.
//   5. Log the outcome if it was not a success (outside mu), then finish(seq): handled =
//      seq, wake flushers. So a flush that returned true saw every line already written.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#include "curl_poster.hpp"
#include "internal.hpp"
#include "rt/blocking.hpp"
#include "rt/hub/client.hpp"
#include "rt/hub/http_transport.hpp"
#include "rt/hub/json.hpp"
#include "rt/hub/rate_limits.hpp"

namespace rt {

namespace {

// deadline_in: when a flush of `timeout` gives up; the timeout is capped at a year, so
// nanoseconds::max() ("no limit") cannot overflow the clock.
std::chrono::steady_clock::time_point deadline_in(std::chrono::nanoseconds timeout) {
  return std::chrono::steady_clock::now() +
         std::min(timeout, std::chrono::nanoseconds(std::chrono::hours(24 * 365)));
}

std::string auth_line(const rt::dsn& d) {
  return "X-Sentry-Auth: " + d.auth_header(sdk_name, sdk_version);
}

// limited_until: when the error category is rate limited now, until when (for the log).
std::optional<rate_limits::clock::time_point> limited_until(const rate_limits& limits) {
  if (!limits.is_limited(rate_category::error, rate_limits::clock::now())) return std::nullopt;
  return limits.deadline(rate_category::error);
}

std::string rate_limited_text(const std::string& event_id, rate_limits::clock::time_point until) {
  return "event " + event_id + " dropped: rate limited (category error) until " +
         format_timestamp(until);
}

// envelope_of: the envelope of `ev` within Relay's event size limit (its oldest
// breadcrumbs, then largest extras, dropped as needed: detail::fit_event_json), or nullopt
// with `diagnostic` set and the drop counted when even that is too large.
std::optional<std::string> envelope_of(event& ev, const rt::dsn& d, std::string& diagnostic) {
  const std::string payload = detail::fit_event_json(ev);
  if (payload.size() > detail::max_event_bytes) {
    diagnostic = "event " + ev.event_id + " dropped: its JSON is " +
                 std::to_string(payload.size()) + " bytes without breadcrumbs and extras, over " +
                 "Relay's limit of " + std::to_string(detail::max_event_bytes) + " bytes";
    return std::nullopt;
  }
  return make_envelope(ev.event_id, std::chrono::system_clock::now(), &d, sdk_name, sdk_version,
                       payload);
}

// account merges the rate limits an answer carried and counts its outcome (sentry-go's
// HTTPTransport: a 429 or X-Sentry-Rate-Limits limits, anything but 2xx loses the event);
// returns the diagnostic line when the event was not delivered, else "".
std::string account(const detail::http_response& r, const std::string& event_id,
                    const std::string& url, rate_limits& limits, http_transport_stats& stats) {
  if (r.status != 0) {
    limits.merge(rate_limits::from_response(static_cast<int>(r.status), r.rate_limits,
                                            r.retry_after, rate_limits::clock::now()));
  }
  if (r.answered && r.status >= 200 && r.status < 300) {
    ++stats.sent;
    return {};
  }
  ++stats.failed;
  if (!r.answered) return "event " + event_id + " failed: " + r.error + " (" + url + ")";
  std::string line = "event " + event_id + " failed: HTTP " + std::to_string(r.status) + " from " +
                     url + ", body: \"" + r.body + "\"";
  if (r.body_bytes > r.body.size()) line += " (" + std::to_string(r.body_bytes) + " bytes)";
  if (r.status == 429) {
    if (const auto until = limits.deadline(rate_category::error))
      line += "; rate limited (category error) until " + format_timestamp(*until);
  }
  return line;
}

}  // namespace

// ---- http_transport -------------------------------------------------------------------

namespace detail {

struct http_transport_state {
  struct item {
    std::string envelope;
    std::string event_id;
    std::uint64_t seq;
  };

  http_transport_state(rt::dsn d, http_transport_options o)
      : dsn(std::move(d)),
        options(o),
        url(dsn.envelope_url()),
        poster(url, auth_line(dsn), options.request_timeout) {}

  void sender_loop();
  void finish(std::uint64_t seq) {  // requires mu held
    handled = seq;
    done_cv.notify_all();
  }

  const rt::dsn dsn;
  const http_transport_options options;
  const std::string url;
  detail::envelope_poster poster;  // post: the sender thread only; abort: close()

  mutable std::mutex mu;
  std::condition_variable work_cv;      // sender waits for items or close
  std::condition_variable done_cv;      // flushers wait for handled to advance
  std::deque<item> queue;               // guarded by mu
  std::uint64_t enqueued = 0;           // guarded by mu: sequence of the last enqueued item
  std::uint64_t handled = 0;            // guarded by mu: items handled (FIFO, so a prefix)
  bool closed = false;                  // guarded by mu
  rate_limits limits;                   // guarded by mu
  http_transport_stats stats;           // guarded by mu
  std::shared_ptr<spdlog::logger> log;  // guarded by mu; null: debug off
  std::thread sender;                   // joined by close()
  std::once_flag close_once;
};

void http_transport_state::sender_loop() {
  std::unique_lock lk(mu);
  while (true) {
    work_cv.wait(lk, [&] { return closed || !queue.empty(); });  // step 1
    if (closed) return;
    item it = std::move(queue.front());
    queue.pop_front();
    std::string diagnostic;
    if (const auto until = limited_until(limits)) {  // step 2
      ++stats.rate_limited;
      diagnostic = rate_limited_text(it.event_id, *until);
    } else {
      lk.unlock();  // step 3
      const detail::http_response r = poster.post(it.envelope);
      lk.lock();  // step 4
      diagnostic = account(r, it.event_id, url, limits, stats);
    }
    if (!diagnostic.empty() && log) {  // logged before flushers see the item handled
      std::shared_ptr<spdlog::logger> l = log;
      lk.unlock();
      sdk_log(l, diagnostic);
      lk.lock();
    }
    finish(it.seq);  // step 5
  }
}

}  // namespace detail

http_transport::http_transport(rt::dsn dsn, http_transport_options options) {
  detail::global_curl_init();
  state_ = std::make_unique<detail::http_transport_state>(std::move(dsn), options);
  state_->sender = std::thread([s = state_.get()] { s->sender_loop(); });
}

http_transport::~http_transport() {
  close();
}

void http_transport::configure(const client_options& options) {
  std::shared_ptr<spdlog::logger> log = detail::sdk_logger(options);
  std::lock_guard lk(state_->mu);
  state_->log = std::move(log);
}

void http_transport::send_event(event ev) {
  detail::http_transport_state& s = *state_;
  std::string diagnostic;
  std::shared_ptr<spdlog::logger> log;
  {
    std::unique_lock lk(s.mu);
    log = s.log;
    if (s.closed) {
      ++s.stats.dropped_closed;
      diagnostic = "event " + ev.event_id + " dropped: the transport is closed";
    } else if (const auto until = limited_until(s.limits)) {
      ++s.stats.rate_limited;
      diagnostic = rate_limited_text(ev.event_id, *until);
    } else {
      lk.unlock();
      std::optional<std::string> envelope = envelope_of(ev, s.dsn, diagnostic);  // on the caller
      lk.lock();
      if (!envelope) {
        ++s.stats.dropped_oversize;
      } else if (s.closed) {
        ++s.stats.dropped_closed;
        diagnostic = "event " + ev.event_id + " dropped: the transport is closed";
      } else if (s.queue.size() >= s.options.queue_size) {
        ++s.stats.queue_full;
        diagnostic = "event " + ev.event_id + " dropped: the transport's queue is full (" +
                     std::to_string(s.options.queue_size) + " envelopes)";
      } else {
        s.queue.push_back({std::move(*envelope), ev.event_id, ++s.enqueued});
        lk.unlock();
        s.work_cv.notify_one();
        return;
      }
    }
  }
  detail::sdk_log(log, diagnostic);
}

bool http_transport::flush(std::chrono::nanoseconds timeout) {
  detail::http_transport_state& s = *state_;
  // The wait is on a std::condition_variable; a goroutine hands it to the blocking pool
  // and parks meanwhile.
  return rt::blocking([&] {
    std::unique_lock lk(s.mu);
    const std::uint64_t target = s.enqueued;
    return s.done_cv.wait_until(lk, deadline_in(timeout), [&] {
      return s.closed || s.handled >= target;
    }) && !s.closed;
  });
}

void http_transport::close() {
  detail::http_transport_state& s = *state_;
  std::call_once(s.close_once, [&s] {
    std::size_t discarded = 0;
    std::shared_ptr<spdlog::logger> log;
    {
      std::lock_guard lk(s.mu);
      s.closed = true;
      discarded = s.queue.size();
      s.stats.dropped_closed += discarded;
      s.queue.clear();
      log = s.log;
    }
    s.poster.abort();  // the request in flight, if any, ends now and counts as failed
    s.work_cv.notify_all();
    s.done_cv.notify_all();
    if (s.sender.joinable()) rt::blocking([&s] { s.sender.join(); });
    if (discarded != 0) {
      detail::sdk_log(
          log, std::to_string(discarded) + " queued event(s) dropped: the transport was closed");
    }
  });
}

bool http_transport::close(std::chrono::nanoseconds timeout) {
  const bool delivered = flush(timeout);
  close();
  return delivered;
}

http_transport_stats http_transport::stats() const {
  std::lock_guard lk(state_->mu);
  return state_->stats;
}

// ---- http_sync_transport --------------------------------------------------------------

namespace detail {

struct http_sync_state {
  http_sync_state(rt::dsn d, std::chrono::milliseconds timeout)
      : dsn(std::move(d)),
        request_timeout(timeout),
        url(dsn.envelope_url()),
        auth(auth_line(dsn)) {}

  const rt::dsn dsn;
  const std::chrono::milliseconds request_timeout;
  const std::string url, auth;

  mutable std::mutex mu;
  std::condition_variable done_cv;                     // flushers wait for in_flight to shrink
  std::uint64_t started = 0;                           // guarded by mu: ticket of the last send
  std::set<std::uint64_t> in_flight;                   // guarded by mu: tickets of running sends
  rate_limits limits;                                  // guarded by mu
  http_transport_stats stats;                          // guarded by mu
  std::vector<std::unique_ptr<envelope_poster>> idle;  // guarded by mu
  std::shared_ptr<spdlog::logger> log;                 // guarded by mu; null: quiet
};

// sync_send: one send_event's ticket, taken under mu at its start and given back when the
// send returns, after everything it counts and logs (so a flush that saw it end sees
// those too).
class sync_send {
 public:
  explicit sync_send(http_sync_state& s) : s_(s), ticket_(++s.started) {
    s.in_flight.insert(ticket_);
  }
  sync_send(const sync_send&) = delete;
  sync_send& operator=(const sync_send&) = delete;
  ~sync_send() {
    {
      std::lock_guard lk(s_.mu);
      s_.in_flight.erase(ticket_);
    }
    s_.done_cv.notify_all();
  }

 private:
  http_sync_state& s_;
  const std::uint64_t ticket_;
};

}  // namespace detail

http_sync_transport::http_sync_transport(rt::dsn dsn, std::chrono::milliseconds request_timeout)
    : state_(std::make_unique<detail::http_sync_state>(std::move(dsn), request_timeout)) {
  detail::global_curl_init();
}

http_sync_transport::~http_sync_transport() = default;

void http_sync_transport::configure(const client_options& options) {
  std::shared_ptr<spdlog::logger> log = detail::sdk_logger(options);
  std::lock_guard lk(state_->mu);
  state_->log = std::move(log);
}

void http_sync_transport::send_event(event ev) {
  detail::http_sync_state& s = *state_;
  std::unique_ptr<detail::envelope_poster> poster;
  std::shared_ptr<spdlog::logger> log;
  std::string limited;
  std::optional<detail::sync_send> ticket;
  {
    std::lock_guard lk(s.mu);
    ticket.emplace(s);
    log = s.log;
    if (const auto until = limited_until(s.limits)) {
      ++s.stats.rate_limited;
      limited = rate_limited_text(ev.event_id, *until);
    } else if (!s.idle.empty()) {
      poster = std::move(s.idle.back());
      s.idle.pop_back();
    }
  }
  if (!limited.empty()) {
    detail::sdk_log(log, limited);
    return;
  }
  std::string diagnostic;
  const std::optional<std::string> envelope = envelope_of(ev, s.dsn, diagnostic);
  if (!envelope) {
    {
      std::lock_guard lk(s.mu);
      ++s.stats.dropped_oversize;
      if (poster) s.idle.push_back(std::move(poster));
    }
    detail::sdk_log(log, diagnostic);
    return;
  }
  if (!poster) poster = std::make_unique<detail::envelope_poster>(s.url, s.auth, s.request_timeout);
  const detail::http_response r = rt::blocking([&] { return poster->post(*envelope); });
  {
    std::lock_guard lk(s.mu);
    diagnostic = account(r, ev.event_id, s.url, s.limits, s.stats);
    s.idle.push_back(std::move(poster));
  }
  if (!diagnostic.empty()) detail::sdk_log(log, diagnostic);
}

bool http_sync_transport::flush(std::chrono::nanoseconds timeout) {
  detail::http_sync_state& s = *state_;
  return rt::blocking([&] {
    std::unique_lock lk(s.mu);
    const std::uint64_t target = s.started;
    return s.done_cv.wait_until(lk, deadline_in(timeout), [&] {
      return s.in_flight.empty() || *s.in_flight.begin() > target;
    });
  });
}

http_transport_stats http_sync_transport::stats() const {
  std::lock_guard lk(state_->mu);
  return state_->stats;
}

}  // namespace rt
