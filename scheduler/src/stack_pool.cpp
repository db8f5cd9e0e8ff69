// stack_pool.cpp — goroutine stacks from slabs, with guard pages while the process's
// mapping budget allows them (see stack_pool.hpp for why that budget exists).
#include "stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#if defined(RT_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#endif

namespace rt::sched {
namespace {

constexpr std::size_t page = 4096;
constexpr std::size_t slab_bytes = 4u << 20;  // stacks are carved 4 MiB at a time

long read_guard_budget() {
  long max_maps = 65530;
  if (std::FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    if (std::fscanf(f, "%ld", &max_maps) != 1) max_maps = 65530;
    std::fclose(f);
  }
  // Each guarded stack costs two mappings; leave half of the limit to the rest of the
  // process (malloc arenas, libraries, unguarded slabs).
  return max_maps / 4;
}

void* map_or_throw(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    throw std::system_error(
        errno, std::generic_category(),
        "rt: cannot map " + std::to_string(bytes) + " bytes of goroutine stacks");
  }
  return p;
}

}  // namespace

stack_pool& stacks() noexcept {
  static stack_pool* pool = new stack_pool;  // never destroyed: stacks outlive statics
  return *pool;
}

stack stack_pool::allocate(std::size_t size) {
  std::lock_guard lk(mu_);
  for (auto& fl : free_) {
    if (fl.size == size && !fl.stacks.empty()) {
      stack s = fl.stacks.back();
      fl.stacks.pop_back();
#if defined(RT_ASAN)
      // Frames of the stack's previous fiber may still be poisoned in ASan's shadow.
      __asan_unpoison_memory_region(s.base, s.size);
#endif
      return s;
    }
  }
  return carve(size);
}

void stack_pool::deallocate(const stack& s) noexcept {
  std::lock_guard lk(mu_);
  for (auto& fl : free_) {
    if (fl.size == s.size) {
      fl.stacks.push_back(s);
      return;
    }
  }
  free_.push_back(free_list{s.size, {s}});
}

stack stack_pool::carve(std::size_t size) {
  if (guard_budget_ < 0) guard_budget_ = read_guard_budget();
  const std::size_t stride = size + page;  // a guard (or untouched gap) page below each stack
  const std::size_t count = stride >= slab_bytes ? 1 : slab_bytes / stride;
  char* slab = static_cast<char*>(map_or_throw(count * stride));
#if defined(RT_ASAN)
  // Goroutine frames hold the only pointers to some heap blocks: let LeakSanitizer
  // scan the stacks as roots.
  __lsan_register_root_region(slab, count * stride);
#endif
  free_list* fl = nullptr;
  for (auto& f : free_) {
    if (f.size == size) fl = &f;
  }
  if (fl == nullptr) fl = &free_.emplace_back(free_list{size, {}});
  stack first;
  for (std::size_t i = 0; i < count; ++i) {
    char* low = slab + i * stride;
    stack s{low + page, size, false};
    if (guard_budget_ > 0 && ::mprotect(low, page, PROT_NONE) == 0) {
      --guard_budget_;
      s.guarded = true;
    }
    if (i == 0) {
      first = s;
    } else {
      fl->stacks.push_back(s);
    }
  }
  return first;
}

bool stack_pool::guard_hit(const stack& s, const void* addr) noexcept {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  auto base = reinterpret_cast<std::uintptr_t>(s.base);
  return s.guarded && a >= base - page && a < base;
}

}  // namespace rt::sched
