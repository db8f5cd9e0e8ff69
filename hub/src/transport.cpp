// transport.cpp — the in-process transports (rt/hub/transport.hpp).
//
// Owns: memory_transport's list of events and log_transport's logger.
// Invariant: memory_transport's list only grows between clear() calls, in send order.
#include <spdlog/spdlog.h>

#include "rt/hub/json.hpp"
#include "rt/hub/transport.hpp"

namespace rt {

void memory_transport::send_event(event ev) {
  std::lock_guard lk(mu_);
  events_.push_back(std::move(ev));
}

std::vector<event> memory_transport::events() const {
  std::lock_guard lk(mu_);
  return {events_.begin(), events_.end()};
}

void memory_transport::clear() {
  std::deque<event> old;  // destroyed after the lock
  std::lock_guard lk(mu_);
  old.swap(events_);
}

namespace {

spdlog::level::level_enum spdlog_level(std::optional<level> l) {
  switch (l.value_or(level::info)) {
    case level::debug:
      return spdlog::level::debug;
    case level::info:
      return spdlog::level::info;
    case level::warning:
      return spdlog::level::warn;
    case level::error:
      return spdlog::level::err;
    case level::fatal:
      return spdlog::level::critical;
  }
  return spdlog::level::info;
}

}  // namespace

log_transport::log_transport(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

void log_transport::send_event(event ev) {
  const std::shared_ptr<spdlog::logger> logger = logger_ ? logger_ : spdlog::default_logger();
  logger->log(spdlog_level(ev.level), "{}", event_json_line(ev));
}

bool log_transport::flush(std::chrono::nanoseconds) {
  (logger_ ? logger_ : spdlog::default_logger())->flush();
  return true;
}

}  // namespace rt
