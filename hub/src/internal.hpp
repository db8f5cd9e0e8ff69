// internal.hpp — internal: what the hub layer's sources share and nobody else sees
// (not installed).
//
// Owns: the declarations linking client.cpp to hub.cpp and the transports: the panic
// observer, the SDK's diagnostics log, and the background retirement of transports.
// Invariant: nothing here is part of the public API.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

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

}  // namespace rt::detail
