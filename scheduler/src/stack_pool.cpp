// stack_pool.cpp — goroutine stacks from slabs, with guard pages while the process's
// mapping budget allows them, free stacks' memory given back to the OS past a bound, and
// the lock-free registry of guarded slabs (see stack_pool.hpp for why each exists).
#include "stack_pool.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <system_error>

#if defined(RT_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#endif

namespace rt::sched {
namespace {

constexpr std::size_t page = 4096;
constexpr std::size_t slab_bytes = 4u << 20;  // stacks are carved 4 MiB (or 64) at a time

// The guard registry: slab i's first guarded_slabs[i].guarded stacks have their guard
// page at low + k * stride. Records are written once, under the pool's lock, before
// `registered` publishes them (release); readers load `registered` (acquire) and read
// only records below it, so the SIGSEGV handler needs no lock. 16,384 records cover the
// guard budget of any vm.max_map_count up to 262,144 even for one stack per slab; when
// they are used up, new stacks get no guard page.
struct guarded_slab {
  std::uintptr_t low;
  std::size_t stride;
  std::size_t guarded;
};
constexpr std::size_t registry_capacity = 16384;
guarded_slab guarded_slabs[registry_capacity];
std::atomic<std::size_t> registered{0};

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

// give_back returns the memory of free stacks of one size to the OS. Stacks one guard or
// gap page apart (neighbours in a slab, or in two slabs mapped back to back) go in one
// call, with the page between them, which holds nothing.
void give_back(std::vector<stack>& batch) noexcept {
  std::sort(batch.begin(), batch.end(),
            [](const stack& a, const stack& b) { return a.base < b.base; });
  for (std::size_t i = 0; i < batch.size();) {
    std::size_t j = i;
    while (j + 1 < batch.size() && batch[j + 1].base == static_cast<char*>(batch[j].top()) + page) {
      ++j;
    }
    char* from = static_cast<char*>(batch[i].base);
    ::madvise(from, static_cast<std::size_t>(static_cast<char*>(batch[j].top()) - from),
              MADV_DONTNEED);
    i = j + 1;
  }
}

// Populating: a stack handed out cold gets its top page (where the fiber's control block
// and first frames go) made resident by the kernel in a system call, not by a page fault
// on first touch: on the Firecracker VM here a fault costs 14-37 µs, madvise(
// MADV_POPULATE_WRITE) of one page 2-4 µs, and process_madvise of a new slab's 64 top
// pages in one call under 1 µs a page. Kernels without these (before 5.14 for
// MADV_POPULATE_WRITE, 6.13 for process_madvise on the calling process) refuse them
// once, and from then on first touch faults the page in as before.
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
std::atomic<bool> populate_ok{true};
std::atomic<bool> populate_many_ok{true};
int self_pidfd = -1;  // this process's pidfd (opened again in a forked child); pool lock
pid_t self_pid = 0;

void populate(char* top_page) noexcept {
  if (!populate_ok.load(std::memory_order_relaxed)) return;
  if (::madvise(top_page, page, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
    populate_ok.store(false, std::memory_order_relaxed);
  }
}

// populate_many makes the pages at tops[0..n) resident, in one call where it can.
void populate_many(char* const* tops, std::size_t n) noexcept {
  if (populate_many_ok.load(std::memory_order_relaxed)) {
    if (const pid_t pid = ::getpid(); pid != self_pid) {
      if (self_pidfd >= 0) ::close(self_pidfd);
      self_pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
      self_pid = pid;
    }
    iovec iov[64];
    for (std::size_t i = 0; i < n; ++i) iov[i] = {tops[i], page};
    if (self_pidfd >= 0 && ::syscall(SYS_process_madvise, self_pidfd, iov, n, MADV_POPULATE_WRITE,
                                     0) == static_cast<long>(n * page)) {
      return;
    }
    populate_many_ok.store(false, std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < n; ++i) populate(tops[i]);
}

}  // namespace

stack_pool& stacks() noexcept {
  static stack_pool* pool = new stack_pool;  // never destroyed: stacks outlive statics
  return *pool;
}

void stack_pool::stack_list::push(const stack& s) noexcept {
  auto* n = reinterpret_cast<node*>(static_cast<char*>(s.top()) - sizeof(node));
#if defined(RT_ASAN)
  // The stack's last fiber may have left its frames poisoned in ASan's shadow.
  __asan_unpoison_memory_region(n, sizeof(node));
#endif
  *n = node{head_, s.size, s.guarded};
  head_ = n;
  ++n_;
}

stack stack_pool::stack_list::pop() noexcept {
  node* n = head_;
  head_ = n->next;
  --n_;
  return stack{reinterpret_cast<char*>(n) + sizeof(node) - n->size, n->size, n->guarded};
}

stack_pool::free_list& stack_pool::list_for(std::size_t size) {
  for (auto& fl : free_) {
    if (fl.size == size) return fl;
  }
  const std::size_t stride = size + page;
  const std::size_t count = std::clamp<std::size_t>(slab_bytes / stride, 1, 64);
  return free_.emplace_back(free_list{size, stride, count, {}, {}, {}, false});
}

stack stack_pool::allocate(std::size_t size) {
  std::lock_guard lk(mu_);
  free_list& fl = list_for(size);
  stack s;
  if (!fl.hot.empty()) {
    s = fl.hot.pop();
  } else if (!fl.aging.empty()) {
    s = fl.aging.pop();
  } else {
    s = take_cold(fl);
    if (!s) return carve(fl);
  }
#if defined(RT_ASAN)
  // Frames of the stack's previous fiber may still be poisoned in ASan's shadow.
  __asan_unpoison_memory_region(s.base, s.size);
#endif
  return s;
}

// take_cold hands out a slab's highest cold stack (so fresh slabs are used from the top
// down), or an empty stack when there is none.
stack stack_pool::take_cold(free_list& fl) {
  if (fl.with_cold.empty()) return {};
  slab& sl = *fl.with_cold.back();
  const std::size_t i = 63 - static_cast<std::size_t>(std::countl_zero(sl.cold));
  const std::uint64_t bit = std::uint64_t{1} << i;
  sl.cold &= ~bit;
  if (sl.cold == 0) fl.with_cold.pop_back();
  if ((sl.primed & bit) == 0) {
    // Populate the top pages of all the slab's cold stacks at once: a burst of goroutines
    // takes them one after the other.
    char* tops[64];
    std::size_t n = 0;
    for (std::uint64_t m = (sl.cold | bit) & ~sl.primed; m != 0; m &= m - 1) {
      tops[n++] = sl.low + (static_cast<std::size_t>(std::countr_zero(m)) + 1) * fl.stride - page;
    }
    populate_many(tops, n);
    sl.primed |= (sl.cold | bit);
  }
  sl.primed &= ~bit;
  return stack{sl.low + i * fl.stride + page, fl.size, i < sl.guarded};
}

void stack_pool::deallocate(const stack& s) noexcept {
  const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  {
    std::lock_guard lk(mu_);
    list_for(s.size).hot.push(s);
    if (due_.load(std::memory_order_relaxed) == INT64_MAX) {
      due_.store(epoch_start_ + keep_ns, std::memory_order_relaxed);
    }
  }
  if (now >= due_.load(std::memory_order_relaxed)) scavenge(now);
}

// scavenge ends the epoch: what had been free since before it started goes back to the
// OS (but hot_max of each size, the newest), what was freed during it starts aging. The
// giving back runs outside the lock, one thread at a time per stack size (the others
// skip that size: its stacks age one more epoch).
void stack_pool::scavenge(std::int64_t now) noexcept {
  std::unique_lock lk(mu_);
  if (now < epoch_start_ + keep_ns) return;
  epoch_start_ = now;
  bool aging = false;
  // By index: the lock is let go while giving back, and another thread may add a size
  // (a deque's references stay valid across emplace_back, its iterators do not).
  for (std::size_t k = 0; k < free_.size(); ++k) {
    free_list& fl = free_[k];
    if (fl.releasing) {
      aging = true;
      continue;
    }
    stack_list old = fl.aging;
    fl.aging = fl.hot;
    fl.hot = stack_list{};
    // The newest hot_max free stacks stay resident for good.
    while (fl.hot.size() < hot_max && !(fl.aging.empty() && old.empty())) {
      fl.hot.push(fl.aging.empty() ? old.pop() : fl.aging.pop());
    }
    aging |= !fl.aging.empty();
    if (old.empty()) continue;
    std::vector<stack> batch;
    batch.reserve(old.size());
    while (!old.empty()) batch.push_back(old.pop());
    fl.releasing = true;
    lk.unlock();
    give_back(batch);  // these stacks are in no list meanwhile
    lk.lock();
    for (const stack& b : batch) {
      slab& sl = std::prev(slabs_.upper_bound(static_cast<const char*>(b.base)))->second;
      if (sl.cold == 0) fl.with_cold.push_back(&sl);
      sl.cold |= std::uint64_t{1} << ((static_cast<char*>(b.base) - page - sl.low) / fl.stride);
    }
    fl.releasing = false;
  }
  due_.store(aging ? epoch_start_ + keep_ns : INT64_MAX, std::memory_order_relaxed);
}

stack stack_pool::carve(free_list& fl) {
  if (guard_budget_ < 0) guard_budget_ = read_guard_budget();
  char* low = static_cast<char*>(map_or_throw(fl.count * fl.stride));
#if defined(RT_ASAN)
  // Goroutine frames hold the only pointers to some heap blocks: let LeakSanitizer
  // scan the stacks as roots.
  __lsan_register_root_region(low, fl.count * fl.stride);
#endif
  const std::size_t slot = registered.load(std::memory_order_relaxed);  // writers hold mu_
  std::size_t guarded = 0;  // the slab's first `guarded` stacks get a guard page
  while (slot < registry_capacity && guarded < fl.count && guard_budget_ > 0) {
    if (::mprotect(low + guarded * fl.stride, page, PROT_NONE) != 0) {
      guard_budget_ = 0;  // the process is out of mappings
      break;
    }
    --guard_budget_;
    ++guarded;
  }
  if (guarded > 0) {
    guarded_slabs[slot] = {reinterpret_cast<std::uintptr_t>(low), fl.stride, guarded};
    registered.store(slot + 1, std::memory_order_release);
  }
  const std::uint64_t all = fl.count == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << fl.count) - 1;
  fl.with_cold.push_back(&slabs_.emplace(low, slab{low, guarded, all, 0}).first->second);
  return take_cold(fl);
}

bool stack_pool::in_guard_page(const void* addr) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  const std::size_t n = registered.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i) {
    const guarded_slab& g = guarded_slabs[i];
    if (a >= g.low && a - g.low < g.guarded * g.stride && (a - g.low) % g.stride < page) {
      return true;
    }
  }
  return false;
}

}  // namespace rt::sched
