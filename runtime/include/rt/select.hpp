// rt/select.hpp — rt::select, Go's select statement over channel operations.
//
// Example (samples/coordination/pipeline.cpp has a fan-in built on it):
//   std::size_t i = rt::select(
//       rt::case_recv(jobs, [](std::optional<Job> j) { /* j empty: jobs is closed */ }),
//       rt::case_send(out, value, [] { /* value was delivered */ }),
//       rt::case_recv(ctx.done(), [] { /* cancelled */ }),
//       rt::case_default([] { /* nothing was ready */ }));   // optional
//
// Owns: the typed case objects and the dispatch to the callback of the case that ran
// (the algorithm is detail::select_run in src/chan.cpp).
// Invariant: exactly one case runs per select: its channel operation completes and
// then, outside every lock, its callback runs once; no other case's operation happens.
//
// rt::select(cases...) returns the index (in argument order) of the case that ran.
//   * When several cases are ready, one is chosen uniformly at random (Go's rule).
//   * Without case_default it parks until some case can run (a goroutine parks, a plain
//     thread blocks); with no non-nil case at all, it parks forever.
//   * With case_default it never parks: the default runs when no case is ready.
//   * A case on a nil channel is never ready. A receive case on a closed channel is
//     ready and receives std::nullopt. A send case on a closed channel that is chosen
//     throws rt::channel_closed ("send on closed channel"), as Go panics.
//   * Callbacks run after the select completed; what they throw propagates.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>

#include "rt/chan.hpp"

namespace rt {

namespace detail {

// The callback of a case given none.
struct no_callback {
  void operator()(auto&&...) const noexcept {}
};

// A channel held by a case: a reference when the caller passed an lvalue handle (it
// outlives the select call), a handle of its own when it passed a temporary.
template <class T, bool Owned>
using case_chan = std::conditional_t<Owned, chan<T>, const chan<T>&>;

template <class T, bool Owned, class F>
struct recv_case {
  case_chan<T, Owned> ch;
  F f;
  std::optional<T> value{};

  select_case core() { return {chan_access::core(ch), &value, false}; }
  void run() {
    if constexpr (std::is_invocable_v<F&, std::optional<T>>) {
      f(std::move(value));
    } else {
      f();
    }
  }
};

// V is T (the case owns the value to send) or T* (it borrows the caller's lvalue and
// moves from it only if the case runs).
template <class T, bool Owned, class V, class F>
struct send_case {
  case_chan<T, Owned> ch;
  V value;
  F f;

  select_case core() {
    if constexpr (std::is_pointer_v<V>) {
      return {chan_access::core(ch), value, true};
    } else {
      return {chan_access::core(ch), std::addressof(value), true};
    }
  }
  void run() { f(); }
};

template <class F>
struct default_case {
  F f;
  select_case core() { return {}; }  // as a nil channel: never ready
  void run() { f(); }
};

template <class C>
inline constexpr bool is_default_case = false;
template <class F>
inline constexpr bool is_default_case<default_case<F>> = true;

template <class C>
inline constexpr bool is_case = false;
template <class T, bool O, class F>
inline constexpr bool is_case<recv_case<T, O, F>> = true;
template <class T, bool O, class V, class F>
inline constexpr bool is_case<send_case<T, O, V, F>> = true;
template <class F>
inline constexpr bool is_case<default_case<F>> = true;

template <class C>
concept any_case = is_case<std::remove_cvref_t<C>>;

template <class F, class T>
concept recv_callback = std::invocable<F&, std::optional<T>> || std::invocable<F&>;

}  // namespace detail

// case_recv(ch, f): receives from ch, then calls f(std::optional<T>) — empty when ch is
// closed and drained — or f() if f takes no argument. f may be omitted.
template <class T, detail::recv_callback<T> F = detail::no_callback>
detail::recv_case<T, false, std::decay_t<F>> case_recv(const chan<T>& ch, F&& f = {}) {
  return {ch, std::forward<F>(f)};
}
template <class T, detail::recv_callback<T> F = detail::no_callback>
detail::recv_case<T, true, std::decay_t<F>> case_recv(chan<T>&& ch, F&& f = {}) {
  return {std::move(ch), std::forward<F>(f)};
}

// case_send(ch, value, f): sends value on ch, then calls f(). A non-const lvalue `value`
// of type T is moved from only if this case runs; anything else is first converted to
// a T owned by the case. f may be omitted.
template <class T, class U, std::invocable F = detail::no_callback>
requires std::same_as<U, T&> || std::constructible_from<T, U&&>
auto case_send(const chan<T>& ch, U&& value, F&& f = {}) {
  if constexpr (std::same_as<U, T&>) {
    return detail::send_case<T, false, T*, std::decay_t<F>>{ch, std::addressof(value),
                                                            std::forward<F>(f)};
  } else {
    return detail::send_case<T, false, T, std::decay_t<F>>{ch, T(std::forward<U>(value)),
                                                           std::forward<F>(f)};
  }
}
template <class T, class U, std::invocable F = detail::no_callback>
requires std::same_as<U, T&> || std::constructible_from<T, U&&>
auto case_send(chan<T>&& ch, U&& value, F&& f = {}) {
  if constexpr (std::same_as<U, T&>) {
    return detail::send_case<T, true, T*, std::decay_t<F>>{std::move(ch), std::addressof(value),
                                                           std::forward<F>(f)};
  } else {
    return detail::send_case<T, true, T, std::decay_t<F>>{std::move(ch), T(std::forward<U>(value)),
                                                          std::forward<F>(f)};
  }
}

// case_default(f): makes the select non-blocking; f() runs when no other case is ready.
template <std::invocable F = detail::no_callback>
detail::default_case<std::decay_t<F>> case_default(F&& f = {}) {
  return {std::forward<F>(f)};
}

// select runs exactly one of `cases` (see the rules at the top of this file) and returns
// its index. Parks unless a case is ready or there is a case_default. Throws
// rt::channel_closed when the chosen case sends on a closed channel, and what the
// chosen callback throws.
template <detail::any_case... Cases>
std::size_t select(Cases&&... cases) {
  constexpr std::size_t n = sizeof...(Cases);
  static_assert(n > 0, "rt::select: no cases (a select that parks forever is not offered)");
  static_assert(n <= UINT16_MAX, "rt::select: too many cases");
  constexpr bool is_default[] = {detail::is_default_case<std::remove_cvref_t<Cases>>...};
  static_assert(std::count(std::begin(is_default), std::end(is_default), true) <= 1,
                "rt::select: at most one case_default");
  // Index of the default case; n when there is none (then the select may park).
  constexpr std::size_t default_at = static_cast<std::size_t>(
      std::find(std::begin(is_default), std::end(is_default), true) - std::begin(is_default));

  std::array<detail::select_case, n> cs{cases.core()...};
  std::array<detail::chan_waiter, default_at == n ? n : 0> waiters;
  std::array<std::uint16_t, 2 * n> order;
  std::size_t chosen =
      detail::select_run(cs.data(), waiters.data(), order.data(), n, default_at == n);
  if (chosen == n) chosen = default_at;  // nothing was ready
  std::size_t k = 0;
  ((k++ == chosen ? cases.run() : void()), ...);
  return chosen;
}

}  // namespace rt
