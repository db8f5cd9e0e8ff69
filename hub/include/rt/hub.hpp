// rt/hub.hpp — the hub layer's umbrella header (included by rt/rt.hpp).
//
// Owns: nothing but the list of the hub layer's public headers.
#pragma once

#include "rt/hub/client.hpp"
#include "rt/hub/dsn.hpp"
#include "rt/hub/event.hpp"
#include "rt/hub/http_transport.hpp"
#include "rt/hub/hub.hpp"
#include "rt/hub/json.hpp"
#include "rt/hub/level.hpp"
#include "rt/hub/logging.hpp"
#include "rt/hub/rate_limits.hpp"
#include "rt/hub/scope.hpp"
#include "rt/hub/stacktrace.hpp"
#include "rt/hub/transport.hpp"
