// stacktrace.cpp — throw-site recording, current stacks, symbolised frames and the loaded
// images of an event (rt/hub/stacktrace.hpp).
//
// Owns: the C++ runtime's __cxa_throw and __cxa_init_primary_exception as the program
// sees them (this file's definitions win over libstdc++'s: the wrappers record, then call
// the originals, found with dlsym(RTLD_NEXT)); the table of the live exceptions' throw
// sites; the cache of symbolised return addresses; the list of loaded ELF images.
// Invariant: a throw never locks, allocates or fails here: it claims a free table slot with
// one CAS and hands the C++ runtime a destructor that frees the slot when the exception
// object dies, so a slot holds one live object's record, written before the object can be
// seen by anyone else, and a lookup finds that record or none, never another's.
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <unistd.h>
#include <unwind.h>

#include <cxxabi.h>
#include <algorithm>
#include <atomic>
#include <bit>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <span>
#include <string_view>
#include <typeinfo>
#include <unordered_map>

#include "rt/detail/symbolize.hpp"
#include "rt/hub/stacktrace.hpp"
#include "rt/scheduler/fatal.hpp"
#include "rt/scheduler/race.hpp"

#ifndef RT_SOURCE_DIR
#error "RT_SOURCE_DIR (rt's source tree, to tell rt's frames from the user's) must be defined"
#endif

