// http_transport.cpp — rt::http_transport (rt/hub/http_transport.hpp): the bounded queue,
// the sender thread and the libcurl requests.
//
// Owns: the queue, the sequence counters flush waits on, the rate limits, one CURL easy
// handle (used by the sender thread only, so connections are reused).
// Invariant: items leave the queue in FIFO order and handled_ counts them as they finish,
// so "every item with seq <= n is handled" is exactly "handled_ >= n"; a flush that
// snapshots enqueued_ at its call waits for precisely the items sent before it.
//
// Sender loop, as numbered steps:
//   1. Under mu_, wait until the queue is non-empty or closed_; on closed_ exit.
//   2. Pop the front item; if its category is rate limited now, drop it (step 5).
//   3. Release mu_ and POST it (blocking this thread only, at most request_timeout).
//   4. Under mu_, merge the response's rate limits and count the outcome.
//   5. finish(seq): handled_ = seq, wake flushers.
#include <curl/curl.h>

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <system_error>

#include "rt/blocking.hpp"
#include "rt/hub/client.hpp"
#include "rt/hub/http_transport.hpp"
#include "rt/hub/json.hpp"

namespace rt {
namespace {

constexpr std::size_t response_drain_limit = 16 * 1024;

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
  std::string rate_limits;
  std::string retry_after;
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

// Drains the body, up to response_drain_limit bytes, then stops the transfer.
std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<response*>(user);
  r->body_bytes += size * n;
  return r->body_bytes > response_drain_limit ? 0 : size * n;
}

}  // namespace

namespace detail {

// One libcurl easy handle set up to POST envelopes to one endpoint; its connection is
// reused from request to request. Used by one thread at a time.
class envelope_poster {
 public:
  envelope_poster(const std::string& url, const std::string& auth_line,
                  std::chrono::milliseconds timeout)
      : curl_(curl_easy_init(), curl_easy_cleanup), headers_(nullptr, curl_slist_free_all) {
    curl_slist* headers = nullptr;
    for (const char* h :
         {"Content-Type: application/x-sentry-envelope", auth_line.c_str(), "Expect:", "Accept:"}) {
      headers = curl_slist_append(headers, h);
    }
    headers_.reset(headers);
    if (!curl_) return;
    CURL* c = curl_.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());  // libcurl copies strings it is given
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent().c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp_);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp_);
  }

  // post sends one envelope and returns the answer. Blocks the calling thread for at most
  // the request timeout.
  response post(const std::string& envelope) {
    resp_ = response{};
    if (!curl_) return resp_;
    curl_easy_setopt(curl_.get(), CURLOPT_POSTFIELDS, envelope.data());
    curl_easy_setopt(curl_.get(), CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(envelope.size()));
    const CURLcode rc = curl_easy_perform(curl_.get());
    curl_easy_getinfo(curl_.get(), CURLINFO_RESPONSE_CODE, &resp_.status);
    // A body cut at the drain limit ends the transfer with a write error; the answer counts.
    resp_.answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && resp_.status != 0);
    return resp_;
  }

 private:
  static const std::string& user_agent() {
    static const std::string ua = std::string(sdk_name) + "/" + std::string(sdk_version);
    return ua;
  }
  std::unique_ptr<CURL, void (*)(CURL*)> curl_;
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers_;
  response resp_;  // filled by the callbacks during post()
};

}  // namespace detail

namespace {

std::string auth_line(const rt::dsn& d) {
  return "X-Sentry-Auth: " + d.auth_header(sdk_name, sdk_version);
}

// dropped_by_limit counts and reports an event its category's rate limit drops now.
bool dropped_by_limit(const rate_limits& limits, http_transport_stats& stats) {
  if (!limits.is_limited(rate_category::error, rate_limits::clock::now())) return false;
  ++stats.rate_limited;
  return true;
}

// account merges the rate limits an answer carried and counts its outcome (SPEC 6, 7.1).
void account(const response& r, rate_limits& limits, http_transport_stats& stats) {
  if (r.status != 0) {
    limits.merge(rate_limits::from_response(static_cast<int>(r.status), r.rate_limits,
                                            r.retry_after, rate_limits::clock::now()));
  }
  if (r.answered && r.status >= 200 && r.status < 300) {
    ++stats.sent;
  } else {
    ++stats.failed;
  }
}

}  // namespace

// ---- http_transport -------------------------------------------------------------------

http_transport::http_transport(rt::dsn dsn, http_transport_options options)
    : dsn_(std::move(dsn)), options_(options), url_(dsn_.envelope_url()), auth_(auth_line(dsn_)) {
  global_curl_init();
  sender_ = std::thread([this] { sender_loop(); });
}

http_transport::~http_transport() {
  close();
}

void http_transport::send_event(event ev) {
  {
    std::lock_guard lk(mu_);
    if (closed_ || dropped_by_limit(limits_, stats_)) return;
  }
  std::string envelope = make_envelope(ev, &dsn_);  // on the caller, outside the lock
  {
    std::lock_guard lk(mu_);
    if (closed_) return;
    if (queue_.size() >= options_.queue_size) {
      ++stats_.queue_full;
      return;
    }
    queue_.push_back({std::move(envelope), ++enqueued_});
  }
  work_cv_.notify_one();
}

bool http_transport::flush(std::chrono::nanoseconds timeout) {
  // The wait is on a std::condition_variable; a goroutine hands it to the blocking pool
  // and parks meanwhile.
  return rt::blocking([&] {
    std::unique_lock lk(mu_);
    const std::uint64_t target = enqueued_;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::min(timeout, std::chrono::nanoseconds(std::chrono::hours(24 * 365)));
    return done_cv_.wait_until(lk, deadline, [&] { return closed_ || handled_ >= target; }) &&
           !closed_;
  });
}

void http_transport::close() {
  std::call_once(close_once_, [this] {
    {
      std::lock_guard lk(mu_);
      closed_ = true;
      queue_.clear();
    }
    work_cv_.notify_all();
    done_cv_.notify_all();
    if (sender_.joinable()) rt::blocking([this] { sender_.join(); });
  });
}

http_transport_stats http_transport::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void http_transport::finish(std::uint64_t seq) {
  handled_ = seq;
  done_cv_.notify_all();
}

void http_transport::sender_loop() {
  detail::envelope_poster poster(url_, auth_, options_.request_timeout);
  std::unique_lock lk(mu_);
  while (true) {
    work_cv_.wait(lk, [&] { return closed_ || !queue_.empty(); });  // step 1
    if (closed_) return;
    item it = std::move(queue_.front());
    queue_.pop_front();
    if (dropped_by_limit(limits_, stats_)) {  // step 2
      finish(it.seq);
      continue;
    }
    lk.unlock();  // step 3
    const response r = poster.post(it.envelope);
    lk.lock();  // step 4
    account(r, limits_, stats_);
    finish(it.seq);  // step 5
  }
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

void http_sync_transport::send_event(event ev) {
  std::unique_ptr<detail::envelope_poster> poster;
  {
    std::lock_guard lk(mu_);
    if (dropped_by_limit(limits_, stats_)) return;
    if (!idle_.empty()) {
      poster = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!poster) poster = std::make_unique<detail::envelope_poster>(url_, auth_, request_timeout_);
  const std::string envelope = make_envelope(ev, &dsn_);
  const response r = rt::blocking([&] { return poster->post(envelope); });
  std::lock_guard lk(mu_);
  account(r, limits_, stats_);
  idle_.push_back(std::move(poster));
}

http_transport_stats http_sync_transport::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

}  // namespace rt
