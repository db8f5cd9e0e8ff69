// rt/hub/json.hpp — Sentry JSON: rt::event_to_json and the envelope format.
//
// Example:
//   std::string line = rt::event_to_json(ev).dump();   // one compact line
//
// Owns: the mapping of rt::event to Sentry's canonical event JSON (the forms Relay's
// event.schema.json accepts: "logentry", "exception": {"values"}, "breadcrumbs":
// {"values"}, RFC 3339 UTC timestamps) and the envelope wire format
// (https://develop.sentry.dev/sdk/envelopes/).
// Invariant: event_to_json emits only keys the schema knows and omits every empty field,
// so each captured event validates against event.schema.json.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rt/hub/event.hpp"

namespace rt {

class dsn;

// format_timestamp renders `t` as RFC 3339 UTC with microseconds, "2024-07-25T10:00:00.123456Z"
// (whole seconds without a fraction: "1970-01-01T00:00:00Z").
std::string format_timestamp(timestamp t);

// event_to_json: the event's canonical Sentry JSON, with "sdk": {name, version} added.
// Keys in sentry-go's order. Never throws except std::bad_alloc.
nlohmann::ordered_json event_to_json(const event& ev);

// event_json_line: event_to_json(ev) as one compact line, invalid UTF-8 replaced by U+FFFD
// (so a strange what() can never make serialisation throw).
std::string event_json_line(const event& ev);

// make_envelope: "<header>\n<item header>\n<payload>\n" with header {"event_id", "sent_at",
// "dsn" (when `dsn` is non-null), "sdk": {name, version}} and item header
// {"type":"event","length":<payload bytes>}.
std::string make_envelope(std::string_view event_id, timestamp sent_at, const dsn* dsn,
                          std::string_view sdk_name, std::string_view sdk_version,
                          std::string_view payload);
// make_envelope for an event, with this SDK's identity and sent_at = now.
std::string make_envelope(const event& ev, const dsn* dsn);

}  // namespace rt