namespace rt {
namespace {

constexpr int max_frames = 64;

// unwind fills `pcs` with the caller's return addresses, innermost first; returns how many.
// libunwind's unw_backtrace (cached per address, ~50 ns for a short stack) is loaded
// privately (RTLD_LOCAL: its _Unwind_* never replace libgcc's, which exceptions use); GCC's
// _Unwind_Backtrace (several times slower) when libunwind is not installed.
using unw_backtrace_fn = int (*)(void**, int);

unw_backtrace_fn fast_unwinder() {
  static const unw_backtrace_fn fn = []() -> unw_backtrace_fn {
#if defined(__SANITIZE_THREAD__)
    // Under ThreadSanitizer libunwind's per-thread cache is freed by a thread-exit
    // destructor that locks a mutex after TSan has torn the thread down (a crash in
    // every process whose threads threw): libgcc's unwinder there.
    return nullptr;
#endif
    void* lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    return lib ? reinterpret_cast<unw_backtrace_fn>(dlsym(lib, "unw_backtrace")) : nullptr;
  }();
  return fn;
}

struct unwind_buffer {
  void** pcs;
  int n, max;
};

_Unwind_Reason_Code on_unwind_frame(_Unwind_Context* context, void* data) {
  auto* b = static_cast<unwind_buffer*>(data);
  if (b->n == b->max) return _URC_END_OF_STACK;
  b->pcs[b->n++] = reinterpret_cast<void*>(_Unwind_GetIP(context));
  return _URC_NO_REASON;
}

[[gnu::noinline]] int unwind(void** pcs, int max) {
  if (unw_backtrace_fn fast = fast_unwinder()) return fast(pcs, max);
  unwind_buffer b{pcs, 0, max};
  _Unwind_Backtrace(on_unwind_frame, &b);
  return b.n;
}

// The destructor an exception object is thrown with. The recorder passes its own
// (release_and_destroy) to the C++ runtime instead and keeps the original in the record.
using destructor = void (*)(void*);

// One throw site. A slot is free while `object` is null; a throw claims a free slot for its
// exception object with one CAS and keeps it until the C++ runtime destroys that object.
// Every field is an atomic: a lookup for another object may read a slot being written.
struct throw_record {
  std::atomic<const void*> object{nullptr};
  std::atomic<destructor> destroy{nullptr};
  std::atomic<int> frames{0};
  std::atomic<std::uintptr_t> pcs[max_frames];
};

// The table of throw sites: a record lives in the set its object's address hashes to, from
// the throw until the object is destroyed. An exception is alive while anyone can ask for
// its trace, so a record is never lost while it can be asked for; a throw finds no free slot
// (and is not recorded) only when `ways` exceptions that hash to its set are alive at once.
constexpr std::size_t sets = 512;  // a power of two
constexpr std::size_t ways = 4;
throw_record table[sets][ways];

std::span<throw_record, ways> set_of(const void* object) {
  // Fibonacci hashing of the address without its alignment bits.
  const auto h = (reinterpret_cast<std::uintptr_t>(object) >> 4) * 0x9E3779B97F4A7C15ull;
  return table[h >> (64 - std::countr_zero(sets))];
}

// The record of a live exception object: the one slot of its set that holds it.
throw_record* record_of(const void* object) {
  for (throw_record& r : set_of(object))
    if (r.object.load(std::memory_order_acquire) == object) return &r;
  return nullptr;
}

std::atomic<bool> recording{[] {
  const char* v = std::getenv("RT_THROW_STACKTRACES");
  return v == nullptr || std::string_view(v) != "0";
}()};

// Set across __cxa_throw: its own init is not a new site. Set and cleared within one
// throw, with no park between, by whichever goroutine runs on the thread; ThreadSanitizer,
// which sees each goroutine as a thread of its own, is not told (set_in_throw, take_in_throw).
thread_local bool in_throw = false;
void set_in_throw() noexcept {
  sched::tsan_quiet quiet;
  in_throw = true;
}
bool take_in_throw() noexcept {
  sched::tsan_quiet quiet;
  const bool was = in_throw;
  in_throw = false;
  return was;
}

// The C++ runtime calls this instead of the object's destructor: the slot is freed (the
// object's address may be reused once it returns), then the object destroyed.
void release_and_destroy(void* object) {
  throw_record* r = record_of(object);
  if (r == nullptr)
    sched::fatal("rt's hub destroys exception object %p but has no record of it", object);
  const destructor destroy = r->destroy.load(std::memory_order_relaxed);
  r->object.store(nullptr, std::memory_order_release);
  if (destroy != nullptr) destroy(object);
}

// record writes the throw site of `object` into a free slot of its set and returns the
// destructor the C++ runtime is to be given for it: release_and_destroy, or the object's
// own `destroy` when every slot of the set is held (the throw then has no trace).
destructor record(void* object, destructor destroy) noexcept {
  void* pcs[max_frames];
  const int n = unwind(pcs, max_frames);
  for (throw_record& r : set_of(object)) {
    const void* free = nullptr;
    if (r.object.load(std::memory_order_relaxed) != nullptr ||
        !r.object.compare_exchange_strong(free, object, std::memory_order_acquire,
                                          std::memory_order_relaxed))
      continue;  // held by another live exception
    r.destroy.store(destroy, std::memory_order_relaxed);
    r.frames.store(n, std::memory_order_relaxed);
    for (int i = 0; i < n; ++i)
      r.pcs[i].store(reinterpret_cast<std::uintptr_t>(pcs[i]), std::memory_order_relaxed);
    return release_and_destroy;
  }
  return destroy;
}

// find copies the record of a live exception object into `pcs`; returns its frame count, 0
// when there is none. Whoever asks holds the object alive and got it from its thrower, so
// the record (written before the throw went on) is complete and stays.
int find(const void* object, std::uintptr_t* pcs) {
  const throw_record* r = record_of(object);
  if (r == nullptr) return 0;
  const int n = r->frames.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i) pcs[i] = r->pcs[i].load(std::memory_order_relaxed);
  return n;
}

// The loaded ELF images, listed again when the dynamic linker reports objects added or
// removed since the last listing (dlpi_adds / dlpi_subs).
struct image {
  std::string path;
  std::uintptr_t start = 0, end = 0;  // [start, end): the loaded segments
  std::string code_id, debug_id;      // empty: no build-id
  bool program = false;               // the main executable
};

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 0xF];
  }
  return s;
}

