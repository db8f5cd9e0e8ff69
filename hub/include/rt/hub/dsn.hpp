// rt/hub/dsn.hpp — rt::dsn, a parsed Sentry DSN, and rt::dsn_error.
//
// Example:
//   rt::dsn d = rt::dsn::parse("https://public@o1.ingest.sentry.io/42");
//   d.envelope_url();   // "https://o1.ingest.sentry.io/api/42/envelope/"
//
// Owns: DSN parsing with sentry-go's rules and error texts (its dsn.go) and the values derived
// from a DSN: its canonical string, the envelope URL, the X-Sentry-Auth header.
// Invariant: a dsn object is always valid: parse() either returns one whose scheme is http
// or https, with a public key, host and project id, or throws.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace rt {

// A DSN that cannot be used. what() is "[Sentry] DsnParseError: <what is wrong>".
class dsn_error : public std::invalid_argument {
 public:
  explicit dsn_error(const std::string& message);
};

class dsn {
 public:
  // parse parses `text` as {scheme}://{public_key}[:{secret_key}]@{host}[:{port}]{/path}/{project}.
  // Strict: a control character (a trailing newline included) or white space (ASCII or
  // Unicode) anywhere, a bad percent-escape, a bad character in the scheme, userinfo or
  // host, a missing "//", a non-numeric port or one outside 1..65535 are all rejected.
  // Throws rt::dsn_error naming the first problem; a problem with a character says which
  // and where, as a 0-based byte offset: "invalid url: control character 0x0A (newline),
  // the last character, at position 24", "invalid url: invalid URL escape \"%zz\" at
  // position 10", "invalid scheme: invalid character '_' in the scheme at position 2",
  // "invalid port \"65536\" at position 22"; the others are "invalid scheme", "empty
  // username", "empty host", "empty project id".
  static dsn parse(std::string_view text);

  const std::string& scheme() const noexcept { return scheme_; }
  const std::string& public_key() const noexcept { return public_key_; }
  const std::string& secret_key() const noexcept { return secret_key_; }
  const std::string& host() const noexcept { return host_; }  // IPv6 without brackets
  int port() const noexcept { return port_; }
  const std::string& path() const noexcept { return path_; }  // "" or "/a/b"
  const std::string& project_id() const noexcept { return project_id_; }

  // to_string: scheme://public[:secret]@host[:port if not the default][path]/project.
  std::string to_string() const;
  // envelope_url: scheme://host[:port if not the default][path]/api/{project}/envelope/.
  std::string envelope_url() const;
  // auth_header: the X-Sentry-Auth value, "Sentry sentry_version=7,
  // sentry_client=<name>/<version>, sentry_key=<public>[, sentry_secret=<secret>]".
  std::string auth_header(std::string_view sdk_name, std::string_view sdk_version) const;

 private:
  std::string host_for_url() const;  // host, bracketed when IPv6, plus a non-default port

  std::string scheme_, public_key_, secret_key_, host_, path_, project_id_;
  int port_ = 0;
};

}  // namespace rt
