// rt/hub/logging.hpp — spdlog integration: log records become breadcrumbs on the current
// goroutine's hub, and a pattern flag prints the goroutine id.
//
// Example:
//   auto logger = std::make_shared<spdlog::logger>("app", spdlog::sinks_init_list{
//       std::make_shared<spdlog::sinks::stderr_color_sink_mt>(),
//       std::make_shared<rt::breadcrumb_sink>()});
//   logger->set_formatter(rt::make_log_formatter("[g%g] %v"));
//   logger->info("loading {}", path);   // prints "[g7] loading ..." and adds a breadcrumb
//
// Owns: rt::breadcrumb_sink and rt::goroutine_id_flag.
// Invariant: a record logged by a goroutine becomes a breadcrumb on that goroutine's hub
// only (through hub::add_breadcrumb, so the client's limit and before_breadcrumb apply).
#pragma once

#include <memory>
#include <string>

#include <spdlog/details/null_mutex.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

namespace rt {

// A sink that adds each record as a breadcrumb {type "log", category = logger name,
// message, level, timestamp = record time} to rt::current_hub(). Thread-safe without a
// sink lock (the hub has its own); never parks. Use it in a synchronous logger: an async
// logger would log on its own thread, whose hub is not the goroutine's.
class breadcrumb_sink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}
};

// A pattern flag printing rt::goroutine_id() (0 outside goroutines).
class goroutine_id_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& time,
              spdlog::memory_buf_t& dest) override;
  std::unique_ptr<custom_flag_formatter> clone() const override;
};

// make_log_formatter returns a pattern formatter for `pattern` in which `flag` (default
// 'g', so "%g") prints the goroutine id. Throws spdlog::spdlog_ex for a bad pattern.
std::unique_ptr<spdlog::pattern_formatter> make_log_formatter(const std::string& pattern,
                                                              char flag = 'g');

}  // namespace rt
