// stack_pool.hpp — internal: goroutine stacks.
//
// Owns: every fiber stack. Stacks are carved from slabs (one mmap for many stacks) and
// recycled through free lists, so creating a fiber costs no system call once warm.
// Invariant: each stack is either in exactly one free list or owned by exactly one fiber.
//
// Guard pages: a PROT_NONE page below a stack turns an overflow into a fault the
// SIGSEGV handler reports as "goroutine N: stack overflow". Each guard splits a slab
// into two more memory mappings, and vm.max_map_count (65530 here) caps mappings per
// process, so only the first `guard_budget` stacks get one (about a quarter of the
// limit). Later stacks are unguarded and carry a canary word at their lowest address,
// checked whenever their goroutine parks or ends: an overflow is then reported (late)
// as a clear fatal error instead of going unnoticed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace rt::sched {

struct stack {
  void* base = nullptr;     // lowest usable byte
  std::size_t size = 0;     // usable bytes
  bool guarded = false;
  explicit operator bool() const noexcept { return base != nullptr; }
  void* top() const noexcept { return static_cast<char*>(base) + size; }
};

inline constexpr std::uint64_t stack_canary = 0x7274'6361'6e61'7279ULL;  // "rtcanary"

class stack_pool {
 public:
  // allocate returns a stack of `size` usable bytes (a page multiple). Throws
  // std::system_error when the kernel refuses the memory.
  stack allocate(std::size_t size);
  void deallocate(const stack& s) noexcept;

  // overflowed tells whether an unguarded stack's canary was overwritten.
  static bool overflowed(const stack& s) noexcept;
  // guard_hit tells whether `addr` lies in the guard page of the guarded stack s.
  static bool guard_hit(const stack& s, const void* addr) noexcept;

 private:
  struct free_list {
    std::size_t size;
    std::vector<stack> stacks;
  };
  stack carve(std::size_t size);  // with mu_ held

  std::mutex mu_;                  // guards everything below
  std::vector<free_list> free_;    // one per stack size in use
  long guard_budget_ = -1;         // stacks that may still get a guard page; -1: unread
};

stack_pool& stacks() noexcept;

}  // namespace rt::sched
