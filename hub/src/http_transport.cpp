// http_transport.cpp — rt::http_transport and rt::http_sync_transport
// (rt/hub/http_transport.hpp): the bounded queue, the sender thread, the libcurl requests
// (gzip-compressed bodies above gzip_threshold) and the diagnostics of every event that is
// not delivered.
//
// Owns: http_transport's state (the pimpl: queue, sequence counters flush waits on, rate
// limits, counters, the sender thread and its poster, whose connection is reused).
// Invariant: items leave the queue in FIFO order and handled_ counts them as they finish,
// so "every item with seq <= n is handled" is exactly "handled_ >= n"; a flush that
// snapshots enqueued_ at its call waits for precisely the items sent before it. Every
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
#include <curl/curl.h>
#include <zlib.h>

#include <strings.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <optional>
#include <system_error>
#include <thread>

#include "internal.hpp"
#include "rt/blocking.hpp"
#include "rt/hub/client.hpp"
#include "rt/hub/http_transport.hpp"
#include "rt/hub/json.hpp"

namespace rt {
namespace {

constexpr std::size_t response_drain_limit = 16 * 1024;
constexpr std::size_t body_excerpt_limit = 200;  // bytes of a failed answer's body logged
// Envelopes larger than this are sent gzip-compressed, with "Content-Encoding: gzip"
// (Relay accepts gzip, deflate and br bodies:
// https://develop.sentry.dev/sdk/expected-features/#http-client-compression suggests
// compressing; below about 1 KiB gzip's 18 bytes of framing and the CPU time buy little).
constexpr std::size_t gzip_threshold = 1024;

// gzip compresses `data` as one gzip member (RFC 1952) at zlib's default level; false
// when zlib fails (then the body goes out uncompressed).
bool gzip(const std::string& data, std::string& out) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END;
}

void global_curl_init() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    throw std::runtime_error(std::string("rt::http_transport: curl_global_init failed: ") +
                             curl_easy_strerror(rc));
  }
}

// What one request's response told us.
struct response {
  long status = 0;        // 0: no HTTP answer
  bool answered = false;  // the transfer completed (status is the server's)
  bool aborted = false;   // close() ended it
  std::string error;      // libcurl's error text when not answered
  std::string rate_limits;
  std::string retry_after;
  std::string body;  // the first body_excerpt_limit bytes
  std::size_t body_bytes = 0;
};

// Matches "Name:" case-insensitively at the start of a header line; returns the value.
std::optional<std::string_view> header_value(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':' ||
      strncasecmp(line.data(), name.data(), name.size()) != 0) {
    return std::nullopt;
  }
  std::string_view v = line.substr(name.size() + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
    v.remove_suffix(1);
  return v;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<response*>(user);
  const std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) *r = response{};  // a new response (e.g. after a redirect)
  if (auto v = header_value(line, "X-Sentry-Rate-Limits")) r->rate_limits = *v;
  if (auto v = header_value(line, "Retry-After")) r->retry_after = *v;
  return size * n;
}

// Drains the body, up to response_drain_limit bytes, keeping an excerpt, then stops.
std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<response*>(user);
  if (r->body.size() < body_excerpt_limit)
    r->body.append(data, std::min(size * n, body_excerpt_limit - r->body.size()));
  r->body_bytes += size * n;
  return r->body_bytes > response_drain_limit ? 0 : size * n;
}

}  // namespace

