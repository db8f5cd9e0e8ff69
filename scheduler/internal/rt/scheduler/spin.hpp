// rt/scheduler/spin.hpp — internal: spin_pause, the one way rt pauses in a spin loop (the
// spinlock's back-off, spinning idle workers, a mutex spinning before it parks).
// Invariant: never blocks, never touches memory.
#pragma once

namespace rt::sched {

// spin_pause tells the CPU this is a spin-wait loop (x86 `pause`: leaves the core to its
// sibling hyperthread, spares the pipeline flush when the loop ends); nothing elsewhere.
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace rt::sched
