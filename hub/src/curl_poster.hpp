// curl_poster.hpp — internal: one HTTP POST of a prepared envelope with libcurl, for the
// HTTP transports (http_transport.cpp), which prepare each request (the envelope within
// Relay's size limit, the auth header) and account for its answer (rate limits, counters,
// diagnostics) without knowing libcurl. sentry-native splits its transport the same way
// (sentry_transport_curl.c posts what sentry_http_transport.c prepares).
//
// Owns: rt::detail::envelope_poster and what a response told (http_response).
// Invariant: a poster's post() runs on one thread at a time and returns within the request
// timeout or at once after abort(); no libcurl type appears outside curl_poster.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace rt::detail {

// What one request's response told us.
struct http_response {
  long status = 0;        // 0: no HTTP answer
  bool answered = false;  // the transfer completed (status is the server's)
  bool aborted = false;   // close() ended it
  std::string error;      // libcurl's error text when not answered
  std::string rate_limits;
  std::string retry_after;
  std::string body;  // the first 200 bytes
  std::size_t body_bytes = 0;
};

// global_curl_init runs curl_global_init once per process; throws std::runtime_error with
// libcurl's message when it fails.
void global_curl_init();

// One libcurl easy handle set up to POST envelopes to one endpoint, driven through its
// own multi handle so that another thread can wake and abort a request; its connection
// is reused from request to request. post() is used by one thread at a time; abort()
// may be called from any thread.
class envelope_poster {
 public:
  // `auth_line` is the whole X-Sentry-Auth header line; `timeout` bounds each request.
  envelope_poster(const std::string& url, const std::string& auth_line,
                  std::chrono::milliseconds timeout);
  ~envelope_poster();
  envelope_poster(const envelope_poster&) = delete;
  envelope_poster& operator=(const envelope_poster&) = delete;

  // post sends one envelope, gzip-compressed (Content-Encoding: gzip) when over 1 KiB, and
  // returns the answer. Blocks the calling thread for at most the request timeout, or until
  // abort().
  http_response post(const std::string& envelope);

  // abort makes the request in flight, and every later one, end at once (not answered).
  void abort();

 private:
  struct handles;  // libcurl's (curl_poster.cpp)
  std::unique_ptr<handles> h_;
};

}  // namespace rt::detail
