// client.cpp — rt::client (rt/hub/client.hpp): option normalisation, the capture
// pipeline of sentry-go's Client.processEvent, the SDK's diagnostics log and the retirement of the
// transports of destroyed clients.
//
// Owns: the client's options, processors and transport, all fixed after construction; the
// process-wide retirer (one thread per transport still delivering, joined at exit).
// Invariant: an event reaches the transport only after, in this order: sampling, the
// defaults, the scope merge and its processors, the client processors, before_send; a
// step that drops it ends the pipeline with an empty id, counts it and (debug) logs why.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <list>
#include <random>
#include <system_error>
#include <thread>

#include "internal.hpp"
#include "rt/detail/symbolize.hpp"
#include "rt/diagnostics.hpp"
#include "rt/hub/client.hpp"
#include "rt/hub/dsn.hpp"
#include "rt/hub/http_transport.hpp"
#include "rt/hub/stacktrace.hpp"
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

// attach_stacktrace's thread: the capturing goroutine and its stack.
thread_info current_thread() {
  thread_info t{.current = true, .frames = current_stacktrace()};
  if (const std::uint64_t id = current_goroutine().id; id != 0) {
    t.id = std::to_string(id);
    t.name = "goroutine " + t.id;
  }
  return t;
}

event usage_error(std::string value, level lvl) {
  event ev;
  ev.level = lvl;
  ev.exception.push_back({.type = "sentry.usageError", .value = std::move(value)});
  return ev;
}

// The retirer: each retired transport gets a plain thread running close(timeout). A
// thread that finished is joined by the next retirement; the rest at std::exit (an atexit
// handler registered with the first retirement, so it runs before the destructors of
// statics built earlier, spdlog's registry among them). Never destroyed.
class retirer {
 public:
  static retirer& get() {
    static retirer* const r = new retirer();
    return *r;
  }

  void retire(std::shared_ptr<transport> t, std::chrono::nanoseconds timeout) {
    static const bool registered = std::atexit([] { get().join_all(); }) == 0;
    (void)registered;
    std::list<std::thread> finished;  // threads that left their body: joined below
    {
      std::lock_guard lk(mu_);
      finished.swap(done_);
      workers_.emplace_front();
      const auto self = workers_.begin();
      // The thread cannot splice itself before this assignment: it needs mu_ first.
      try {
        *self = std::thread([this, self, t, timeout]() {
          t->close(timeout);
          std::lock_guard lk(mu_);
          done_.splice(done_.end(), workers_, self);
          cv_.notify_all();
        });
      } catch (const std::system_error&) {
        workers_.erase(self);  // no thread: what is queued is lost, as before retirement
      }
    }
    t.reset();  // with a thread running, not the last reference
    for (std::thread& th : finished) th.join();
  }

 private:
  void join_all() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return workers_.empty(); });
    std::list<std::thread> finished;
    finished.swap(done_);
    lk.unlock();
    for (std::thread& th : finished) th.join();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::list<std::thread> workers_;  // guarded by mu_: running close(timeout)
  std::list<std::thread> done_;     // guarded by mu_: finished, not joined yet
};

}  // namespace

