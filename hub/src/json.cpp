// json.cpp — Sentry JSON for events and envelopes (rt/hub/json.hpp).
//
// Owns: the field-by-field mapping of rt::event to the canonical event JSON.
// Invariant: a key is written only when its value is non-empty, and only keys that
// event.schema.json declares are written (its top level has additionalProperties: false).
#include <ctime>

#include "internal.hpp"
#include "rt/hub/client.hpp"
#include "rt/hub/dsn.hpp"
#include "rt/hub/json.hpp"

namespace rt {
namespace {

using ordered = nlohmann::ordered_json;

template <class Map>
ordered object_of(const Map& m) {
  ordered o = ordered::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// array_of is the JSON array of one element_json(x) per x of xs, in order.
template <class T>
ordered array_of(const std::vector<T>& xs, ordered (*element_json)(const T&)) {
  ordered values = ordered::array();
  for (const T& x : xs) values.push_back(element_json(x));
  return values;
}

ordered breadcrumb_json(const breadcrumb& b) {
  ordered o = ordered::object();
  if (b.timestamp != timestamp{}) o["timestamp"] = format_timestamp(b.timestamp);
  if (!b.type.empty()) o["type"] = b.type;
  if (!b.category.empty()) o["category"] = b.category;
  if (!b.message.empty()) o["message"] = b.message;
  if (b.level) o["level"] = to_string(*b.level);
  if (!b.data.empty()) o["data"] = object_of(b.data);
  return o;
}

ordered user_json(const user& u) {
  ordered o = ordered::object();
  if (!u.id.empty()) o["id"] = u.id;
  if (!u.email.empty()) o["email"] = u.email;
  if (!u.ip_address.empty()) o["ip_address"] = u.ip_address;
  if (!u.username.empty()) o["username"] = u.username;
  if (!u.name.empty()) o["name"] = u.name;
  if (!u.data.empty()) o["data"] = object_of(u.data);
  return o;
}

std::string hex_address(std::uintptr_t a) {
  char buf[2 + 2 * sizeof(a) + 1];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(a));
  return buf;
}

ordered stacktrace_json(const std::vector<stack_frame>& frames) {
  ordered values = ordered::array();
  for (const stack_frame& f : frames) {
    ordered fo = ordered::object();
    if (!f.function.empty()) fo["function"] = f.function;
    if (!f.filename.empty()) fo["filename"] = f.filename;
    if (!f.abs_path.empty()) fo["abs_path"] = f.abs_path;
    if (f.lineno > 0) fo["lineno"] = f.lineno;
    if (f.instruction_addr != 0) fo["instruction_addr"] = hex_address(f.instruction_addr);
    if (!f.package.empty()) fo["package"] = f.package;
    if (f.in_app) fo["in_app"] = *f.in_app;
    values.push_back(std::move(fo));
  }
  ordered o = ordered::object();
  o["frames"] = std::move(values);
  // Every address is a return address (the wrapped __cxa_throw's, or an unwinder's), so a
  // symbolicating server must step back into the call for all of them.
  o["instruction_addr_adjustment"] = "all";
  return o;
}

ordered thread_json(const thread_info& t) {
  ordered o = ordered::object();
  if (!t.id.empty()) o["id"] = t.id;
  if (!t.name.empty()) o["name"] = t.name;
  o["current"] = t.current;
  o["crashed"] = t.crashed;
  if (!t.frames.empty()) o["stacktrace"] = stacktrace_json(t.frames);
  return o;
}

ordered debug_image_json(const debug_image& im) {
  ordered o = ordered::object();
  o["type"] = "elf";
  o["code_file"] = im.code_file;
  o["code_id"] = im.code_id;
  o["debug_id"] = im.debug_id;
  o["image_addr"] = hex_address(im.image_addr);
  o["image_size"] = im.image_size;
  return o;
}

ordered exception_json(const exception_info& x) {
  ordered o = ordered::object();
  o["type"] = x.type;
  o["value"] = x.value;
  if (!x.frames.empty()) o["stacktrace"] = stacktrace_json(x.frames);
  if (x.mechanism) {
    ordered m = ordered::object();
    m["type"] = x.mechanism->type;
    if (!x.mechanism->source.empty()) m["source"] = x.mechanism->source;
    m["exception_id"] = x.mechanism->exception_id;
    if (x.mechanism->parent_id) m["parent_id"] = *x.mechanism->parent_id;
    o["mechanism"] = std::move(m);
  }
  return o;
}

ordered sdk_json(std::string_view name, std::string_view version) {
  ordered o = ordered::object();
  o["name"] = name;
  o["version"] = version;
  return o;
}

// The event's sdk: identity, what rt installs and rt's package (ClientSdkInfo).
ordered event_sdk_json() {
  ordered o = sdk_json(sdk_name, sdk_version);
  o["integrations"] = detail::sdk_integrations;
  o["packages"] = ordered::array({{{"name", detail::sdk_package_name}, {"version", sdk_version}}});
  return o;
}

std::string line(const ordered& o) {
  return o.dump(-1, ' ', false, ordered::error_handler_t::replace);
}

}  // namespace

std::string format_timestamp(timestamp t) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  long frac = static_cast<long>(us % 1'000'000);
  if (frac < 0) {  // before 1970: floor, keep the fraction positive
    --secs;
    frac += 1'000'000;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  if (frac != 0) n += std::snprintf(buf + n, sizeof(buf) - n, ".%06ld", frac);
  std::snprintf(buf + n, sizeof(buf) - n, "Z");
  return buf;
}

nlohmann::ordered_json event_to_json(const event& ev) {
  ordered o = ordered::object();
  if (!ev.event_id.empty()) o["event_id"] = ev.event_id;
  if (ev.timestamp != timestamp{}) o["timestamp"] = format_timestamp(ev.timestamp);
  if (ev.level) o["level"] = to_string(*ev.level);
  if (!ev.platform.empty()) o["platform"] = ev.platform;
  o["sdk"] = event_sdk_json();
  if (!ev.server_name.empty()) o["server_name"] = ev.server_name;
  if (!ev.release.empty()) o["release"] = ev.release;
  if (!ev.dist.empty()) o["dist"] = ev.dist;
  if (!ev.environment.empty()) o["environment"] = ev.environment;
  if (!ev.message.empty()) o["logentry"] = {{"formatted", ev.message}};
  if (!ev.logger.empty()) o["logger"] = ev.logger;
  if (!ev.transaction.empty()) o["transaction"] = ev.transaction;
  if (!ev.tags.empty()) o["tags"] = object_of(ev.tags);
  if (!ev.extra.empty()) o["extra"] = object_of(ev.extra);
  if (!ev.contexts.empty()) o["contexts"] = object_of(ev.contexts);
  if (!ev.user.empty()) o["user"] = user_json(ev.user);
  if (!ev.fingerprint.empty()) o["fingerprint"] = ev.fingerprint;
  if (!ev.breadcrumbs.empty()) {
    o["breadcrumbs"] = {{"values", array_of(ev.breadcrumbs, breadcrumb_json)}};
  }
  if (!ev.exception.empty()) o["exception"] = {{"values", array_of(ev.exception, exception_json)}};
  if (!ev.threads.empty()) o["threads"] = {{"values", array_of(ev.threads, thread_json)}};
  if (!ev.debug_images.empty()) {
    o["debug_meta"] = {{"images", array_of(ev.debug_images, debug_image_json)}};
  }
  return o;
}

std::string make_envelope(std::string_view event_id, timestamp sent_at, const dsn* dsn,
                          std::string_view sdk_name, std::string_view sdk_version,
                          std::string_view payload) {
  ordered header = ordered::object();
  header["event_id"] = event_id;
  header["sent_at"] = format_timestamp(sent_at);
  if (dsn) header["dsn"] = dsn->to_string();
  header["sdk"] = sdk_json(sdk_name, sdk_version);
  ordered item = ordered::object();
  item["type"] = "event";
  item["length"] = payload.size();
  std::string out = line(header);
  out += '\n';
  out += line(item);
  out += '\n';
  out += payload;
  out += '\n';
  return out;
}

std::string make_envelope(const event& ev, const dsn* dsn) {
  return make_envelope(ev.event_id, std::chrono::system_clock::now(), dsn, sdk_name, sdk_version,
                       event_json_line(ev));
}

std::string event_json_line(const event& ev) {
  return line(event_to_json(ev));
}

}  // namespace rt
