// signals.cpp — the scheduler's signal handling: a fault in a goroutine stack's guard
// page reported as a stack overflow of the goroutine running on the faulting thread.
//
// Owns: the SIGSEGV handler and the handler it replaced.
// Invariant: installed once per process (never under AddressSanitizer, whose own handler
// reports overflows); a fault that is not a guard-page hit during a goroutine goes to the
// previous handler (or the default action) unchanged.
//
// Any stack's guard page counts, not only the running goroutine's own: a frame larger
// than a guard page, in code built without stack-clash probes, jumps its own guard and
// may first touch the guard of a stack further down (stack_pool.hpp).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <mutex>

#include "internal.hpp"
#include "rt/scheduler/fatal.hpp"
#include "stack_pool.hpp"

namespace rt::sched {

#if defined(RT_ASAN)
void install_segv_handler() {}
#else
namespace {

struct sigaction previous_segv;

void on_segv(int sig, siginfo_t* info, void* uctx) {
  worker* w = this_worker();
  fiber* f = w != nullptr ? w->current : nullptr;
  if (f != nullptr && stack_pool::in_guard_page(info->si_addr)) {
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "stack overflow in goroutine %llu (%zu KiB stack); "
                  "raise rt::options::stack_size",
                  static_cast<unsigned long long>(f->goid), f->stack_size / 1024);
    fatal_in_signal_handler(buf);
  }
  // Not ours: let the previous handler (or the default action) deal with it.
  ::sigaction(SIGSEGV, &previous_segv, nullptr);
  (void)sig;
  (void)uctx;
}

}  // namespace

void install_segv_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, &previous_segv);
  });
}
#endif

}  // namespace rt::sched
