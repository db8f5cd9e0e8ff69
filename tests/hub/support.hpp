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

#include "../common/gate.hpp"

#include <rt/hub.hpp>
#include <rt/rt.hpp>

namespace hubtest {

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
  std::string body;
  std::string header(const std::string& name) const;  // "" when absent
};

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
      std::size_t n, std::chrono::seconds patience = std::chrono::seconds(120)) const;

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

// A latch a plain thread can wait on (the receiver's answer function uses it to hold a
// response until the test releases it).
using gate = rt_test::gate;

}  // namespace hubtest
