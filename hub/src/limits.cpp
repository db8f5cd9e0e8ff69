// limits.cpp — Sentry's size limits on events (internal.hpp): the per-field trimming every
// captured event gets (trim_to_limits) and the fitting of an event's JSON under Relay's
// 1 MiB event limit (fit_event_json).
//
// The limits are Relay's, the server that ingests events (https://github.com/getsentry/relay):
// relay-event-schema's processor attributes (MaxChars, BagSize) and the protocol fields
// that carry them, applied by relay-event-normalization's trimming processor. A field over
// its limit is cut the way Relay cuts it: to `limit` characters in all, the last three
// being "...". Characters are Unicode scalar values, so a cut never falls inside a UTF-8
// sequence.
//
//   field                            limit                     Relay's name
//   message (logentry.formatted)     8192 characters           MaxChars::Message
//   exception value                  8192 characters           MaxChars::Message
//   exception type                   256 characters            MaxChars::Symbol
//   breadcrumb message               8192 characters           MaxChars::Message
//   tag key / tag value              200 / 200 characters      MaxChars::TagKey / TagValue
//   logger                           64 characters             MaxChars::Logger
//   environment / dist               64 / 64 characters        MaxChars::Environment / Distribution
//   breadcrumbs                      the newest 100            max_breadcrumbs' cap in Sentry's
//   SDKs extra                            depth 7, 262,144 bytes    BagSize::Massive breadcrumb
//   data                  depth 5, 2048 bytes       BagSize::Medium the event's JSON 1 MiB
//   limits.max_event_size
//
// A data bag (extra, a breadcrumb's data) is trimmed as Relay does: a container at the
// last level of depth becomes its JSON text; strings are cut to the bytes the bag has
// left; once the bag's estimated size is spent, the remaining members are dropped. The
// estimate of a value is its own JSON size (a string's length + 2, a scalar's text, 2 for
// an object or array, plus a member's key length + 3) + 1.
//
// Owns: the limits above. Invariant: trimming only ever shortens or removes; what is
// within its limit is left byte for byte as it was.
#include <algorithm>
#include <vector>

#include "internal.hpp"
#include "rt/hub/json.hpp"

namespace rt::detail {
namespace {

constexpr std::size_t message_chars = 8192;
constexpr std::size_t symbol_chars = 256;
constexpr std::size_t tag_chars = 200;
constexpr std::size_t short_chars = 64;  // logger, environment, dist
constexpr std::size_t max_breadcrumbs = 100;

struct bag_size {
  std::size_t max_depth;
  std::size_t max_bytes;
};
constexpr bag_size massive_bag{7, 262'144};
constexpr bag_size medium_bag{5, 2048};

constexpr std::string_view ellipsis = "...";

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// trim_string cuts `s` to `max_chars` characters, the last three "...", when it has more.
void trim_string(std::string& s, std::size_t max_chars) {
  if (s.size() <= max_chars) return;  // bytes >= characters: nothing to count
  const std::size_t keep = max_chars > ellipsis.size() ? max_chars - ellipsis.size() : 0;
  std::size_t chars = 0, cut = std::string::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_continuation(s[i])) continue;
    if (chars == keep) cut = i;
    if (++chars > max_chars) break;
  }
  if (chars <= max_chars) return;
  s.resize(cut);
  s += ellipsis;
}

std::string text_of(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::size_t flat_size(const json& v) {
  if (v.is_string()) return v.get_ref<const std::string&>().size() + 2;
  if (v.is_object() || v.is_array()) return 2;
  return text_of(v).size();
}

struct bag_state {
  bag_size size;
  std::size_t remaining;
  void spend(std::size_t n) { remaining -= std::min(remaining, n); }
};

// trim_value trims `v`, a value at `depth` (1: a member of the bag itself) of bag `b`.
void trim_value(json& v, std::size_t depth, bag_state& b) {
  if ((v.is_object() || v.is_array()) && !v.empty() && depth + 1 >= b.size.max_depth)
    v = text_of(v);
  if (v.is_string()) {
    trim_string(v.get_ref<std::string&>(), b.remaining);
  } else if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (b.remaining == 0) {
        it = v.erase(it);
        continue;
      }
      b.spend(it.key().size() + 3);
      trim_value(it.value(), depth + 1, b);
      ++it;
    }
  } else if (v.is_array()) {
    std::size_t kept = 0;
    for (; kept < v.size() && b.remaining != 0; ++kept) trim_value(v[kept], depth + 1, b);
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(kept), v.end());
  }
  b.spend(flat_size(v) + 1);
}

