// stack_programs — whole-process checks of goroutine stacks: overflows must end the
// process with rt's stack overflow report (never run on over a neighbour's stack, never a
// bare SIGSEGV), and the memory of ended goroutines' stacks must go back to the OS.
// CTest checks each one's output and exit status (tests/runtime/CMakeLists.txt).
//   stack_programs frame70          a 70 KiB frame on a 64 KiB stack, next to a live one
//   stack_programs frame200         the same with a 200 KiB frame
//   stack_programs frame200_unprobed  a 200 KiB frame compiled without stack-clash probes
//   stack_programs recursion        plain recursion until the stack overflows
//   stack_programs rss HELD N       N goroutines parked, released, joined next to HELD
//                                   parked ones: RSS afterwards against RSS before
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <rt/rt.hpp>

namespace {

constexpr std::size_t kib = 1024;
constexpr std::size_t stack_size = 64 * kib;

// touch writes the first n bytes of buf and makes the compiler keep the writes.
void touch(char* buf, std::size_t n) {
  std::memset(buf, 0x5a, n);
  asm volatile("" : : "r"(buf) : "memory");
}

// A function with a big buffer that it mostly leaves unused: it writes only the buffer's
// start, the end farthest from its caller. Without stack-clash probes that start lies
// below the stack's guard page, in the next stack down.
template <std::size_t KiB>
__attribute__((noinline)) void big_frame() {
  char buf[KiB * kib];
  touch(buf, kib);
}

// The same compiled without probes (as code built without -fstack-clash-protection is),
// writing its whole buffer upwards: the first write that faults is in the guard page of
// another stack than the running goroutine's.
__attribute__((noinline, optimize("no-stack-clash-protection"))) void big_frame_unprobed() {
  char buf[200 * kib];
  touch(buf, sizeof buf);
}

// overflow_next_to runs `frame` in goroutine G while goroutine N, on the stack right below
// G's, holds a live array. G's fiber is made before N's: stacks are handed out from the
// top of a slab down; a first goroutine, parked meanwhile, keeps G off a slab's lowest
// stack whichever end of the slab is handed out first (G checks the layout). If the
// process is still alive after the frame, N reports what it found.
int overflow_next_to(void (*frame)()) {
  return rt::run(
      [frame] {
        auto hold = rt::make_chan<int>();
        auto n_live = rt::make_chan<std::uintptr_t>(1);
        auto g_done = rt::make_chan<int>(1);
        rt::wait_group first, pair;
        first.go([hold] { hold.recv(); });
        pair.go([frame, n_live, g_done] {
          char here = 0;
          auto g_at = reinterpret_cast<std::uintptr_t>(&here);
          std::uintptr_t n_at = *n_live.recv();
          if (n_at >= g_at || g_at - n_at > 2 * stack_size) {
            std::fprintf(stderr, "layout: the neighbour is not right below (%#zx vs %#zx)\n",
                         static_cast<std::size_t>(n_at), static_cast<std::size_t>(g_at));
            std::_Exit(3);
          }
          std::fprintf(stderr, "overflowing goroutine %llu\n",
                       static_cast<unsigned long long>(rt::goroutine_id()));
          frame();
          g_done.send(1);
        });
        pair.go([n_live, g_done] {
          char live[16 * kib];
          std::memset(live, 0x11, sizeof live);
          n_live.send(reinterpret_cast<std::uintptr_t>(live + sizeof live));
          g_done.recv();
          asm volatile("" : : "r"(live) : "memory");
          std::size_t bad = 0;
          for (char c : live) bad += c != 0x11;
          std::printf("frame returned; the neighbour's live array has %zu bytes overwritten\n",
                      bad);
        });
        pair.wait();
        hold.close();
        first.wait();
      },
      rt::options{.stack_size = stack_size});
}

int depth(int n) {
  volatile char pad[512];
  pad[0] = static_cast<char>(n);
  return n == 0 ? pad[0] : depth(n + 1) + pad[0];
}

int recursion() {
  return rt::run(
      [] {
        rt::wait_group wg;
        wg.go([] { std::printf("%d\n", depth(1)); });
        wg.wait();
      },
      rt::options{.stack_size = stack_size});
}

long rss_kib() {
  long pages_total = 0, pages_resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
  }
  return pages_resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

// minor_faults counts the page faults of the whole process so far (all threads).
long minor_faults() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

// rss: a process holding `held` parked goroutines gets a burst of n more, parked on one
// channel; its close releases them, they are joined, and RSS must fall back to at most
// 1.5 times what it was before the burst (polled: the stacks go back to the OS as the
// workers destroy the ended fibers, so the poll only bounds how long that may take).
// Ending touches no new stack page: the release and join must fault fewer than n / 8
// pages (an ending goroutine that went through Boost's termination faulted in a second
// page of its stack, n faults in all), and RSS at the join may exceed the parked one by
// no more than the global run queue's 8 bytes per goroutine woken at once (16 with its
// blocks' slack), not by a page per goroutine. The
// held goroutines make the baseline a process that already runs goroutines: a bare one
// (4 MiB, mostly shared libraries) is smaller than what the scheduler keeps whatever the
// burst — its fiber caches, one run-queue block per 32 goroutines woken at once.
// The close that wakes the n goroutines takes long, but its worker is no stuck one: no
// report (CTest fails on one), whose symbolising would also read the program's debug
// information into memory.
int rss(long held, long n) {
  return rt::run([held, n] {
    auto hold = rt::make_chan<int>();
    rt::wait_group holders;
    for (long i = 0; i < held; ++i) holders.go([hold] { hold.recv(); });
    const long before = rss_kib();
    auto release = rt::make_chan<int>();
    rt::wait_group wg;
    for (long i = 0; i < n; ++i) wg.go([release] { release.recv(); });
    const long parked = rss_kib();
    const long faults0 = minor_faults();
    release.close();
    wg.wait();
    const long ended = rss_kib();
    const long faults = minor_faults() - faults0;
    const long limit = before * 3 / 2;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::seconds(60);
    long after = ended;
    while (after > limit && std::chrono::steady_clock::now() < deadline) {
      rt::sleep_for(std::chrono::milliseconds(1));  // lets the workers go idle
      after = rss_kib();
    }
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    const bool pass = after <= limit && ended - parked <= n * 16 / 1024 && faults < n / 8;
    std::printf(
        "%s: %ld goroutines next to %ld held; RSS before %ld KiB, parked %ld KiB, "
        "all ended %ld KiB, after %ld KiB %lld ms later (limit %ld KiB); %ld page faults "
        "while they ended (limit %ld)\n",
        pass ? "PASS" : "FAIL", n, held, before, parked, ended, after,
        static_cast<long long>(waited.count()), limit, faults, n / 8);
    hold.close();
    holders.wait();
    return pass ? 0 : 1;
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "";
  if (what == "frame70") return overflow_next_to(big_frame<70>);
  if (what == "frame200") return overflow_next_to(big_frame<200>);
  if (what == "frame200_unprobed") return overflow_next_to(big_frame_unprobed);
  if (what == "recursion") return recursion();
  if (what == "rss" && argc > 3) return rss(std::atol(argv[2]), std::atol(argv[3]));
  std::fprintf(stderr,
               "usage: stack_programs frame70|frame200|frame200_unprobed|recursion|rss HELD N\n");
  return 64;
}
