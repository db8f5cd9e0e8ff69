// rt/rt.hpp — the umbrella header: everything in rt's public API (API.md).
#pragma once

#include "rt/chan.hpp"
#include "rt/context.hpp"
#include "rt/runtime.hpp"
#include "rt/select.hpp"
#include "rt/sync.hpp"
#include "rt/task_local.hpp"
#include "rt/time.hpp"
#include "rt/wait_group.hpp"
