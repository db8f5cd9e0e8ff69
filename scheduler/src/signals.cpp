// signals.cpp — the scheduler's signal handling: a fault in a goroutine stack's guard
// page reported as that goroutine's stack overflow.
//
// Owns: the SIGSEGV handler and the handler it replaced.
// Invariant: installed once per process (never under AddressSanitizer, whose own handler
// reports overflows); a fault that is not a guard-page hit goes to the previous handler
// (or the default action) unchanged.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <mutex>

#include "internal.hpp"
#include "stack_pool.hpp"

namespace rt::sched {
namespace {

struct sigaction previous_segv;

void on_segv(int sig, siginfo_t* info, void* uctx) {
  worker* w = this_worker();
  fiber* f = w != nullptr ? w->current : nullptr;
  if (f != nullptr &&
      stack_pool::guard_hit(stack{f->stack_base, f->stack_size, f->guarded}, info->si_addr)) {
    char buf[200];
    int n = std::snprintf(buf, sizeof buf,
                          "rt: fatal error: stack overflow in goroutine %llu (%zu KiB stack); "
                          "raise rt::options::stack_size\n",
                          static_cast<unsigned long long>(f->goid), f->stack_size / 1024);
    (void)!::write(2, buf, static_cast<std::size_t>(n));
    ::_exit(2);
  }
  // Not ours: let the previous handler (or the default action) deal with it.
  ::sigaction(SIGSEGV, &previous_segv, nullptr);
  (void)sig;
  (void)uctx;
}

}  // namespace

void install_segv_handler() {
#if !defined(RT_ASAN)
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, &previous_segv);
  });
#endif
}

}  // namespace rt::sched
