// stack_pool.hpp — internal: goroutine stacks.
//
// Owns: every fiber stack, the slabs they are carved from (one mmap for up to 64 stacks),
// and the registry of the slabs whose stacks have guard pages. Free stacks are recycled,
// so creating a fiber costs no system call once warm.
// Invariants: each stack is owned by exactly one fiber, or free in exactly one place: its
// free list's `hot` or `aging` list (resident), its slab's `cold` mask (never used, or its
// memory given back to the OS with madvise(MADV_DONTNEED), which leaves it mapped and
// zero-filled on next use; of a `primed` one, only the top page is resident), or the
// batch a scavenge is giving back. A stack leaves the cold mask with its top page
// resident: the first one taken from a slab's cold stacks has the top pages of all of
// them populated in one system call (see stack_pool.cpp). A free stack is given back
// only after a whole epoch free (it was in `aging` when the epoch ended). Every
// guard page a stack has lies in a slab of the registry, and the registry only grows, so
// a signal handler may read it without a lock.
//
// Memory given back: fibers are cached by the scheduler with their stacks, and only
// stacks of fibers beyond those caches come back here — after a burst of goroutines ends,
// nearly all of them (a million ended goroutines left 7.8 GiB resident). They stay
// resident for one to two scavenger epochs (keep_ns), so the next burst reuses them
// without a page fault (on the VM here a fault costs 14-37 µs, more than the rest of a
// spawn: 100,000 goroutines spawned right after 100,000 ended took 1.05 s when their
// stacks had been given back at once); then all but the newest hot_max of a size go back
// to the OS (Go's background scavenger does the same for its heap). madvise calls are
// what cost (~120 µs a call whatever its length, against ~1 µs a page freed), so a batch
// is sorted and each run of neighbouring stacks goes in one call, one thread at a time
// per size. Giving back 300,000 ended goroutines' stacks (2 pages each) took 45 s with
// one call per stack and 2.5-3.4 s in sorted batches. A free cold stack costs one bit of
// bookkeeping; a free resident one a node in its own top bytes.
//
// Guard pages: a PROT_NONE page below a stack turns an overflow into a fault the
// SIGSEGV handler reports as "stack overflow in goroutine N". A frame larger than the
// guard page can jump it, into the stack below: code compiled with
// -fstack-clash-protection (rt's own, and code linking rt::rt) touches every page of a
// large frame in order, so it faults in its own guard first; code compiled without it
// may first fault in another stack's guard, which is why the handler looks the address
// up among all guard pages (in_guard_page), not only the running goroutine's.
//
// Each guard splits a slab into two more memory mappings, and vm.max_map_count (65530
// here) caps mappings per process, so only the first `guard_budget` stacks (a quarter of
// the limit's worth) get one; with fibers recycled, that covers every stack of a process
// that never has more than ~16,000 goroutines alive at once. Later stacks keep the page
// below them as an untouched gap (it costs no memory) but without protection: an
// overflow there is not detected. A canary would be, but checking it touches the
// stack's bottom page, doubling the memory of every parked goroutine.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

namespace rt::sched {

struct stack {
  void* base = nullptr;  // lowest usable byte
  std::size_t size = 0;  // usable bytes
  bool guarded = false;  // a PROT_NONE guard page lies right below base
  explicit operator bool() const noexcept { return base != nullptr; }
  void* top() const noexcept { return static_cast<char*>(base) + size; }
};

class stack_pool {
 public:
  static constexpr std::size_t hot_max = 64;  // free stacks kept resident per size for good
  static constexpr std::int64_t keep_ns = 1'000'000'000;  // the scavenger's epoch

  // allocate returns a stack of `size` usable bytes (a page multiple), a resident one if
  // there is one. Throws std::system_error when the kernel refuses the memory.
  stack allocate(std::size_t size);
  // deallocate takes s back (it stays resident for one to two epochs), and scavenges
  // when the epoch is over.
  void deallocate(const stack& s) noexcept;
  // scavenge gives back, once `now` (steady_clock ns) is an epoch past the last
  // scavenge, the memory of the stacks free since before then (all but hot_max of each
  // size). Workers call it when idle at scavenge_due(), deallocate when it finds it due.
  void scavenge(std::int64_t now) noexcept;
  // scavenge_due is when free stacks will next be due to go back (INT64_MAX: none are
  // waiting). Any thread, no lock.
  std::int64_t scavenge_due() const noexcept { return due_.load(std::memory_order_relaxed); }

  // in_guard_page tells whether `addr` lies in the guard page of any stack made by any
  // pool. Async-signal-safe: no lock, no allocation.
  static bool in_guard_page(const void* addr) noexcept;

 private:
  // A slab: `count` stacks of one size, stack i's guard (or gap) page at low + i * stride.
  struct slab {
    char* low;
    std::size_t guarded;   // stacks [0, guarded) have a guard page
    std::uint64_t cold;    // bit i: stack i is free and not resident
    std::uint64_t primed;  // bit i: stack i is cold, its top page resident (within cold)
  };
  // Free resident stacks, linked through a node in each one's top bytes (a free stack's
  // memory holds nothing else), so that they cost no memory of their own: a million
  // freed at once would otherwise need 24 MiB of vector. Last pushed, first popped.
  class stack_list {
   public:
    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return n_; }
    void push(const stack& s) noexcept;
    stack pop() noexcept;

   private:
    struct node {
      node* next;
      std::size_t size;
      bool guarded;
    };
    node* head_ = nullptr;
    std::size_t n_ = 0;
  };
  struct free_list {
    std::size_t size;              // usable bytes of each stack
    std::size_t stride;            // size plus the guard (or gap) page
    std::size_t count;             // stacks per slab, 1 to 64
    stack_list hot;                // freed this epoch (and the hot_max kept)
    stack_list aging;              // free since the epoch before: the next scavenge's
    std::vector<slab*> with_cold;  // the slabs with a cold stack
    bool releasing;                // a thread is giving back stacks of this size
  };
  // All with mu_ held.
  free_list& list_for(std::size_t size);
  stack carve(free_list& fl);
  stack take_cold(free_list& fl);

  std::mutex mu_;                             // guards everything below
  std::deque<free_list> free_;                // one per stack size in use (addresses stay put)
  std::map<const char*, slab> slabs_;         // every slab, by low address
  long guard_budget_ = -1;                    // stacks that may still get a guard page; -1: unread
  std::int64_t epoch_start_ = 0;              // the last scavenge (steady_clock ns)
  std::atomic<std::int64_t> due_{INT64_MAX};  // epoch_start_ + keep_ns while stacks age
};

stack_pool& stacks() noexcept;

}  // namespace rt::sched