namespace detail {

// One libcurl easy handle set up to POST envelopes to one endpoint, driven through its
// own multi handle so that another thread can wake and abort a request; its connection
// is reused from request to request. post() is used by one thread at a time; abort()
// may be called from any thread.
class envelope_poster {
 public:
  envelope_poster(const std::string& url, const std::string& auth_line,
                  std::chrono::milliseconds timeout)
      : curl_(curl_easy_init(), curl_easy_cleanup),
        multi_(curl_multi_init(), curl_multi_cleanup),
        headers_(nullptr, curl_slist_free_all),
        gzip_headers_(nullptr, curl_slist_free_all) {
    curl_slist* headers = nullptr;
    for (const char* h :
         {"Content-Type: application/x-sentry-envelope", auth_line.c_str(), "Expect:", "Accept:"}) {
      headers = curl_slist_append(headers, h);
    }
    headers_.reset(headers);
    curl_slist* gzip_headers = nullptr;
    for (curl_slist* h = headers; h; h = h->next)
      gzip_headers = curl_slist_append(gzip_headers, h->data);
    gzip_headers_.reset(curl_slist_append(gzip_headers, "Content-Encoding: gzip"));
    if (!curl_) return;
    CURL* c = curl_.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());  // libcurl copies strings it is given
    curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent().c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp_);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp_);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_);
  }

  // post sends one envelope, gzip-compressed when over gzip_threshold bytes, and returns
  // the answer. Blocks the calling thread for at most the request timeout, or until abort().
  response post(const std::string& envelope) {
    resp_ = response{};
    error_[0] = '\0';
    if (!curl_ || !multi_) {
      resp_.error = "cannot create a libcurl handle";
      return resp_;
    }
    CURL* c = curl_.get();
    CURLM* m = multi_.get();
    const bool compressed = envelope.size() > gzip_threshold && gzip(envelope, compressed_);
    const std::string& body = compressed ? compressed_ : envelope;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, compressed ? gzip_headers_.get() : headers_.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_multi_add_handle(m, c);
    CURLcode rc = CURLE_OK;
    int running = 1;
    while (true) {
      if (aborted_.load(std::memory_order_acquire)) {
        resp_.aborted = true;
        break;
      }
      const CURLMcode mc = curl_multi_perform(m, &running);
      if (mc != CURLM_OK) {
        resp_.error = curl_multi_strerror(mc);
        break;
      }
      if (running == 0) {
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
          if (msg->msg == CURLMSG_DONE) rc = msg->data.result;
        }
        break;
      }
      // A wake-up sent before this call makes it return at once, so none is lost.
      curl_multi_poll(m, nullptr, 0, 1000, nullptr);
    }
    curl_multi_remove_handle(m, c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp_.status);
    if (resp_.aborted) {
      resp_.error = "request aborted by close";
    } else if (resp_.error.empty()) {
      // A body cut at the drain limit ends the transfer with a write error; the answer counts.
      resp_.answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && resp_.status != 0);
      if (!resp_.answered) resp_.error = error_[0] != '\0' ? error_ : curl_easy_strerror(rc);
    }
    return resp_;
  }

  // abort makes the request in flight, and every later one, end at once (not answered).
  void abort() {
    aborted_.store(true, std::memory_order_release);
    if (multi_) curl_multi_wakeup(multi_.get());
  }

 private:
  static const std::string& user_agent() {
    static const std::string ua = std::string(sdk_name) + "/" + std::string(sdk_version);
    return ua;
  }
  std::unique_ptr<CURL, void (*)(CURL*)> curl_;
  std::unique_ptr<CURLM, CURLMcode (*)(CURLM*)> multi_;
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers_;
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> gzip_headers_;  // headers_ + encoding
  std::string compressed_;  // the gzip body of the request in flight (reused)
  response resp_;           // filled by the callbacks during post()
  char error_[CURL_ERROR_SIZE] = {};
  std::atomic<bool> aborted_{false};
};

}  // namespace detail

namespace {

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

// account merges the rate limits an answer carried and counts its outcome (SPEC 6, 7.1);
// returns the diagnostic line when the event was not delivered, else "".
std::string account(const response& r, const std::string& event_id, const std::string& url,
                    rate_limits& limits, http_transport_stats& stats) {
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
      const response r = poster.post(it.envelope);
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
  global_curl_init();
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
    const auto deadline = std::chrono::steady_clock::now() +
                          std::min(timeout, std::chrono::nanoseconds(std::chrono::hours(24 * 365)));
    return s.done_cv.wait_until(lk, deadline, [&] { return s.closed || s.handled >= target; }) &&
           !s.closed;
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

http_sync_transport::http_sync_transport(rt::dsn dsn, std::chrono::milliseconds request_timeout)
    : dsn_(std::move(dsn)),
      request_timeout_(request_timeout),
      url_(dsn_.envelope_url()),
      auth_(auth_line(dsn_)) {
  global_curl_init();
}

http_sync_transport::~http_sync_transport() = default;

void http_sync_transport::configure(const client_options& options) {
  std::shared_ptr<spdlog::logger> log = detail::sdk_logger(options);
  std::lock_guard lk(mu_);
  log_ = std::move(log);
}

void http_sync_transport::send_event(event ev) {
  std::unique_ptr<detail::envelope_poster> poster;
  std::shared_ptr<spdlog::logger> log;
  std::string limited;
  {
    std::lock_guard lk(mu_);
    log = log_;
    if (const auto until = limited_until(limits_)) {
      ++stats_.rate_limited;
      limited = rate_limited_text(ev.event_id, *until);
    } else if (!idle_.empty()) {
      poster = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!limited.empty()) {
    detail::sdk_log(log, limited);
    return;
  }
  std::string diagnostic;
  const std::optional<std::string> envelope = envelope_of(ev, dsn_, diagnostic);
  if (!envelope) {
    {
      std::lock_guard lk(mu_);
      ++stats_.dropped_oversize;
      if (poster) idle_.push_back(std::move(poster));
    }
    detail::sdk_log(log, diagnostic);
    return;
  }
  if (!poster) poster = std::make_unique<detail::envelope_poster>(url_, auth_, request_timeout_);
  const response r = rt::blocking([&] { return poster->post(*envelope); });
  {
    std::lock_guard lk(mu_);
    diagnostic = account(r, ev.event_id, url_, limits_, stats_);
    idle_.push_back(std::move(poster));
  }
  if (!diagnostic.empty()) detail::sdk_log(log, diagnostic);
}

http_transport_stats http_sync_transport::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

}  // namespace rt
