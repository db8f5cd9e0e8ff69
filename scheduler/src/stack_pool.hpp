// stack_pool.hpp — internal: goroutine stacks.
//
// Owns: every fiber stack. Stacks are carved from slabs (one mmap for many stacks) and
// recycled through free lists, so creating a fiber costs no system call once warm.
// Invariant: each stack is either in exactly one free list or owned by exactly one fiber.
//
// Guard pages: a PROT_NONE page below a stack turns an overflow into a fault the
// SIGSEGV handler reports as "stack overflow in goroutine N". Each guard splits a slab
// into two more memory mappings, and vm.max_map_count (65530 here) caps mappings per
// process, so only the first `guard_budget` stacks (a quarter of the limit's worth)
// get one; with fibers recycled, that covers every stack of a process that never has
// more than ~16,000 goroutines alive at once. Later stacks keep the page below them as
// an untouched gap (it costs no memory) but without protection: an overflow
// there is not detected. A canary would be, but checking it touches the stack's bottom
// page, doubling the memory of every parked goroutine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace rt::sched {

struct stack {
  void* base = nullptr;  // lowest usable byte
  std::size_t size = 0;  // usable bytes
  bool guarded = false;
  explicit operator bool() const noexcept { return base != nullptr; }
  void* top() const noexcept { return static_cast<char*>(base) + size; }
};

class stack_pool {
 public:
  // allocate returns a stack of `size` usable bytes (a page multiple). Throws
  // std::system_error when the kernel refuses the memory.
  stack allocate(std::size_t size);
  void deallocate(const stack& s) noexcept;

  // guard_hit tells whether `addr` lies in the guard page of the guarded stack s.
  static bool guard_hit(const stack& s, const void* addr) noexcept;

 private:
  struct free_list {
    std::size_t size;
    std::vector<stack> stacks;
  };
  stack carve(std::size_t size);  // with mu_ held

  std::mutex mu_;                // guards everything below
  std::vector<free_list> free_;  // one per stack size in use
  long guard_budget_ = -1;       // stacks that may still get a guard page; -1: unread
};

stack_pool& stacks() noexcept;

}  // namespace rt::sched
