// rt/hub.hpp — the hub layer's umbrella header (included by rt/rt.hpp).
//
// Owns: nothing but the list of the hub layer's public headers, but one: the spdlog
// integration (breadcrumb_sink, the %g goroutine-id flag) needs spdlog's headers, so a
// program that uses it includes <rt/hub/logging.hpp> itself.
#pragma once

#include "rt/hub/client.hpp"
#include "rt/hub/dsn.hpp"
#include "rt/hub/event.hpp"
#include "rt/hub/http_transport.hpp"
#include "rt/hub/hub.hpp"
#include "rt/hub/json.hpp"
#include "rt/hub/level.hpp"
#include "rt/hub/rate_limits.hpp"
#include "rt/hub/scope.hpp"
#include "rt/hub/stacktrace.hpp"
#include "rt/hub/transport.hpp"
