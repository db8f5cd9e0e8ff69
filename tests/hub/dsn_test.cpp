// dsn_test.cpp — DSN parsing, errors and derived values.
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

TEST_CASE("control characters and white space are rejected wherever they are, with position") {
  const std::string p = "[Sentry] DsnParseError: ";
  // A DSN read from a file or an environment variable with its newline.
  CHECK(parse_error("https://public@domain/42\n") ==
        p + "invalid url: control character 0x0A (newline), the last character, at position 24");
  CHECK(parse_error("https://public@domain/42\r\n") ==
        p + "invalid url: control character 0x0D (carriage return) at position 24");
  CHECK(parse_error("https://pub\tlic@domain/42") ==
        p + "invalid url: control character 0x09 (tab) at position 11");
  CHECK(parse_error("\nhttps://public@domain/42") ==
        p + "invalid url: control character 0x0A (newline) at position 0");
  CHECK(parse_error(std::string("https://public@dom\0ain/42", 25)) ==
        p + "invalid url: control character 0x00 (NUL) at position 18");
  CHECK(parse_error("https://public@domain/4\x7f"
                    "2") == p + "invalid url: control character 0x7F (DEL) at position 23");
  CHECK(parse_error("https://public@domain/42\x1b") ==
        p + "invalid url: control character 0x1B, the last character, at position 24");
  CHECK(parse_error(" https://public@domain/42") ==
        p + "invalid url: whitespace ' ' at position 0");
  CHECK(parse_error("https://public@domain/42 ") ==
        p + "invalid url: whitespace ' ' at position 24");
  CHECK(parse_error("https://public@dom ain/42") ==
        p + "invalid url: whitespace ' ' at position 18");
  CHECK(parse_error("https://public@domain/4 2") ==
        p + "invalid url: whitespace ' ' at position 23");
  // Unicode white space (UTF-8): no-break space, ideographic space, a byte order mark.
  CHECK(parse_error("https://public@domain/42\xc2\xa0") ==
        p + "invalid url: whitespace U+00A0 at position 24");
  CHECK(parse_error("https://public@\xe3\x80\x80"
                    "domain/42") == p + "invalid url: whitespace U+3000 at position 15");
  CHECK(parse_error("\xef\xbb\xbfhttps://public@domain/42") ==
        p + "invalid url: whitespace U+FEFF at position 0");
  // Non-space UTF-8 is fine in a host name (an IDN label).
  CHECK(rt::dsn::parse("https://public@d\xc3\xa9.example/42").host() == "d\xc3\xa9.example");
}

TEST_CASE("what Go's url.Parse rejects is rejected, with position") {
  const std::string p = "[Sentry] DsnParseError: ";
  // Bad percent-escapes, anywhere.
  CHECK(parse_error("https://pu%zzblic@domain/42") ==
        p + "invalid url: invalid URL escape \"%zz\" at position 10");
  CHECK(parse_error("https://public@domain/42%") ==
        p + "invalid url: invalid URL escape \"%\" at position 24");
  CHECK(parse_error("https://public@domain/42%4") ==
        p + "invalid url: invalid URL escape \"%4\" at position 24");
  // Bad ports.
  CHECK(parse_error("https://public@domain:8a8/42") ==
        p + "invalid url: invalid port \":8a8\" after host at position 23");
  CHECK(parse_error("https://public@domain:-1/42") ==
        p + "invalid url: invalid port \":-1\" after host at position 22");
  CHECK(parse_error("https://public@[::1]x/42") ==
        p + "invalid url: invalid port \"x\" after host at position 20");
  CHECK(parse_error("https://public@domain:65536/42") ==
        p + "invalid port \"65536\" at position 22");
  CHECK(parse_error("https://public@domain:0/42") == p + "invalid port \"0\" at position 22");
  CHECK(rt::dsn::parse("https://public@domain:65535/42").port() == 65535);
  CHECK(rt::dsn::parse("https://public@domain:/42").port() == 443);  // empty port: default
  // Missing or malformed hosts.
  CHECK(parse_error("https://public@/42") == p + "empty host");
  CHECK(parse_error("https://public@:80/42") == p + "empty host");
  CHECK(parse_error("https://public@[::1/42") ==
        p + "invalid url: missing ']' in host at position 15");
  CHECK(parse_error("https://public@dom{ain/42") ==
        p + "invalid url: invalid character '{' in host name at position 18");
  CHECK(parse_error("https://public@dom%41in/42") ==
        p + "invalid url: invalid character '%' in host name at position 18");
  CHECK(parse_error("https://public@[::1]]:80/42") ==
        p + "invalid url: invalid port \"]:80\" after host at position 20");
  CHECK(parse_error("https://public@[::g<]/42") ==
        p + "invalid url: invalid character '<' in host name at position 19");
  CHECK(parse_error("https:public@domain/42") ==
        p + "invalid url: missing \"//\" after \"https:\" at position 6");
  // Userinfo characters.
  CHECK(parse_error("https://pub\"lic@domain/42") ==
        p + "invalid url: invalid character '\"' in userinfo at position 11");
  CHECK(parse_error("https://pub|lic:sec@domain/42") ==
        p + "invalid url: invalid character '|' in userinfo at position 11");
  // Scheme characters, when "://" shows a scheme was meant.
  CHECK(parse_error("ht_tp://public@domain/42") ==
        p + "invalid scheme: invalid character '_' in the scheme at position 2");
  CHECK(parse_error("1https://public@domain/42") ==
        p + "invalid scheme: invalid character '1' in the scheme at position 0");
  CHECK(parse_error("htt(p)s://public@domain/42") ==
        p + "invalid scheme: invalid character '(' in the scheme at position 3");
  // The first problem is the one reported: characters before escapes before structure.
  CHECK(parse_error("ht_tp://pub%zz@domain/42\n").find("control character") != std::string::npos);
  CHECK(parse_error("ht_tp://pub%zz@domain/42").find("invalid URL escape") != std::string::npos);
  // What stays valid.
  CHECK(rt::dsn::parse("https://pub-lic_1.~:s%21c@sub.domain-1.example:8443/a/b/42").secret_key() ==
        "s!c");
  CHECK(rt::dsn::parse("https://public@[fe80::1%25eth0]:9000/42").host() == "fe80::1%eth0");
}