// Sentry's debug id of an ELF object: its build-id's first 16 bytes (zero-padded) read as a
// little-endian GUID, as sentry-native and symbolic compute it.
std::string debug_id_of(const unsigned char* id, std::size_t n) {
  unsigned char g[16] = {};
  std::memcpy(g, id, n < 16 ? n : 16);
  const unsigned char swapped[16] = {g[3], g[2], g[1],  g[0],  g[5],  g[4],  g[7],  g[6],
                                     g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]};
  const std::string h = hex(swapped, 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::string program_path() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

class image_list {
 public:
  // with_images calls fn(images) under the list's lock, after listing again if needed.
  template <class Fn>
  auto with_images(Fn fn) {
    std::lock_guard lk(mu_);
    refresh();
    return fn(static_cast<const std::vector<image>&>(images_));
  }

 private:
  void refresh() {
    struct counts {
      unsigned long long adds = 0, subs = 0;
    } now;
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) {
          auto* c = static_cast<counts*>(data);
          c->adds = info->dlpi_adds;
          c->subs = info->dlpi_subs;
          return 1;  // the counters are the same in every entry
        },
        &now);
    if (listed_ && now.adds == adds_ && now.subs == subs_) return;
    listed_ = true;
    adds_ = now.adds;
    subs_ = now.subs;
    images_.clear();
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) {
          auto* out = static_cast<std::vector<image>*>(data);
          image im;
          im.program = out->empty();  // the dynamic linker lists the program first
          im.path = im.program ? program_path() : std::string(info->dlpi_name);
          im.start = UINTPTR_MAX;
          for (int i = 0; i < info->dlpi_phnum; ++i) {
            const ElfW(Phdr)& ph = info->dlpi_phdr[i];
            if (ph.p_type == PT_LOAD) {
              im.start = std::min<std::uintptr_t>(im.start, info->dlpi_addr + ph.p_vaddr);
              im.end = std::max<std::uintptr_t>(im.end, info->dlpi_addr + ph.p_vaddr + ph.p_memsz);
            } else if (ph.p_type == PT_NOTE && im.code_id.empty()) {
              read_build_id(reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr),
                            ph.p_memsz, im);
            }
          }
          if (im.start < im.end) out->push_back(std::move(im));
          return 0;
        },
        &images_);
  }

  static void read_build_id(const unsigned char* p, std::size_t size, image& im) {
    auto align4 = [](std::size_t n) { return (n + 3) & ~std::size_t{3}; };
    std::size_t at = 0;
    while (at + sizeof(ElfW(Nhdr)) <= size) {
      ElfW(Nhdr) note;
      std::memcpy(&note, p + at, sizeof(note));
      const std::size_t name_at = at + sizeof(note);
      const std::size_t desc_at = name_at + align4(note.n_namesz);
      if (desc_at + note.n_descsz > size) return;
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
          std::memcmp(p + name_at, "GNU", 4) == 0 && note.n_descsz > 0) {
        im.code_id = hex(p + desc_at, note.n_descsz);
        im.debug_id = debug_id_of(p + desc_at, note.n_descsz);
        return;
      }
      at = desc_at + align4(note.n_descsz);
    }
  }

  std::mutex mu_;
  bool listed_ = false;
  unsigned long long adds_ = 0, subs_ = 0;
  std::vector<image> images_;  // guarded by mu_, in load order
};

image_list& images() {
  static image_list* const list = new image_list();  // never destroyed: used at exit too
  return *list;
}

// Where a file is: rt's own code (its sources, its installed headers), the system's (the
// C++ library, Boost, anything under /usr), or the user's.
bool rt_file(std::string_view path) {
  static constexpr std::string_view root = RT_SOURCE_DIR;
  if (path.find("/include/rt/") != std::string_view::npos) return true;
  if (!path.starts_with(root)) return false;
  const std::string_view rest = path.substr(root.size());
  return rest.starts_with("/scheduler/") || rest.starts_with("/runtime/") ||
         rest.starts_with("/hub/");
}

