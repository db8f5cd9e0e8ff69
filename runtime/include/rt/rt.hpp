// rt/rt.hpp — the umbrella header: everything in rt's public API (API.md).
#pragma once

#include "rt/runtime.hpp"
#include "rt/task_local.hpp"
#include "rt/wait_group.hpp"
