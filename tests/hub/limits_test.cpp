// limits_test.cpp — Sentry's size limits on what the client sends (hub/src/limits.cpp has
// the table): per-field trimming of every captured event, whole characters only; events over
// Relay's 1 MiB limit fitted (oldest breadcrumbs, then largest extras dropped) or dropped
// with a counter and a debug line; and gzip-compressed request bodies above 1 KiB.
#include <doctest/doctest.h>

#include "support.hpp"

using hubtest::dsn_for;
using hubtest::http_receiver;
using hubtest::line_sink;
using hubtest::memory_client;
using hubtest::patience;

namespace {

// chars counts the Unicode characters of well-formed UTF-8 `s` (its non-continuation bytes).
std::size_t chars(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// repeat: `n` copies of `s`.
std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// captured sends `ev` through a memory client and returns what the transport got.
rt::event captured(rt::event ev) {
  memory_client mc;
  mc.client->capture_event(std::move(ev), {}, nullptr);
  const auto events = mc.events();
  REQUIRE(events.size() == 1);
  return events[0];
}

}  // namespace

TEST_CASE("strings over their limit end in \"...\" at exactly the limit, in characters") {
  rt::event ev;
  ev.message = std::string(10'000, 'm');
  ev.logger = std::string(100, 'l');
  ev.environment = std::string(65, 'e');
  ev.dist = std::string(64, 'd');  // at the limit: kept as it is
  ev.exception.push_back({.type = std::string(300, 't'), .value = std::string(9000, 'v')});
  const rt::event got = captured(std::move(ev));
  CHECK(got.message == std::string(8189, 'm') + "...");
  CHECK(got.logger == std::string(61, 'l') + "...");
  CHECK(got.environment == std::string(61, 'e') + "...");
  CHECK(got.dist == std::string(64, 'd'));
  REQUIRE(got.exception.size() == 1);
  CHECK(got.exception[0].type == std::string(253, 't') + "...");
  CHECK(got.exception[0].value == std::string(8189, 'v') + "...");
  CHECK(hubtest::event_schema_errors(got) == "");
}

TEST_CASE("a cut never falls inside a UTF-8 sequence; multi-byte text at the limit is kept") {
  for (const std::string ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {  // é € 😀
    rt::event over;
    over.message = repeat(ch, 9000);
    const rt::event got = captured(std::move(over));
    CHECK(chars(got.message) == 8192);
    CHECK(got.message == repeat(ch, 8189) + "...");
    rt::event at;
    at.message = repeat(ch, 8192);  // more bytes than the limit, but not more characters
    CHECK(captured(at).message == at.message);
  }
}

TEST_CASE("tags: keys and values to 200 characters") {
  memory_client mc;
  rt::scope s;
  s.set_tag(std::string(250, 'k'), std::string(201, 'v'));
  s.set_tag("short", "kept");
  mc.client->capture_message("m", rt::level::info, {}, &s);
  const auto events = mc.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].tags ==
        std::map<std::string, std::string>{
            {std::string(197, 'k') + "...", std::string(197, 'v') + "..."}, {"short", "kept"}});
}

TEST_CASE("breadcrumbs: the newest 100, messages to 8192 characters, data to 2048 bytes") {
  rt::event ev;
  for (int i = 0; i < 150; ++i) {
    ev.breadcrumbs.push_back({.message = "crumb " + std::to_string(i)});
  }
  ev.breadcrumbs.back().message = std::string(8200, 'b');
  for (int i = 0; i < 100; ++i) ev.breadcrumbs.back().data["k" + std::to_string(100 + i)] = i;
  ev.breadcrumbs.back().data["big"] = std::string(5000, 'x');
  const rt::event got = captured(std::move(ev));
  REQUIRE(got.breadcrumbs.size() == 100);
  for (int i = 0; i < 99; ++i)
    CHECK(got.breadcrumbs[i].message == "crumb " + std::to_string(50 + i));
  const rt::breadcrumb& last = got.breadcrumbs.back();
  CHECK(last.message == std::string(8189, 'b') + "...");
  // "big" sorts first: its string is cut to what the bag has left, then the small members
  // fit until the bag's 2048 bytes are spent; the rest are dropped.
  REQUIRE(last.data.contains("big"));
  const std::string& big = last.data.at("big").get_ref<const std::string&>();
  CHECK(big.size() < 2048);
  CHECK(big.ends_with("..."));
  CHECK(last.data.size() < 101);
  CHECK(nlohmann::json(last.data).dump().size() <= 2048 + 64);
  for (const auto& [k, v] : last.data) {
    if (k != "big") CHECK(v == std::stoi(k.substr(1)) - 100);  // what is kept is unchanged
  }
  CHECK(hubtest::event_schema_errors(got) == "");
}

TEST_CASE("extra: nesting beyond depth 7 becomes its JSON text; the bag to 256 KiB") {
  rt::event ev;
  nlohmann::json deep = 1;
  for (int i = 0; i < 9; ++i) deep = nlohmann::json{{"l" + std::to_string(8 - i), deep}};
  ev.extra["deep"] = deep;  // {"l0":{"l1":...{"l8":1}}}
  for (int i = 0; i < 400; ++i) ev.extra["s" + std::to_string(1000 + i)] = std::string(1000, 's');
  const rt::event got = captured(std::move(ev));
  // deep is at depth 1, l0 at 2, ... l4's value (at depth 6) is the last container kept.
  const nlohmann::json& d = got.extra.at("deep");
  const nlohmann::json& l4 = d["l0"]["l1"]["l2"]["l3"]["l4"];
  REQUIRE(l4.is_string());
  CHECK(l4 == nlohmann::json{{"l5", {{"l6", {{"l7", {{"l8", 1}}}}}}}}.dump());
  // 400 strings of 1000 bytes do not fit in 262,144: the first ones (by key) stay whole.
  std::size_t kept = 0;
  for (const auto& [k, v] : got.extra) {
    if (k == "deep") continue;
    ++kept;
    if (v.get_ref<const std::string&>().size() == 1000) CHECK(v == std::string(1000, 's'));
  }
  CHECK(kept > 200);
  CHECK(kept < 400);
  CHECK(got.extra.contains("s1000"));
  CHECK_FALSE(got.extra.contains("s1399"));
  CHECK(nlohmann::json(got.extra).dump().size() <= 262'144 + 1024);
}

TEST_CASE("an event within its limits is sent byte for byte as captured") {
  rt::event ev;
  ev.message = std::string(8192, 'm');
  ev.tags = {{std::string(200, 'k'), std::string(200, 'v')}};
  ev.extra = {{"nested", {{"a", {{"b", {1, 2, 3}}}}}}};
  for (int i = 0; i < 100; ++i) ev.breadcrumbs.push_back({.message = std::to_string(i)});
  const rt::event want = ev;
  const rt::event got = captured(std::move(ev));
  CHECK(got.message == want.message);
  CHECK(got.tags == want.tags);
  CHECK(got.extra == want.extra);
  REQUIRE(got.breadcrumbs.size() == 100);
  CHECK(got.breadcrumbs.front().message == "0");
}

namespace {

struct debug_client {
  std::shared_ptr<line_sink> sink = std::make_shared<line_sink>();
  std::shared_ptr<rt::client> client;
  debug_client(const http_receiver& r, bool sync) {
    rt::client_options o{.dsn = dsn_for(r),
                         .debug = true,
                         .debug_logger = std::make_shared<spdlog::logger>("limits", sink)};
    if (sync) o.transport = std::make_shared<rt::http_sync_transport>(rt::dsn::parse(dsn_for(r)));
    client = std::make_shared<rt::client>(std::move(o));
  }
};

// An event of about 1.3 MB after per-field trimming: 100 breadcrumbs of 8 KB messages and
// 2 KB of data, and extras of ~250 KB.
rt::event oversized_event() {
  rt::event ev;
  ev.message = "the big one";
  for (int i = 0; i < 100; ++i) {
    ev.breadcrumbs.push_back({.message = std::to_string(i) + ":" + std::string(8000, 'b'),
                              .data = {{"d", std::string(1900, 'd')}}});
  }
  for (int i = 0; i < 25; ++i) ev.extra["x" + std::to_string(10 + i)] = std::string(9000, 'x');
  return ev;
}

// (No doctest INFO around these: its scopes are thread_local, and a flush parks the test's
// goroutine, which may resume on another worker.)
void check_fitted(bool sync) {
  http_receiver receiver;
  debug_client dc(receiver, sync);
  const std::string id = dc.client->capture_event(oversized_event(), {}, nullptr);
  REQUIRE(dc.client->flush(patience));
  const auto requests = receiver.wait_for_requests(1);
  REQUIRE(requests.size() == 1);
  const hubtest::http_request& r = requests[0];
  CHECK(r.header("Content-Encoding") == "gzip");
  CHECK(r.wire_body.size() < r.body.size() / 10);  // repeated text compresses well
  const hubtest::envelope_parts p = hubtest::split_envelope(r.body);
  CHECK(p.header["event_id"] == id);
  CHECK(p.payload.size() <= 1024 * 1024);
  CHECK(p.payload.size() > 1024 * 1024 - 12'000);  // only as many as needed went
  const auto ev = nlohmann::json::parse(p.payload);
  const auto& crumbs = ev["breadcrumbs"]["values"];
  REQUIRE(crumbs.size() < 100);
  REQUIRE(crumbs.size() > 50);
  CHECK(crumbs.back()["message"].get<std::string>().starts_with("99:"));  // the newest stay
  CHECK(crumbs.front()["message"].get<std::string>().starts_with(
      std::to_string(100 - crumbs.size()) + ":"));
  CHECK(ev["extra"].size() == 25);
  CHECK(hubtest::schema_errors(p.payload) == "");
  CHECK(dc.client->stats().sent == 1);
}

}  // namespace

TEST_CASE("over 1 MiB: the oldest breadcrumbs go until the event fits; the body is gzip") {
  check_fitted(false);
}

TEST_CASE("sync transport: over 1 MiB fitted the same way") {
  check_fitted(true);
}

namespace {

void check_dropped_oversize(bool sync) {
  http_receiver receiver;
  debug_client dc(receiver, sync);
  rt::event ev;
  for (int i = 0; i < 3000; ++i) {
    ev.tags[std::to_string(100000 + i) + std::string(190, 'k')] = std::string(200, 'v');
  }
  ev.breadcrumbs.push_back({.message = "crumb"});
  ev.extra["x"] = 1;
  const std::string id = dc.client->capture_event(std::move(ev), {}, nullptr);
  const std::string small = dc.client->capture_message("small", rt::level::info, {}, nullptr);
  REQUIRE(dc.client->flush(patience));
  const auto requests = receiver.wait_for_requests(1);
  REQUIRE(requests.size() == 1);  // only the small one
  CHECK(hubtest::split_envelope(requests[0].body).header["event_id"] == small);
  CHECK((requests[0].header("Content-Encoding") == "gzip") == (requests[0].body.size() > 1024));
  const rt::client_stats s = dc.client->stats();
  CHECK(s.dropped_oversize == 1);
  CHECK(s.sent == 1);
  const std::string line = dc.sink->wait_for(id);
  CHECK(line.starts_with("[Sentry] event " + id + " dropped: its JSON is "));
  CHECK(
      line.ends_with(" bytes without breadcrumbs and extras, over Relay's limit of 1048576 bytes"));
}

}  // namespace

TEST_CASE("too large even without breadcrumbs and extras: dropped, counted and logged") {
  check_dropped_oversize(false);
}

TEST_CASE("sync transport: too large an event is dropped, counted and logged the same way") {
  check_dropped_oversize(true);
}

TEST_CASE("a body of at most 1 KiB goes uncompressed") {
  http_receiver receiver;
  auto t = std::make_shared<rt::http_transport>(rt::dsn::parse(dsn_for(receiver)));
  rt::event ev;
  ev.event_id = std::string(32, 'a');
  ev.message = "tiny";
  t->send_event(ev);  // straight to the transport: no default contexts
  REQUIRE(t->flush(patience));
  const auto requests = receiver.wait_for_requests(1);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].header("Content-Encoding") == "");
  CHECK(requests[0].body.size() <= 1024);
  CHECK(requests[0].wire_body == requests[0].body);
}
