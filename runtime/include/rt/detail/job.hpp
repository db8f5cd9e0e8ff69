// rt/detail/job.hpp — internal: the type-erased callable a goroutine runs.
//
// Owns: storage of the decay-copied function and arguments of one go() call, inline
// when small (no allocation on the spawn path), else on the heap.
// Invariant: a job is either empty, or holds exactly one callable that is destroyed
// exactly once: by run() after invoking it, or by reset() without invoking it.
#pragma once

#include <cstddef>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

namespace rt::detail {

class job {
 public:
  static constexpr std::size_t inline_size = 64;

  job() = default;
  job(const job&) = delete;
  job& operator=(const job&) = delete;
  ~job() { reset(); }

  // emplace stores f and args (decay-copied, as Go's `go f(x)` evaluates x at the call).
  template <class F, class... Args>
  void emplace(F&& f, Args&&... args) {
    using closure = bound<std::decay_t<F>, std::decay_t<Args>...>;
    void* where = storage_;
    if constexpr (sizeof(closure) > inline_size || alignof(closure) > alignof(std::max_align_t)) {
      where = ::operator new (sizeof(closure), std::align_val_t{alignof(closure)});
      try {
        heap_ = new (where) closure(std::forward<F>(f), std::forward<Args>(args)...);
      } catch (...) {
        ::operator delete (where, std::align_val_t{alignof(closure)});
        throw;
      }
      ops_ = &heap_ops<closure>;
    } else {
      new (where) closure(std::forward<F>(f), std::forward<Args>(args)...);
      ops_ = &inline_ops<closure>;
    }
  }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  // run invokes the callable, then destroys it (also when it throws).
  void run() {
    const ops* o = ops_;
    ops_ = nullptr;
    o->run(*this);
  }

  // reset destroys the callable without invoking it.
  void reset() noexcept {
    if (const ops* o = ops_) {
      ops_ = nullptr;
      o->drop(*this);
    }
  }

 private:
  struct ops {
    void (*run)(job&);
    void (*drop)(job&) noexcept;
  };
  const ops* ops_ = nullptr;
  void* heap_ = nullptr;
  alignas(std::max_align_t) unsigned char storage_[inline_size];

  template <class F, class... Args>
  struct bound {
    template <class FF, class... AA>
    explicit bound(FF&& ff, AA&&... aa) : f(std::forward<FF>(ff)), args(std::forward<AA>(aa)...) {}
    void operator()() { std::apply(std::move(f), std::move(args)); }
    F f;
    std::tuple<Args...> args;
  };

  template <class C>
  struct destroy_inline {
    C* c;
    ~destroy_inline() { c->~C(); }
  };
  template <class C>
  struct destroy_heap {
    C* c;
    ~destroy_heap() {
      c->~C();
      ::operator delete (c, std::align_val_t{alignof(C)});
    }
  };

  template <class C>
  static constexpr ops inline_ops{
      [](job& j) {
        C* c = std::launder(reinterpret_cast<C*>(j.storage_));
        destroy_inline<C> guard{c};
        (*c)();
      },
      [](job& j) noexcept { std::launder(reinterpret_cast<C*>(j.storage_))->~C(); }};

  template <class C>
  static constexpr ops heap_ops{[](job& j) {
                                  destroy_heap<C> guard{static_cast<C*>(j.heap_)};
                                  (*guard.c)();
                                },
                                [](job& j) noexcept { destroy_heap<C>{static_cast<C*>(j.heap_)}; }};
};

}  // namespace rt::detail