bool hub_file(std::string_view path) {
  static constexpr std::string_view root = RT_SOURCE_DIR;
  return path.find("/include/rt/hub") != std::string_view::npos ||
         (path.starts_with(root) && path.substr(root.size()).starts_with("/hub/"));
}

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The frames of one return address, innermost inlined call first; each knows whether it
// is the hub's own (left out at the inner end of a trace).
struct resolved_frame {
  stack_frame frame;
  bool hub = false;
};

std::vector<resolved_frame> resolve(std::uintptr_t pc) {
  const auto [package, in_program] = images().with_images([pc](const std::vector<image>& ims) {
    for (const image& im : ims) {
      if (pc >= im.start && pc < im.end) return std::pair(im.path, im.program);
    }
    return std::pair(std::string(), false);
  });
  std::vector<resolved_frame> out;
  for (const detail::source_frame& s : detail::symbolize_call(pc)) {
    resolved_frame r;
    r.frame.function =
        s.function.starts_with("_Z") ? detail::demangle(s.function.c_str()) : s.function;
    r.frame.abs_path = s.file;
    r.frame.filename = std::string(base_name(s.file));
    r.frame.lineno = s.line;
    r.frame.instruction_addr = pc;
    r.frame.package = package;
    if (!s.file.empty()) {
      r.hub = hub_file(s.file);
      r.frame.in_app = !rt_file(s.file) && !s.file.starts_with("/usr/");
    } else {  // no line tables: go by the symbol's name and the object it is in
      const std::string_view f = r.frame.function;
      r.hub = f.starts_with("rt::") || f == "__cxa_throw" || f == "__cxa_init_primary_exception";
      r.frame.in_app = in_program && !f.starts_with("rt::") && !f.starts_with("std::") &&
                       !f.starts_with("boost::") && !f.starts_with("__");
    }
    out.push_back(std::move(r));
  }
  if (out.empty()) {
    resolved_frame r;
    r.frame.instruction_addr = pc;
    r.frame.package = package;
    r.frame.in_app = false;
    out.push_back(std::move(r));
  }
  return out;
}

// frames_of symbolises return addresses (innermost first, each once per process) into a
// Sentry trace: oldest frame first, the hub's own innermost frames left out.
std::vector<stack_frame> frames_of(const std::uintptr_t* pcs, int n) {
  static std::mutex mu;
  static auto* cache = new std::unordered_map<std::uintptr_t, std::vector<resolved_frame>>();
  std::vector<resolved_frame> innermost_first;
  for (int i = 0; i < n; ++i) {
    std::vector<resolved_frame> frames;
    {
      std::lock_guard lk(mu);
      auto it = cache->find(pcs[i]);
      if (it != cache->end()) frames = it->second;
    }
    if (frames.empty()) {  // symbolised outside the lock: the first time reads DWARF
      frames = resolve(pcs[i]);
      std::lock_guard lk(mu);
      cache->emplace(pcs[i], frames);
    }
    for (resolved_frame& f : frames) innermost_first.push_back(std::move(f));
  }
  std::size_t skip = 0;
  while (skip < innermost_first.size() && innermost_first[skip].hub) ++skip;
  std::vector<stack_frame> out;
  out.reserve(innermost_first.size() - skip);
  for (std::size_t i = innermost_first.size(); i > skip; --i)
    out.push_back(std::move(innermost_first[i - 1].frame));
  return out;
}

// The exception object an exception_ptr holds: libstdc++'s exception_ptr is that pointer
// (the one __cxa_throw received).
const void* object_of(const std::exception_ptr& e) {
  static_assert(sizeof(std::exception_ptr) == sizeof(void*), "libstdc++'s exception_ptr");
  const void* p;
  std::memcpy(&p, &e, sizeof(p));
  return p;
}

