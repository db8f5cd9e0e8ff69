// dsn.cpp — Sentry DSN parsing (rt/hub/dsn.hpp), sentry-go's rules and texts (its dsn.go), made
// strict: whatever Go's url.Parse rejects is rejected too, and so are whitespace and
// control characters anywhere (a DSN read from a file or an environment variable often
// ends with a newline; it must fail loudly, not become part of the project id).
//
// Owns: a small URL splitter for the one URL shape a DSN has, which tracks where in the
// text each part starts so that every character-level error names its position.
// Invariant: checks run in this order and the first failure is the one reported:
// characters (control, whitespace), percent-escapes, url structure (scheme characters,
// "//", userinfo, host, port), then sentry-go's (scheme, username, host, port, project id).
// Positions are 0-based byte offsets into the text given to dsn::parse.
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "rt/hub/dsn.hpp"

namespace rt {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw dsn_error(what);
}

std::string at(std::size_t pos) {
  return " at position " + std::to_string(pos);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_alpha(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
bool in(char c, std::string_view set) {
  return set.find(c) != std::string_view::npos;
}

// quoted renders one byte for a message: 'x' when printable ASCII, else 0xNN.
std::string quoted(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", u);
  return buf;
}

// unicode_space returns the length of the UTF-8 encoded Unicode white space (or invisible
// space: U+200B, U+FEFF) starting at s[i], else 0; `cp` receives the code point.
std::size_t unicode_space(std::string_view s, std::size_t i, unsigned& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (b(0) == 0xC2 && i + 1 < s.size()) {
    cp = 0x80 | (b(1) & 0x3F);
    return cp == 0x85 || cp == 0xA0 ? 2 : 0;
  }
  if ((b(0) & 0xF0) == 0xE0 && i + 2 < s.size() && (b(1) & 0xC0) == 0x80 && (b(2) & 0xC0) == 0x80) {
    cp = ((b(0) & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
    const bool space = cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 ||
                       cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
    return space ? 3 : 0;
  }
  return 0;
}

// check_characters rejects control characters (as Go's url.Parse does: bytes < 0x20 and
// 0x7F) and white space, ASCII or Unicode, wherever they are.
void check_characters(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x20 || u == 0x7f) {
      std::string name = u == '\n'   ? " (newline)"
                         : u == '\r' ? " (carriage return)"
                         : u == '\t' ? " (tab)"
                         : u == 0    ? " (NUL)"
                         : u == 0x7f ? " (DEL)"
                                     : "";
      if (i + 1 == s.size()) name += ", the last character,";
      fail("invalid url: control character " + quoted(s[i]) + name + at(i));
    }
    if (u == ' ') fail("invalid url: whitespace ' '" + at(i));
    unsigned cp = 0;
    if (unicode_space(s, i, cp) != 0) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "U+%04X", cp);
      fail(std::string("invalid url: whitespace ") + buf + at(i));
    }
  }
}

void check_escapes(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
      fail("invalid url: invalid URL escape \"" + std::string(s.substr(i, 3)) + "\"" + at(i));
    }
  }
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

// The parts of "scheme://userinfo@host:port/path?query#fragment" (Go's url.Parse, reduced).
struct url_parts {
  std::string scheme, user, password, host, port, path;
  bool has_port = false;
  std::size_t port_pos = 0;
};

// Characters Go accepts in userinfo (RFC 3986 unreserved, sub-delims, ':' and escapes).
bool userinfo_char(char c) {
  return is_alnum(c) || in(c, "-._~!$&'()*+,;=:%@");
}
// Characters accepted in a registered host name; bytes >= 0x80 are IDN labels.
bool host_char(char c) {
  return is_alnum(c) || in(c, "-._~!$&'()*+,;=") || static_cast<unsigned char>(c) >= 0x80;
}
// Characters inside [brackets]: an IPv6 address, maybe with a %25-escaped zone.
bool ip_literal_char(char c) {
  return is_alnum(c) || in(c, ":.%-_~");
}

url_parts split_url(const std::string_view text) {
  url_parts u;
  std::string_view s = text;
  const auto pos = [&](std::string_view part) {
    return static_cast<std::size_t>(part.data() - text.data());
  };
  // Scheme: a letter, then letters, digits, '+', '-', '.', up to ':'. A text with "://"
  // meant to have a scheme, so a bad character before it is reported as such.
  const std::size_t sep = s.find("://");
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_alpha(c) || (i > 0 && (is_digit(c) || c == '+' || c == '-' || c == '.'))) continue;
    if (c == ':') {
      if (i == 0) fail("invalid url: missing protocol scheme");
      u.scheme = std::string(s.substr(0, i));
      std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      s.remove_prefix(i + 1);
    } else if (sep != std::string_view::npos && i < sep) {
      fail("invalid scheme: invalid character " + quoted(c) + " in the scheme" + at(i));
    }
    break;
  }
  if (u.scheme.empty()) return u;  // no scheme: "invalid scheme" follows
  s = s.substr(0, s.find_first_of("?#"));
  if (!s.starts_with("//")) {
    if (u.scheme == "http" || u.scheme == "https")
      fail("invalid url: missing \"//\" after \"" + u.scheme + ":\"" + at(pos(s)));
    return u;  // opaque URL of another scheme: "invalid scheme" follows
  }
  s.remove_prefix(2);
  const std::size_t slash = s.find('/');
  std::string_view authority = s.substr(0, slash);
  u.path = slash == std::string_view::npos ? "" : percent_decode(s.substr(slash));
  if (const std::size_t at_sign = authority.rfind('@'); at_sign != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at_sign);
    for (const char& c : userinfo) {
      if (!userinfo_char(c))
        fail("invalid url: invalid character " + quoted(c) + " in userinfo" + at(pos({&c, 1})));
    }
    authority.remove_prefix(at_sign + 1);
    const std::size_t colon = userinfo.find(':');
    u.user = percent_decode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) u.password = percent_decode(userinfo.substr(colon + 1));
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      fail("invalid url: missing ']' in host" + at(pos(authority)));
    const std::string_view literal = authority.substr(1, close - 1);
    for (const char& c : literal) {
      if (!ip_literal_char(c))
        fail("invalid url: invalid character " + quoted(c) + " in host name" + at(pos({&c, 1})));
    }
    u.host = percent_decode(literal);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') {
      fail("invalid url: invalid port \"" + std::string(rest) + "\" after host" + at(pos(rest)));
    }
    if (!rest.empty()) {
      port = rest.substr(1);
      u.has_port = true;
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    const std::string_view host = authority.substr(0, colon);
    for (const char& c : host) {
      if (!host_char(c))
        fail("invalid url: invalid character " + quoted(c) + " in host name" + at(pos({&c, 1})));
    }
    u.host = std::string(host);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      u.has_port = true;
    }
  }
  for (const char& c : port) {
    if (!is_digit(c)) {
      fail("invalid url: invalid port \":" + std::string(port) + "\" after host" +
           at(pos({&c, 1})));
    }
  }
  u.port = std::string(port);
  u.port_pos = u.has_port ? pos(port) : 0;
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
  check_characters(text);
  check_escapes(text);
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
    if (u.port.size() > 5 || std::stoi(u.port) > 65535 || std::stoi(u.port) == 0)
      fail("invalid port \"" + u.port + "\"" + at(u.port_pos));
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
