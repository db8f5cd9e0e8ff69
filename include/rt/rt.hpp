// rt/rt.hpp — the umbrella header: rt's public API (docs/README.md), the runtime's and the
// hub's, but for the two adapters that need another library's headers (<rt/net/asio.hpp>:
// Boost.Asio; <rt/hub/logging.hpp>: spdlog). It belongs to the umbrella target rt::rt, so
// that the runtime layer itself never includes a hub header. Includes no Boost header.
#pragma once

#include "rt/blocking.hpp"
#include "rt/chan.hpp"
#include "rt/context.hpp"
#include "rt/diagnostics.hpp"
#include "rt/net.hpp"
#include "rt/runtime.hpp"
#include "rt/select.hpp"
#include "rt/sync.hpp"
#include "rt/task_local.hpp"
#include "rt/time.hpp"
#include "rt/wait_group.hpp"

#include "rt/hub.hpp"
