// rt/scheduler/poller.hpp — internal: the I/O poller's interface to the runtime (Go's
// internal/poll pollDesc): parking a goroutine until a non-blocking descriptor is ready.
//
// A descriptor is registered once (edge triggered, for reading and writing). Every attempt
// at a read or write starts with poll_begin; a goroutine whose attempt would block
// (EAGAIN) calls poll_wait and parks; the poller readies
// it when an edge arrives, when its deadline passes, or when the descriptor is evicted.
// Waiting costs no thread and no allocation: the wait record lives on the parked
// goroutine's stack. The poller never does the I/O itself: a `ready` answer only means
// "try again" (it may be spurious), so callers loop: begin, attempt, and on EAGAIN wait.
#pragma once

#include <cstdint>

#include "rt/scheduler/scheduler.hpp"

namespace rt::sched {

struct poll_desc;  // one per registered descriptor (poller.cpp); memory is recycled

enum poll_mode : unsigned { poll_read = 1, poll_write = 2, poll_both = 3 };

enum class poll_status : std::uint8_t {
  ready,    // an edge arrived (or may have): retry the operation
  timeout,  // the mode's deadline has passed
  closed,   // poll_evict was called
};

// poll_open registers fd (already non-blocking) with the running pool's poller. Throws
// std::system_error (epoll_ctl) or std::logic_error (no pool runs).
poll_desc* poll_open(int fd);

// poll_close deregisters pd and recycles it; the caller closes the descriptor afterwards.
// Precondition: nobody waits on pd and nobody will (see poll_evict). Never throws.
void poll_close(poll_desc* pd) noexcept;

// poll_begin starts an attempt in `mode`: it tells whether the operation must give up
// (closed or timed out) before it is even tried, `ready` otherwise. When the previous
// attempt ended short (poll_short) and no edge came since, it first parks as poll_wait
// does, since the attempt could only get EAGAIN. Never throws.
poll_status poll_begin(poll_desc* pd, poll_mode mode) noexcept;

// poll_short records that the attempt begun last in `mode` moved fewer bytes than asked:
// a stream socket's receive buffer is then empty (read) or its send buffer full (write).
// Never parks or throws.
void poll_short(poll_desc* pd, poll_mode mode) noexcept;

// poll_wait parks the caller (a plain thread blocks) until pd may be ready for `mode`
// (poll_read or poll_write), its deadline passes, or pd is evicted. Any number of callers
// may wait in one mode; an edge wakes them all. Never throws.
poll_status poll_wait(poll_desc* pd, poll_mode mode) noexcept;

// poll_set_deadline sets the deadline of the given modes: waits past it return timeout
// (at once if it passed, waking current waiters); clock::time_point{} clears it. Never
// parks (it may briefly wait for a deadline timer firing at that moment). Throws only
// std::bad_alloc (timer heap growth).
void poll_set_deadline(poll_desc* pd, poll_mode modes, clock::time_point deadline);

// poll_evict makes every current and later wait on pd return closed. Never parks.
void poll_evict(poll_desc* pd) noexcept;

}  // namespace rt::sched
