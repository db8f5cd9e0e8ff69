// dsn.cpp — Sentry DSN parsing (rt/hub/dsn.hpp), sentry-go's rules and texts (SPEC 4).
//
// Owns: a small URL splitter for the one URL shape a DSN has.
// Invariant: checks run in SPEC 4's order (url, scheme, username, host, port, project id)
// and the first failure is the one reported.
#include <algorithm>
#include <cctype>

#include "rt/hub/dsn.hpp"

namespace rt {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw dsn_error(what);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// percent_decode decodes %XX escapes; the whole DSN was checked for bad escapes already.
std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void check_escapes(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
      fail("invalid url: invalid URL escape \"" + std::string(s.substr(i, 3)) + "\"");
    }
  }
}

// The parts of "scheme://userinfo@host:port/path?query#fragment" (Go's url.Parse, reduced).
struct url_parts {
  std::string scheme, user, password, host, port, path;
  bool has_port = false;
};

url_parts split_url(std::string_view s) {
  check_escapes(s);
  url_parts u;
  // Scheme: a letter, then letters, digits, '+', '-', '.', up to ':'.
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (std::isalpha(static_cast<unsigned char>(c))) continue;
    if (i > 0 && (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'))
      continue;
    if (c == ':') {
      if (i == 0) fail("invalid url: missing protocol scheme");
      u.scheme = std::string(s.substr(0, i));
      std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      s.remove_prefix(i + 1);
    }
    break;
  }
  if (u.scheme.empty()) return u;  // no scheme: "invalid scheme" follows
  s = s.substr(0, s.find_first_of("?#"));
  if (!s.starts_with("//")) return u;  // opaque URL: no user, no host
  s.remove_prefix(2);
  const std::size_t slash = s.find('/');
  std::string_view authority = s.substr(0, slash);
  u.path = slash == std::string_view::npos ? "" : percent_decode(s.substr(slash));
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const std::size_t colon = userinfo.find(':');
    u.user = percent_decode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) u.password = percent_decode(userinfo.substr(colon + 1));
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) fail("invalid url: missing ']' in host");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') {
      fail("invalid url: invalid port \"" + std::string(rest) + "\" after host");
    }
    if (!rest.empty()) {
      port = rest.substr(1);
      u.has_port = true;
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    port = authority.substr(colon + 1);
    u.has_port = true;
  } else {
    u.host = std::string(authority);
  }
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    fail("invalid url: invalid port \":" + std::string(port) + "\" after host");
  }
  u.port = std::string(port);
  if (u.port.empty()) u.has_port = false;
  return u;
}

int default_port(const std::string& scheme) {
  return scheme == "https" ? 443 : 80;
}

}  // namespace

dsn_error::dsn_error(const std::string& message)
    : std::invalid_argument("[Sentry] DsnParseError: " + message) {}

dsn dsn::parse(std::string_view text) {
  url_parts u = split_url(text);
  dsn d;
  if (u.scheme != "http" && u.scheme != "https") fail("invalid scheme");
  d.scheme_ = u.scheme;
  if (u.user.empty()) fail("empty username");
  d.public_key_ = u.user;
  d.secret_key_ = u.password;
  if (u.host.empty()) fail("empty host");
  d.host_ = u.host;
  if (u.has_port) {
    if (u.port.size() > 5 || std::stoi(u.port) > 65535) fail("invalid port \"" + u.port + "\"");
    d.port_ = std::stoi(u.port);
  } else {
    d.port_ = default_port(d.scheme_);
  }
  if (u.path.empty() || u.path == "/") fail("empty project id");
  const std::size_t last = u.path.rfind('/');
  d.project_id_ = u.path.substr(last + 1);
  if (d.project_id_.empty()) fail("empty project id");
  d.path_ = u.path.substr(0, last);  // "" or "/a/b"
  return d;
}

std::string dsn::host_for_url() const {
  std::string h = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  if (port_ != default_port(scheme_)) h.append(":").append(std::to_string(port_));
  return h;
}

std::string dsn::to_string() const {
  std::string s = scheme_ + "://" + public_key_;
  if (!secret_key_.empty()) s += ":" + secret_key_;
  return s + "@" + host_for_url() + path_ + "/" + project_id_;
}

std::string dsn::envelope_url() const {
  return scheme_ + "://" + host_for_url() + path_ + "/api/" + project_id_ + "/envelope/";
}

std::string dsn::auth_header(std::string_view sdk_name, std::string_view sdk_version) const {
  std::string h = "Sentry sentry_version=7, sentry_client=";
  h.append(sdk_name).append("/").append(sdk_version).append(", sentry_key=").append(public_key_);
  if (!secret_key_.empty()) h += ", sentry_secret=" + secret_key_;
  return h;
}

}  // namespace rt
