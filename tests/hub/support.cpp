// support.cpp — the hub tests' schema validation and local HTTP receiver (support.hpp).
//
// Owns: the parsed schema (loaded once) and the receiver's socket loops.
// Invariant: the receiver parses each request completely (headers + Content-Length body)
// and records it before it writes the answer, so once a client saw the answer, the test
// sees the request.
#include "support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <zlib.h>

namespace hubtest {

std::string schema_errors(const std::string& json_text) {
  static const rapidjson::SchemaDocument* schema = [] {
#if defined(__SANITIZE_ADDRESS__)
    // Debian's rapidjson snapshot loses a few strings of the enums it copies into a
    // schema; the schema lives as long as the test program anyway.
    __lsan::ScopedDisabler not_ours;
#endif
    std::ifstream in(RT_EVENT_SCHEMA);
    if (!in) throw std::runtime_error("cannot open the event schema " RT_EVENT_SCHEMA);
    std::stringstream text;
    text << in.rdbuf();
    rapidjson::Document d;
    if (d.Parse(text.str().c_str()).HasParseError()) {
      throw std::runtime_error("cannot parse the event schema " RT_EVENT_SCHEMA);
    }
    return new rapidjson::SchemaDocument(d);
  }();
  rapidjson::Document doc;
  if (doc.Parse(json_text.c_str()).HasParseError()) return "not JSON: " + json_text;
  rapidjson::SchemaValidator validator(*schema);
  if (doc.Accept(validator)) return "";
  rapidjson::StringBuffer where, pointer;
  validator.GetInvalidSchemaPointer().StringifyUriFragment(where);
  validator.GetInvalidDocumentPointer().StringifyUriFragment(pointer);
  return std::string("keyword '") + validator.GetInvalidSchemaKeyword() + "' at schema " +
         where.GetString() + ", document " + pointer.GetString() + " in " + json_text;
}

std::string event_schema_errors(const rt::event& ev) {
  return schema_errors(rt::event_json_line(ev));
}

std::string gunzip(const std::string& gz) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::runtime_error("gunzip: inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char chunk[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(chunk, sizeof(chunk) - z.avail_out);
  }
  const bool whole = rc == Z_STREAM_END && z.avail_in == 0;
  inflateEnd(&z);
  if (!whole) throw std::runtime_error("gunzip: not one complete gzip member");
  return out;
}

std::string http_request::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

http_receiver::http_receiver(answer_fn answer) : answer_(std::move(answer)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("http_receiver: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("http_receiver: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { accept_loop(); });
}

http_receiver::~http_receiver() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  ::shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();  // accept_loop adds no connection after this
  for (std::thread& t : conns_) t.join();
  ::close(listen_fd_);
}

std::vector<http_request> http_receiver::requests() const {
  std::lock_guard lk(mu_);
  return requests_;
}

std::vector<http_request> http_receiver::wait_for_requests(std::size_t n,
                                                           std::chrono::seconds patience) const {
  return rt::blocking([&] {
    std::unique_lock lk(mu_);
    recorded_.wait_for(lk, patience, [&] { return requests_.size() >= n; });
    return requests_;
  });
}

void http_receiver::accept_loop() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;  // shut down
    std::lock_guard lk(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    conn_fds_.push_back(fd);
    conns_.emplace_back([this, fd] { serve(fd); });
  }
}

void http_receiver::serve(int fd) {
  while (serve_one(fd)) {
  }
  std::lock_guard lk(mu_);
  std::erase(conn_fds_, fd);
  ::close(fd);
}

namespace {

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

bool write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

// Reads one request from `fd`, records it, answers it. false: the connection is done.
bool http_receiver::serve_one(int fd) {
  std::string buf;
  char chunk[16384];
  std::size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  http_request req;
  std::istringstream head(buf.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::istringstream first(line);
  first >> req.method >> req.target >> req.version;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t colon = line.find(':');
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    req.headers.emplace_back(line.substr(0, colon), value);
  }
  const std::size_t length =
      std::stoul(req.header("Content-Length").empty() ? "0" : req.header("Content-Length"));
  std::string body = buf.substr(head_end + 4);
  while (body.size() < length) {
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    body.append(chunk, static_cast<std::size_t>(n));
  }
  req.wire_body = body.substr(0, length);
  req.body = req.header("Content-Encoding") == "gzip" ? gunzip(req.wire_body) : req.wire_body;
  http_answer a = answer_(req);
  {
    std::lock_guard lk(mu_);
    requests_.push_back(std::move(req));
    recorded_.notify_all();
  }
  if (a.reset) {
    const linger abort_on_close{.l_onoff = 1, .l_linger = 0};  // close() then sends RST
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
    return false;
  }
  std::string out = "HTTP/1.1 " + std::to_string(a.status) + " " + reason(a.status) + "\r\n";
  for (const auto& [k, v] : a.headers) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(a.body.size()) + "\r\n\r\n" + a.body;
  return write_all(fd, out);
}

std::string dsn_for(const http_receiver& r, const std::string& key) {
  return "http://" + key + "@127.0.0.1:" + std::to_string(r.port()) + "/42";
}

std::string url_for(const http_receiver& r) {
  return "http://127.0.0.1:" + std::to_string(r.port()) + "/api/42/envelope/";
}

envelope_parts split_envelope(const std::string& body) {
  const auto first = body.find('\n');
  const auto second = body.find('\n', first + 1);
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  REQUIRE(body.back() == '\n');
  envelope_parts p{nlohmann::json::parse(body.substr(0, first)),
                   nlohmann::json::parse(body.substr(first + 1, second - first - 1)),
                   body.substr(second + 1, body.size() - second - 2)};
  CHECK(body.substr(first + 1, second - first - 1) ==
        "{\"type\":\"event\",\"length\":" + std::to_string(p.payload.size()) + "}");
  return p;
}

}  // namespace hubtest