// Before main: load libunwind and unwind once, so that neither a first throw nor the file
// descriptors libunwind keeps (the pipe it validates addresses with) come later.
[[maybe_unused]] const int eager = [] {
  void* pcs[4];
  return unwind(pcs, 4);
}();

}  // namespace

void set_throw_stacktraces(bool enabled) noexcept {
  recording.store(enabled, std::memory_order_relaxed);
}

bool throw_stacktraces() noexcept {
  return recording.load(std::memory_order_relaxed);
}

std::vector<stack_frame> throw_stacktrace(const std::exception_ptr& e) {
  if (!e) return {};
  std::uintptr_t pcs[max_frames];
  const int n = find(object_of(e), pcs);
  return frames_of(pcs, n);
}

std::vector<stack_frame> current_stacktrace() {
  void* raw[max_frames];
  const int n = unwind(raw, max_frames);
  std::uintptr_t pcs[max_frames];
  for (int i = 0; i < n; ++i) pcs[i] = reinterpret_cast<std::uintptr_t>(raw[i]);
  return frames_of(pcs, n);
}

std::vector<debug_image> debug_images_of(const event& ev) {
  std::vector<std::uintptr_t> addrs;
  for (const exception_info& x : ev.exception)
    for (const stack_frame& f : x.frames) addrs.push_back(f.instruction_addr);
  for (const thread_info& t : ev.threads)
    for (const stack_frame& f : t.frames) addrs.push_back(f.instruction_addr);
  if (addrs.empty()) return {};
  return images().with_images([&addrs](const std::vector<image>& ims) {
    std::vector<debug_image> out;
    for (const image& im : ims) {
      if (im.debug_id.empty()) continue;  // no build-id: nothing to match debug files by
      for (std::uintptr_t a : addrs) {
        if (a >= im.start && a < im.end) {
          out.push_back({.code_file = im.path,
                         .code_id = im.code_id,
                         .debug_id = im.debug_id,
                         .image_addr = im.start,
                         .image_size = im.end - im.start});
          break;
        }
      }
    }
    return out;
  });
}

}  // namespace rt

// The wrappers. Their declarations come from <cxxabi.h>, so the compiler checks that the
// signatures are the C++ ABI's. The originals are libstdc++'s (a shared library: a program
// linked with -static-libstdc++ has none to find, and says so).
namespace rt {
namespace {
template <class Fn>
Fn original(const char* name) {
  void* fn = dlsym(RTLD_NEXT, name);
  if (fn == nullptr) sched::fatal("rt's hub wraps %s but finds no C++ runtime's to call", name);
  return reinterpret_cast<Fn>(fn);
}
}  // namespace
}  // namespace rt

namespace __cxxabiv1 {

extern "C" void __cxa_throw(void* object, std::type_info* type, void (*destroy)(void*)) {
  using throw_fn = void (*)(void*, std::type_info*, void (*)(void*));
  static const auto cxa_throw = rt::original<throw_fn>("__cxa_throw");
  if (rt::throw_stacktraces()) {
    rt::set_in_throw();  // libstdc++'s __cxa_throw calls __cxa_init_primary_exception
    destroy = rt::record(object, destroy);
  }
  cxa_throw(object, type, destroy);  // never returns: it unwinds or terminates
  __builtin_unreachable();
}

extern "C" __cxa_refcounted_exception* __cxa_init_primary_exception(
    void* object, std::type_info* type, void (*destroy)(void*)) noexcept {
  using init_fn = __cxa_refcounted_exception* (*)(void*, std::type_info*, void (*)(void*));
  static const auto init = rt::original<init_fn>("__cxa_init_primary_exception");
  // Not __cxa_throw's own call (recorded there): std::make_exception_ptr, where it was made.
  if (!rt::take_in_throw() && rt::throw_stacktraces()) destroy = rt::record(object, destroy);
  return init(object, type, destroy);
}

}  // namespace __cxxabiv1
