// Tests for the stack pool (internal header: scheduler/src/stack_pool.hpp): the guard
// page lookup the SIGSEGV handler relies on, and free stacks' memory going back to the
// OS past the hot bound (residency read with mincore, the kernel's own account).
#include <doctest/doctest.h>
#include <sys/mman.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <vector>

#include "stack_pool.hpp"

using rt::sched::stack;
using rt::sched::stack_pool;

namespace {

constexpr std::size_t page = 4096;
constexpr std::size_t size = 64 * 1024;

char* at(const stack& s, std::ptrdiff_t offset) {
  return static_cast<char*>(s.base) + offset;
}

// residency tells which pages of s are in memory, lowest first.
std::vector<bool> residency(const stack& s) {
  std::vector<unsigned char> in(s.size / page);
  REQUIRE(::mincore(s.base, s.size, in.data()) == 0);
  std::vector<bool> r;
  for (unsigned char v : in) r.push_back((v & 1) != 0);
  return r;
}

// resident_pages counts the pages of s that are in memory.
std::size_t resident_pages(const stack& s) {
  std::size_t n = 0;
  for (bool in : residency(s)) n += in;
  return n;
}

// only_top_resident: of s, just its top page is in memory (where a fiber starts).
bool only_top_resident(const stack& s) {
  const std::vector<bool> r = residency(s);
  for (std::size_t i = 0; i + 1 < r.size(); ++i) {
    if (r[i]) return false;
  }
  return r.back();
}

// kernel_populates: this kernel has madvise(MADV_POPULATE_WRITE) (Linux 5.14).
bool kernel_populates() {
#ifndef MADV_POPULATE_WRITE
  constexpr int MADV_POPULATE_WRITE = 23;
#endif
  void* p = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(p != MAP_FAILED);
  const bool ok = ::madvise(p, page, MADV_POPULATE_WRITE) == 0;
  ::munmap(p, page);
  return ok;
}

}  // namespace

TEST_CASE("in_guard_page finds the guard page of every stack, and nothing else") {
  stack_pool pool;
  std::vector<stack> held;
  for (int i = 0; i < 100; ++i) held.push_back(pool.allocate(size));  // two slabs
  int guarded = 0;
  for (const stack& s : held) {
    CHECK(stack_pool::in_guard_page(s.base) == false);
    CHECK(stack_pool::in_guard_page(at(s, static_cast<std::ptrdiff_t>(s.size) - 1)) == false);
    if (!s.guarded) continue;
    ++guarded;
    CHECK(stack_pool::in_guard_page(at(s, -1)));
    CHECK(stack_pool::in_guard_page(at(s, -static_cast<std::ptrdiff_t>(page))));
    CHECK(stack_pool::in_guard_page(at(s, -static_cast<std::ptrdiff_t>(page) / 2)));
  }
  CHECK(guarded == 100);  // this process is far below its mapping budget
  int local = 0;
  std::vector<char> heap(page);
  CHECK(stack_pool::in_guard_page(&local) == false);
  CHECK(stack_pool::in_guard_page(heap.data()) == false);
  CHECK(stack_pool::in_guard_page(nullptr) == false);
  for (const stack& s : held) pool.deallocate(s);
  // Guards stay guards while their stacks are free.
  CHECK(stack_pool::in_guard_page(at(held[0], -1)));
}

std::int64_t now() {
  return std::chrono::steady_clock::now().time_since_epoch().count();
}

// kept_resident counts the stacks of `held` in memory; each is wholly in or out.
std::size_t kept_resident(const std::vector<stack>& held) {
  std::size_t kept = 0;
  for (const stack& s : held) {
    const std::size_t r = resident_pages(s);
    CHECK((r == 0 || r == s.size / page));
    kept += r != 0;
  }
  return kept;
}

TEST_CASE("free stacks stay resident for an epoch, then all but hot_max go back; all stay usable") {
  stack_pool pool;
  const std::size_t n = stack_pool::hot_max + 1000;
  const bool populates = kernel_populates();
  std::vector<stack> held;
  for (std::size_t i = 0; i < n; ++i) {
    stack s = pool.allocate(size);
    // A new stack comes with its top page in memory, populated by the kernel in a
    // system call (a page fault costs far more), and nothing else.
    if (populates) {
      CHECK(only_top_resident(s));
    } else {
      CHECK(resident_pages(s) == 0);
    }
    std::memset(s.base, 0x5a, s.size);
    CHECK(resident_pages(s) == s.size / page);
    held.push_back(s);
  }
  for (const stack& s : held) pool.deallocate(s);
  // Freed within one epoch: all still resident, the next burst reuses them as they are.
  CHECK(kept_resident(held) == n);
  CHECK(pool.scavenge_due() != INT64_MAX);
  CHECK(pool.scavenge_due() <= now() + stack_pool::keep_ns);
  pool.scavenge(now() + stack_pool::keep_ns);  // the epoch they were freed in ends
  CHECK(kept_resident(held) == n);
  CHECK(pool.scavenge_due() != INT64_MAX);
  pool.scavenge(now() + 3 * stack_pool::keep_ns);  // they were free a whole epoch
  const std::size_t kept = kept_resident(held);
  CHECK(kept == stack_pool::hot_max);
  CHECK(pool.scavenge_due() == INT64_MAX);  // nothing left to give back

  // Resident stacks are handed out first, as they were left (but for their top 64 bytes,
  // where the pool links free stacks); given-back ones come back zero-filled, with only
  // their top page in memory again.
  held.clear();
  for (std::size_t i = 0; i < n; ++i) held.push_back(pool.allocate(size));
  for (std::size_t i = 0; i < n; ++i) {
    const stack& s = held[i];
    const bool resident = resident_pages(s) == s.size / page;
    CHECK(resident == (i < kept));
    if (!resident) CHECK((populates ? only_top_resident(s) : resident_pages(s) == 0));
    const char expect = resident ? 0x5a : 0;
    CHECK(*at(s, 0) == expect);
    CHECK(*at(s, static_cast<std::ptrdiff_t>(s.size) - 65) == expect);
    if (!resident) CHECK(*at(s, static_cast<std::ptrdiff_t>(s.size) - 1) == 0);
    std::memset(s.base, 1, s.size);
  }
}
