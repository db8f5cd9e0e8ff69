// dsn_test.cpp — DSN parsing, errors and derived values (SPEC 4).
#include <doctest/doctest.h>

#include "support.hpp"

namespace {

std::string parse_error(const std::string& text) {
  try {
    rt::dsn::parse(text);
  } catch (const rt::dsn_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("valid DSNs and their parts") {
  const rt::dsn full = rt::dsn::parse("https://public:secret@domain:8888/foo/bar/42");
  CHECK(full.scheme() == "https");
  CHECK(full.public_key() == "public");
  CHECK(full.secret_key() == "secret");
  CHECK(full.host() == "domain");
  CHECK(full.port() == 8888);
  CHECK(full.path() == "/foo/bar");
  CHECK(full.project_id() == "42");
  CHECK(full.to_string() == "https://public:secret@domain:8888/foo/bar/42");
  CHECK(full.envelope_url() == "https://domain:8888/foo/bar/api/42/envelope/");

  const rt::dsn plain = rt::dsn::parse("https://public@domain/42");
  CHECK(plain.port() == 443);
  CHECK(plain.path() == "");
  CHECK(plain.secret_key() == "");
  CHECK(plain.to_string() == "https://public@domain/42");
  CHECK(plain.envelope_url() == "https://domain/api/42/envelope/");
  CHECK(rt::dsn::parse("http://public@domain/42").port() == 80);
  CHECK(rt::dsn::parse("HTTP://public@domain/42").scheme() == "http");
  CHECK(rt::dsn::parse("https://public@domain/42?x=1#frag").project_id() == "42");
  CHECK(rt::dsn::parse("https://public@domain/not-numeric").project_id() == "not-numeric");
  CHECK(rt::dsn::parse("https://p%40x@domain/1").public_key() == "p@x");
}

TEST_CASE("IPv6 hosts are bracketed in URLs") {
  const rt::dsn d = rt::dsn::parse("http://key@[::1]:9000/7");
  CHECK(d.host() == "::1");
  CHECK(d.port() == 9000);
  CHECK(d.envelope_url() == "http://[::1]:9000/api/7/envelope/");
  CHECK(d.to_string() == "http://key@[::1]:9000/7");
}

TEST_CASE("bad DSNs name what is wrong") {
  const std::string p = "[Sentry] DsnParseError: ";
  CHECK(parse_error("") == p + "invalid scheme");
  CHECK(parse_error("public:secret@:8888/42") == p + "invalid scheme");
  CHECK(parse_error("ftp://public:secret@domain:8888/1") == p + "invalid scheme");
  CHECK(parse_error("https://:secret@domain:8888/42") == p + "empty username");
  CHECK(parse_error("https://public:secret@:8888/42") == p + "empty host");
  CHECK(parse_error("https://public:secret@domain:8888/") == p + "empty project id");
  CHECK(parse_error("https://public:secret@domain:8888") == p + "empty project id");
  CHECK(parse_error("https://public:secret@domain:8888/42/") == p + "empty project id");
  CHECK(parse_error("https://public:secret@domain:wat/42").find("invalid port") !=
        std::string::npos);
  CHECK(parse_error("https://public@domain:99999/42").find("invalid port") != std::string::npos);
  CHECK(parse_error("!@#$%^&*()").starts_with(p + "invalid url"));
  CHECK(parse_error("://public:secret@:8888/42") == p + "invalid url: missing protocol scheme");
}

TEST_CASE("X-Sentry-Auth") {
  CHECK(rt::dsn::parse("https://pub@h/1").auth_header("rt.cpp", "0.1.0") ==
        "Sentry sentry_version=7, sentry_client=rt.cpp/0.1.0, sentry_key=pub");
  CHECK(rt::dsn::parse("https://pub:sec@h/1").auth_header("n", "v") ==
        "Sentry sentry_version=7, sentry_client=n/v, sentry_key=pub, sentry_secret=sec");
}
