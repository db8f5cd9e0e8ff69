// client.cpp — rt::client (rt/hub/client.hpp): option normalisation and the capture
// pipeline of SPEC 3.3.
//
// Owns: the client's options, processors and transport, all fixed after construction.
// Invariant: an event reaches the transport only after, in this order: sampling, the
// defaults, the scope merge and its processors, the client processors, before_send; a
// step that drops it ends the pipeline with an empty id.
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <random>

#include "internal.hpp"
#include "rt/diagnostics.hpp"
#include "rt/hub/client.hpp"
#include "rt/hub/dsn.hpp"
#include "rt/hub/http_transport.hpp"
#include "rt/scheduler/race.hpp"

namespace rt {
namespace {

std::string env_or(const std::string& value, const char* variable) {
  if (!value.empty()) return value;
  const char* v = std::getenv(variable);
  return v ? v : "";
}

const std::string& host_name() {
  static const std::string name = [] {
    char buf[HOST_NAME_MAX + 1] = {};
    return gethostname(buf, sizeof(buf) - 1) == 0 ? std::string(buf) : std::string();
  }();
  return name;
}

// uniform returns a number in [0, 1) from a per-thread generator seeded by the OS (used
// between parks, so quiet for ThreadSanitizer: rt/scheduler/race.hpp).
double uniform() {
  sched::tsan_quiet quiet;
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

event usage_error(std::string value, level lvl) {
  event ev;
  ev.level = lvl;
  ev.exception.push_back({.type = "sentry.usageError", .value = std::move(value)});
  return ev;
}

}  // namespace

client::client(client_options options) : options_(std::move(options)) {
  options_.dsn = env_or(options_.dsn, "SENTRY_DSN");
  options_.release = env_or(options_.release, "SENTRY_RELEASE");
  options_.environment = env_or(options_.environment, "SENTRY_ENVIRONMENT");
  if (options_.server_name.empty()) options_.server_name = host_name();
  if (options_.max_breadcrumbs == 0) options_.max_breadcrumbs = scope::default_max_breadcrumbs;
  if (!options_.dsn.empty()) {
    rt::dsn parsed = dsn::parse(options_.dsn);  // throws dsn_error: then no client
    if (!options_.transport)
      options_.transport = std::make_shared<http_transport>(std::move(parsed));
  }
  if (!options_.transport) options_.transport = std::make_shared<noop_transport>();
  options_.transport->configure(options_);
  detail::install_panic_observer();
}

client::~client() = default;

void client::add_event_processor(event_processor processor) {
  processors_.push_back(std::move(processor));
}

bool client::process(event& ev, const event_hint& hint, const scope* scope) {
  // 0. Sampling comes first: a sampled-out event costs nothing else.
  if (options_.sample_rate < 1.0 && !(uniform() < options_.sample_rate)) return false;
  // 1. Defaults, never overwriting what the caller set (platform excepted).
  if (ev.event_id.empty()) ev.event_id = new_event_id();
  if (ev.timestamp == timestamp{}) ev.timestamp = std::chrono::system_clock::now();
  if (!ev.level) ev.level = level::info;
  if (ev.server_name.empty()) ev.server_name = options_.server_name;
  if (ev.release.empty()) ev.release = options_.release;
  if (ev.dist.empty()) ev.dist = options_.dist;
  if (ev.environment.empty()) ev.environment = options_.environment;
  ev.platform = "native";
  // 2. The scope: merge, then its processors.
  if (scope && !scope->apply_to(ev, hint)) return false;
  if (!ev.contexts.contains("goroutine")) {
    // Which goroutine captured it, and where that goroutine was started (for a panic:
    // the panicking goroutine, whose observer captures on it).
    if (const goroutine_info g = current_goroutine(); g.id != 0) {
      ev.contexts["goroutine"] = json{{"type", "goroutine"},
                                      {"id", g.id},
                                      {"parent_id", g.parent},
                                      {"created_at", g.created_at},
                                      {"created_in", g.function}};
    }
  }
  // 3. Client processors.
  for (const auto& p : processors_) {
    std::optional<event> next = p(std::move(ev), hint);
    if (!next) return false;
    ev = std::move(*next);
  }
  // 5. The last user hook. A recovered panic's event is the goroutine's last word: a
  // before_send that throws on it must not lose it, so the hook gets a copy and, if it
  // throws, the event goes out as it was.
  if (options_.before_send) {
    if (hint.recovered_exception) {
      try {
        std::optional<event> kept = options_.before_send(event(ev));
        if (!kept) return false;
        ev = std::move(*kept);
      } catch (...) {
      }
      return true;
    }
    std::optional<event> kept = options_.before_send(std::move(ev));
    if (!kept) return false;
    ev = std::move(*kept);
  }
  return true;
}

std::string client::capture_event(event ev, const event_hint& hint, const scope* scope) {
  if (!process(ev, hint, scope)) return {};
  std::string id = ev.event_id;
  options_.transport->send_event(std::move(ev));
  return id;
}

std::string client::capture_message(std::string_view message, level lvl, const event_hint& hint,
                                    const scope* scope) {
  if (message.empty()) {
    return capture_event(usage_error("CaptureMessage called with empty message", lvl), hint, scope);
  }
  event ev;
  ev.level = lvl;
  ev.message = message;
  return capture_event(std::move(ev), hint, scope);
}

std::string client::capture_exception(std::exception_ptr e, const event_hint& hint,
                                      const scope* scope) {
  if (!e) {
    return capture_event(usage_error("CaptureException called with nil error", level::error), hint,
                         scope);
  }
  event ev;
  ev.level = level::error;
  ev.exception = exception_chain(e);
  return capture_event(std::move(ev), hint, scope);
}

std::string client::recover(std::exception_ptr e, const event_hint& hint, const scope* scope) {
  if (!e) return {};
  event ev;
  ev.level = level::fatal;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception&) {
    ev.exception = exception_chain(e);
  } catch (const char* text) {
    ev.message = text ? text : "";
  } catch (const std::string& text) {
    ev.message = text;
  } catch (...) {
    ev.message = "unknown exception of type " + exception_chain(e).front().type;
  }
  return capture_event(std::move(ev), hint, scope);
}

bool client::flush(std::chrono::nanoseconds timeout) {
  return options_.transport->flush(timeout);
}

void client::close() {
  options_.transport->close();
}

}  // namespace rt
