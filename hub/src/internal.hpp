// internal.hpp — internal: what the hub layer's sources share and nobody else sees
// (not installed).
//
// Owns: the declarations linking client.cpp to hub.cpp and the transports: the panic
// observer, the SDK's diagnostics log, the background retirement of transports, the
// default contexts and SDK identity of events (contexts.cpp) and Sentry's size limits
// (limits.cpp).
// Invariant: nothing here is part of the public API.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "rt/hub/event.hpp"

namespace spdlog {
class logger;
}

namespace rt {
struct client_options;
class transport;
}  // namespace rt

namespace rt::detail {

// install_panic_observer registers, once per process, the runtime panic observer that
// captures a panicking goroutine's exception on its own hub (hub.cpp).
void install_panic_observer();

// sdk_logger returns where the diagnostics of a client with `options` go: null when debug
// is off, else options.debug_logger or, when that is null, a process-wide logger writing
// to stderr (client.cpp).
std::shared_ptr<spdlog::logger> sdk_logger(const client_options& options);
// sdk_log writes "[Sentry] <message>" at warning level to `logger`; null: nothing.
void sdk_log(const std::shared_ptr<spdlog::logger>& logger, std::string_view message);

// retire_transport hands `t` to a background thread that runs t->close(timeout) and then
// drops it. Never waits. Threads still running at std::exit are joined then (client.cpp).
void retire_transport(std::shared_ptr<transport> t, std::chrono::nanoseconds timeout);

// What rt installs, as the event's sdk.integrations: the "Environment" contexts below
// (sentry-go's integration of that name adds the same ones), the "goroutine" context of
// each capture, and the panic observer.
inline constexpr std::array<std::string_view, 3> sdk_integrations = {
    "Environment", "GoroutineContext", "PanicObserver"};
// The event's sdk.packages entry ({name, version}, as ClientSdkPackage): rt's own name, as
// sentry-go's {"name":"sentry-go"} (rt is not published in a package registry).
inline constexpr std::string_view sdk_package_name = "rt.cpp";

// default_contexts: "os", "device", "runtime" (rt) and "compiler" (the C++ toolchain rt
// was built with, its standard library included), computed on the first call and cached for the
// process (contexts.cpp). Never throws after the first call.
const std::map<std::string, json>& default_contexts();

// Relay's limit on an event's JSON: larger events are rejected
// (https://docs.sentry.io/product/relay/options/, limits.max_event_size, 1 MiB).
inline constexpr std::size_t max_event_bytes = 1024 * 1024;

// trim_to_limits cuts `ev` to the per-field limits of Sentry's ingestion (limits.cpp has
// the table): strings to a number of Unicode characters, ending in "...", never inside a
// UTF-8 sequence; at most 100 breadcrumbs, the newest; extras and breadcrumb data to a
// depth and an estimated JSON size. Never throws except std::bad_alloc.
void trim_to_limits(event& ev);

// fit_event_json returns event_json_line(ev) if it is at most max_event_bytes; else drops
// from `ev` its oldest breadcrumbs, then its largest extras, until it is, and returns the
// line then. A result still over max_event_bytes means the event cannot be sent.
std::string fit_event_json(event& ev);

}  // namespace rt::detail
