// logging.cpp — spdlog integration (rt/hub/logging.hpp): the breadcrumb sink and the
// goroutine-id pattern flag.
//
// Owns: the mapping of spdlog records to breadcrumbs.
// Invariant: the sink touches only rt::current_hub(), i.e. the logging goroutine's hub.
#include <spdlog/details/fmt_helper.h>

#include "rt/hub/hub.hpp"
#include "rt/hub/logging.hpp"
#include "rt/runtime.hpp"

namespace rt {
namespace {

std::optional<level> hub_level(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return level::debug;
    case spdlog::level::info:
      return level::info;
    case spdlog::level::warn:
      return level::warning;
    case spdlog::level::err:
      return level::error;
    case spdlog::level::critical:
      return level::fatal;
    default:
      return std::nullopt;
  }
}

}  // namespace

void breadcrumb_sink::sink_it_(const spdlog::details::log_msg& msg) {
  current_hub().add_breadcrumb(
      {.type = "log",
       .category = std::string(msg.logger_name.begin(), msg.logger_name.end()),
       .message = std::string(msg.payload.begin(), msg.payload.end()),
       .level = hub_level(msg.level),
       .timestamp = msg.time});
}

void goroutine_id_flag::format(const spdlog::details::log_msg&, const std::tm&,
                               spdlog::memory_buf_t& dest) {
  spdlog::details::fmt_helper::append_int(goroutine_id(), dest);
}

std::unique_ptr<spdlog::custom_flag_formatter> goroutine_id_flag::clone() const {
  return std::make_unique<goroutine_id_flag>();
}

std::unique_ptr<spdlog::pattern_formatter> make_log_formatter(const std::string& pattern,
                                                              char flag) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<goroutine_id_flag>(flag).set_pattern(pattern);
  return f;
}

}  // namespace rt