void trim_bag(std::map<std::string, json>& bag, bag_size size) {
  bag_state b{size, size.max_bytes};
  for (auto it = bag.begin(); it != bag.end();) {
    if (b.remaining == 0) {
      it = bag.erase(it);
      continue;
    }
    b.spend(it->first.size() + 3);
    trim_value(it->second, 1, b);
    ++it;
  }
}

// trim_tags trims keys and values; of two keys that become equal, the first one stays.
void trim_tags(std::map<std::string, std::string>& tags) {
  const bool over = std::any_of(tags.begin(), tags.end(), [](const auto& kv) {
    return kv.first.size() > tag_chars || kv.second.size() > tag_chars;
  });
  if (!over) return;
  std::map<std::string, std::string> trimmed;
  for (auto& [k, v] : tags) {
    std::string key = k;
    trim_string(key, tag_chars);
    trim_string(v, tag_chars);
    trimmed.emplace(std::move(key), std::move(v));
  }
  tags = std::move(trimmed);
}

}  // namespace

void trim_to_limits(event& ev) {
  trim_string(ev.message, message_chars);
  trim_string(ev.logger, short_chars);
  trim_string(ev.environment, short_chars);
  trim_string(ev.dist, short_chars);
  trim_tags(ev.tags);
  trim_bag(ev.extra, massive_bag);
  for (exception_info& x : ev.exception) {
    trim_string(x.type, symbol_chars);
    trim_string(x.value, message_chars);
  }
  if (ev.breadcrumbs.size() > max_breadcrumbs) {
    ev.breadcrumbs.erase(ev.breadcrumbs.begin(),
                         ev.breadcrumbs.end() - static_cast<std::ptrdiff_t>(max_breadcrumbs));
  }
  for (breadcrumb& b : ev.breadcrumbs) {
    trim_string(b.message, message_chars);
    trim_bag(b.data, medium_bag);
  }
}

std::string fit_event_json(event& ev) {
  std::string line = event_json_line(ev);
  if (line.size() <= max_event_bytes) return line;
  // 1. The oldest breadcrumbs: the fewest that must go, by bisection on how many.
  if (!ev.breadcrumbs.empty()) {
    const std::vector<breadcrumb> all = std::move(ev.breadcrumbs);
    const auto without_oldest = [&](std::size_t n) {
      ev.breadcrumbs.assign(all.begin() + static_cast<std::ptrdiff_t>(n), all.end());
      return event_json_line(ev);
    };
    std::size_t lo = 1, hi = all.size();  // dropping `hi` is the last resort
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (without_oldest(mid).size() <= max_event_bytes) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    line = without_oldest(lo);
    if (line.size() <= max_event_bytes) return line;
  }
  // 2. The largest extras, each one's share of the line being `"key":value,`.
  if (ev.extra.empty()) return line;
  std::vector<std::pair<std::size_t, std::string>> extras;
  for (const auto& [k, v] : ev.extra) extras.emplace_back(k.size() + text_of(v).size() + 4, k);
  std::sort(extras.begin(), extras.end(), std::greater<>());
  std::size_t estimate = line.size();
  for (const auto& [bytes, key] : extras) {
    ev.extra.erase(key);
    estimate -= std::min(estimate, bytes);
    if (estimate <= max_event_bytes) {
      line = event_json_line(ev);
      if (line.size() <= max_event_bytes) return line;
      estimate = line.size();
    }
  }
  return event_json_line(ev);
}

}  // namespace rt::detail