namespace detail {

std::shared_ptr<spdlog::logger> sdk_logger(const client_options& options) {
  if (!options.debug) return nullptr;
  if (options.debug_logger) return options.debug_logger;
  static const std::shared_ptr<spdlog::logger> stderr_logger = std::make_shared<spdlog::logger>(
      "sentry", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  return stderr_logger;
}

void sdk_log(const std::shared_ptr<spdlog::logger>& logger, std::string_view message) {
  if (logger) logger->warn("[Sentry] {}", message);
}

void retire_transport(std::shared_ptr<transport> t, std::chrono::nanoseconds timeout) {
  retirer::get().retire(std::move(t), timeout);
}

}  // namespace detail

client::client(client_options options) : options_(std::move(options)) {
  options_.dsn = env_or(options_.dsn, "SENTRY_DSN");
  options_.release = env_or(options_.release, "SENTRY_RELEASE");
  options_.environment = env_or(options_.environment, "SENTRY_ENVIRONMENT");
  if (options_.server_name.empty()) options_.server_name = host_name();
  if (options_.max_breadcrumbs == 0) options_.max_breadcrumbs = scope::default_max_breadcrumbs;
  if (!options_.dsn.empty()) {
    rt::dsn parsed = dsn::parse(options_.dsn);  // throws dsn_error: then no client
    if (!options_.transport)
      options_.transport = std::make_shared<http_transport>(
          std::move(parsed), http_transport_options{.request_timeout = options_.http_timeout});
  }
  if (!options_.transport) options_.transport = std::make_shared<noop_transport>();
  options_.transport->configure(options_);
  detail::install_panic_observer();
  if (throw_stacktraces() || options_.attach_stacktrace) detail::preload_symbols();
}

client::~client() {
  // The last holder of the transport retires it; a shared one is its other holders' job.
  if (!closed_.load() && options_.transport && options_.transport.use_count() == 1 &&
      options_.transport->delivers_in_background())
    detail::retire_transport(std::move(options_.transport), options_.shutdown_timeout);
}

void client::debug_log(const std::string& message) const {
  if (options_.debug) detail::sdk_log(detail::sdk_logger(options_), message);
}

client_stats client::stats() const {
  client_stats s;
  static_cast<transport_stats&>(s) = options_.transport->stats();
  s.sampled_out = sampled_out_.load(std::memory_order_relaxed);
  s.dropped_by_event_processor = dropped_by_processor_.load(std::memory_order_relaxed);
  s.dropped_by_before_send = dropped_by_before_send_.load(std::memory_order_relaxed);
  return s;
}

void client::add_event_processor(event_processor processor) {
  processors_.push_back(std::move(processor));
}

bool client::process(event& ev, const event_hint& hint, const scope* scope) {
  // 0. Sampling comes first: a sampled-out event costs nothing else.
  if (options_.sample_rate < 1.0 && !(uniform() < options_.sample_rate)) {
    sampled_out_.fetch_add(1, std::memory_order_relaxed);
    debug_log(fmt::format("event dropped: sampled out (sample_rate {})", options_.sample_rate));
    return false;
  }
  // 1. Defaults, never overwriting what the caller set (platform excepted).
  if (ev.event_id.empty()) ev.event_id = new_event_id();
  if (ev.timestamp == timestamp{}) ev.timestamp = std::chrono::system_clock::now();
  if (!ev.level) ev.level = level::info;
  if (ev.server_name.empty()) ev.server_name = options_.server_name;
  if (ev.release.empty()) ev.release = options_.release;
  if (ev.dist.empty()) ev.dist = options_.dist;
  if (ev.environment.empty()) ev.environment = options_.environment;
  ev.platform = "native";
  if (ev.debug_images.empty()) ev.debug_images = debug_images_of(ev);
  // 2. The scope: merge, then its processors.
  if (scope && !scope->apply_to(ev, hint)) {
    dropped_by_processor_.fetch_add(1, std::memory_order_relaxed);
    debug_log("event " + ev.event_id + " dropped by a scope event processor");
    return false;
  }
  // The host's contexts (os, device, runtime, ...), under what the user set.
  for (const auto& [key, value] : detail::default_contexts()) ev.contexts.emplace(key, value);
  if (!ev.contexts.contains("goroutine")) {
    // Which goroutine captured it, and where that goroutine was started (for a panic:
    // the panicking goroutine, whose observer captures on it).
    if (goroutine_info g = current_goroutine(); g.id != 0) {
      // Member by member: nlohmann's initializer-list form copies every value twice
      // (it was half the cost of a capture).
      json& c = ev.contexts["goroutine"];
      c["type"] = "goroutine";
      c["id"] = g.id;
      c["parent_id"] = g.parent;
      c["created_at"] = std::move(g.created_at);
      c["created_in"] = std::move(g.function);
    }
  }
  // 3. Client processors.
  for (const auto& p : processors_) {
    const std::string id = options_.debug ? ev.event_id : std::string();
    std::optional<event> next = p(std::move(ev), hint);
    if (!next) {
      dropped_by_processor_.fetch_add(1, std::memory_order_relaxed);
      debug_log("event " + id + " dropped by a client event processor");
      return false;
    }
    ev = std::move(*next);
  }
  // 5. The last user hook. A recovered panic's event is the goroutine's last word: a
  // before_send that throws on it must not lose it, so the hook gets a copy and, if it
  // throws, the event goes out as it was.
  if (options_.before_send) {
    if (hint.recovered_exception) {
      try {
        std::optional<event> kept = options_.before_send(event(ev));
        if (!kept) {
          dropped_by_before_send_.fetch_add(1, std::memory_order_relaxed);
          debug_log("event " + ev.event_id + " dropped by before_send");
          return false;
        }
        ev = std::move(*kept);
      } catch (...) {
      }
    } else {
      const std::string id = options_.debug ? ev.event_id : std::string();
      std::optional<event> kept = options_.before_send(std::move(ev));
      if (!kept) {
        dropped_by_before_send_.fetch_add(1, std::memory_order_relaxed);
        debug_log("event " + id + " dropped by before_send");
        return false;
      }
      ev = std::move(*kept);
    }
  }
  // 6. Sentry's per-field limits (strings, breadcrumbs, extras), on what is sent.
  detail::trim_to_limits(ev);
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
  if (options_.attach_stacktrace) ev.threads.push_back(current_thread());
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
  if (options_.attach_stacktrace && ev.exception.back().frames.empty())
    ev.exception.back().frames = current_stacktrace();  // no throw site: where it was captured
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
  closed_.store(true);
  options_.transport->close();
}

bool client::close(std::chrono::nanoseconds timeout) {
  closed_.store(true);
  return options_.transport->close(timeout);
}

}  // namespace rt
