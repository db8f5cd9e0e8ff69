// rt/sync.hpp — Go's sync package for goroutines: rt::mutex, rt::rw_mutex, rt::once,
// rt::cond (one header each; this one gathers them). All park the goroutine, never the
// worker thread, and block a plain thread. rt::wait_group is in rt/wait_group.hpp.
#pragma once

#include "rt/cond.hpp"
#include "rt/mutex.hpp"
#include "rt/once.hpp"
#include "rt/rw_mutex.hpp"
