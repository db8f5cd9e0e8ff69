// support.hpp — helpers shared by the hub tests: a client bound to a memory transport,
// validation against Sentry's event schema, and a local HTTP receiver.
//
// Owns: the test fixtures; nothing here is part of rt.
// Invariant: the receiver only listens on 127.0.0.1 and stops (joins its thread) in its
// destructor, so no test leaves a thread or socket behind.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "../common/gate.hpp"

#include <rt/hub.hpp>
#include <rt/rt.hpp>

namespace hubtest {

// A bound for flushes and waits that must succeed: never reached by a passing test.
inline constexpr std::chrono::seconds patience{120};

// A client with a memory transport and the given options (their transport is replaced).
struct memory_client {
  std::shared_ptr<rt::memory_transport> transport = std::make_shared<rt::memory_transport>();
  std::shared_ptr<rt::client> client;
  explicit memory_client(rt::client_options options = {}) {
    options.transport = transport;
    client = std::make_shared<rt::client>(std::move(options));
  }
  std::vector<rt::event> events() const { return transport->events(); }
};

// schema_errors validates a JSON document against event.schema.json (no format checks) and
// returns "" when valid, else the validator's description of the first violation.
std::string schema_errors(const std::string& json_text);
// event_schema_errors: schema_errors(rt::event_json_line(ev)).
std::string event_schema_errors(const rt::event& ev);

struct http_request {
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order
  std::string wire_body;  // the body as it arrived (Content-Length bytes)
  std::string body;       // wire_body decoded: gunzip'ed with "Content-Encoding: gzip"
  std::string header(const std::string& name) const;  // "" when absent
};

// gunzip inflates one gzip member (zlib); throws std::runtime_error when `gz` is not one.
std::string gunzip(const std::string& gz);

struct http_answer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};  // sent with its Content-Length
  bool reset = false;  // no answer: the connection is reset (RST) instead
};

// A minimal HTTP/1.1 server on 127.0.0.1 (plain POSIX sockets): one std::thread accepts,
// one more serves each keep-alive connection. It records every request before answering it.
class http_receiver {
 public:
  using answer_fn = std::function<http_answer(const http_request&)>;
  explicit http_receiver(answer_fn answer = [](const http_request&) { return http_answer{}; });
  ~http_receiver();
  http_receiver(const http_receiver&) = delete;
  http_receiver& operator=(const http_receiver&) = delete;

  int port() const { return port_; }
  std::vector<http_request> requests() const;
  // wait_for_requests blocks the calling thread (a goroutine: through rt::blocking) until
  // at least `n` requests were recorded or `patience` passed (a bound for a wait that must
  // succeed, so a broken test fails instead of hanging); returns requests() then.
  std::vector<http_request> wait_for_requests(
      std::size_t n, std::chrono::seconds patience = hubtest::patience) const;

 private:
  void accept_loop();
  void serve(int fd);
  bool serve_one(int fd);

  answer_fn answer_;
  int listen_fd_ = -1;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<http_request> requests_;        // guarded by mu_
  mutable std::condition_variable recorded_;  // requests_ grew
  std::vector<int> conn_fds_;                 // open connections; guarded by mu_
  std::vector<std::thread> conns_;            // one per accepted connection; guarded by mu_
  bool stopping_ = false;                     // guarded by mu_
  std::thread thread_;                        // accept_loop
};

// An envelope of one event, split: its header, its item header and the event's JSON.
struct envelope_parts {
  nlohmann::json header, item;
  std::string payload;
};
// split_envelope checks the framing (three '\n'-terminated parts, the item header exactly
// {"type":"event","length":<payload bytes>}) with doctest's assertions, then splits.
envelope_parts split_envelope(const std::string& body);

// The DSN of project 42 on receiver `r`, with public key `key` ("pub:sec" for an old DSN
// with a secret key), and the envelope URL the HTTP transport posts to.
std::string dsn_for(const http_receiver& r, const std::string& key = "pub");
std::string url_for(const http_receiver& r);

// An spdlog sink that keeps every formatted line ("%v": the message only); a thread can wait for
// one.
class line_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() {
    std::lock_guard lk(mutex_);
    return lines_;
  }
  std::vector<spdlog::level::level_enum> levels() {
    std::lock_guard lk(mutex_);
    return levels_;
  }
  // wait_for returns the first line containing `part`, blocking (through rt::blocking in
  // a goroutine) until one is logged.
  std::string wait_for(const std::string& part) {
    return rt::blocking([&] {
      std::unique_lock lk(mutex_);
      std::string found;
      logged_.wait(lk, [&] {
        for (const std::string& l : lines_) {
          if (l.find(part) != std::string::npos) {
            found = l;
            return true;
          }
        }
        return false;
      });
      return found;
    });
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {  // mutex_ held
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
    levels_.push_back(msg.level);
    logged_.notify_all();
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;                 // guarded by mutex_
  std::vector<spdlog::level::level_enum> levels_;  // guarded by mutex_
  std::condition_variable_any logged_;
};

// A latch a plain thread can wait on (the receiver's answer function uses it to hold a
// response until the test releases it).
using gate = rt_test::gate;

// held_server records each request and answers it only once `release` is open; `arrived`
// opens when a request is in. Destroying it opens `release` first, so a test that stopped
// early still lets the receiver, destroyed next, finish its answers (the gates outlive it).
struct held_server {
  gate arrived, release;
  http_receiver receiver{[this](const http_request&) {
    arrived.open();
    release.wait();
    return http_answer{};
  }};
  ~held_server() { release.open(); }
};

}  // namespace hubtest
