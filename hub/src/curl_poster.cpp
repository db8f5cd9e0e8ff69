// curl_poster.cpp — rt::detail::envelope_poster (curl_poster.hpp): a libcurl easy handle
// on its own multi handle, so that abort() from another thread wakes the poll and ends the
// request; gzip of bodies above gzip_threshold (zlib); the response's status, rate-limit
// headers and a body excerpt.
//
// Owns: every libcurl and zlib call of the hub.
// Invariant: a response body is drained up to response_drain_limit bytes and then the
// transfer is cut (the answer still counts); a wake-up sent before a poll is never lost.
#include "curl_poster.hpp"

#include <curl/curl.h>
#include <zlib.h>

#include <strings.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "rt/hub/client.hpp"  // sdk_name, sdk_version: the User-Agent

namespace rt::detail {
namespace {

constexpr std::size_t http_response_drain_limit = 16 * 1024;
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
  auto* r = static_cast<http_response*>(user);
  const std::string_view line(data, size * n);
  if (line.starts_with("HTTP/"))
    *r = http_response{};  // a new http_response (e.g. after a redirect)
  if (auto v = header_value(line, "X-Sentry-Rate-Limits")) r->rate_limits = *v;
  if (auto v = header_value(line, "Retry-After")) r->retry_after = *v;
  return size * n;
}

// Drains the body, up to http_response_drain_limit bytes, keeping an excerpt, then stops.
std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<http_response*>(user);
  if (r->body.size() < body_excerpt_limit)
    r->body.append(data, std::min(size * n, body_excerpt_limit - r->body.size()));
  r->body_bytes += size * n;
  return r->body_bytes > http_response_drain_limit ? 0 : size * n;
}

}  // namespace

void global_curl_init() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    throw std::runtime_error(std::string("rt::http_transport: curl_global_init failed: ") +
                             curl_easy_strerror(rc));
  }
}
struct envelope_poster::handles {
  handles(const std::string& url, const std::string& auth_line, std::chrono::milliseconds timeout)
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

  http_response post(const std::string& envelope) {
    resp_ = http_response{};
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

  void abort() {
    aborted_.store(true, std::memory_order_release);
    if (multi_) curl_multi_wakeup(multi_.get());
  }

  static const std::string& user_agent() {
    static const std::string ua = std::string(sdk_name) + "/" + std::string(sdk_version);
    return ua;
  }
  std::unique_ptr<CURL, void (*)(CURL*)> curl_;
  std::unique_ptr<CURLM, CURLMcode (*)(CURLM*)> multi_;
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers_;
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> gzip_headers_;  // headers_ + encoding
  std::string compressed_;  // the gzip body of the request in flight (reused)
  http_response resp_;      // filled by the callbacks during post()
  char error_[CURL_ERROR_SIZE] = {};
  std::atomic<bool> aborted_{false};
};

envelope_poster::envelope_poster(const std::string& url, const std::string& auth_line,
                                 std::chrono::milliseconds timeout)
    : h_(std::make_unique<handles>(url, auth_line, timeout)) {}
envelope_poster::~envelope_poster() = default;
http_response envelope_poster::post(const std::string& envelope) {
  return h_->post(envelope);
}
void envelope_poster::abort() {
  h_->abort();
}

}  // namespace rt::detail
