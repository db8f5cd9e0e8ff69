// context.cpp — the context tree behind rt::context (rt/context.hpp).
//
// Owns: context nodes, their parent/child links and deadline timers, and cancellation.
// Invariants:
//   * a node's err is set once, under its lock, by the single cancel() that wins (of the
//     node or of an ancestor); only that winner closes `done` and cascades, and it holds
//     the node's lock until every descendant is cancelled — so when any cancel() of a
//     node returns, its whole subtree is cancelled (a loser waits for the winner's lock
//     first), as in Go;
//   * a node is in its parent's child list (linked == true) exactly while it is live
//     and not detached; the list holds raw pointers, guarded by the parent's lock; a
//     child's destructor unlinks it under that lock, so a pointer found in the list
//     under the lock is to live memory (its refcount may be zero already: the cascade
//     then skips it);
//   * a node with a deadline timer stops it before its memory goes; a timer never waits
//     for its own firing (a node destroyed inside its own fire skips timer_stop);
//   * neither cancelling nor destroying recurses: both use bounded stack at any depth of
//     the tree (a goroutine's stack is 64 KiB).
//
// Cancel, the steps:
//   1. lock the node; if err is set, stop (lost the race: the winner held the lock
//      through its cascade, so the subtree is cancelled by now); set err;
//   2. close done (wakes every receiver and select waiting on it);
//   3. cascade, depth first, in a loop: at the deepest locked node, unlink its first
//      child, take a strong reference (skipping children being destroyed), and do steps
//      1-2 for it (skipping it if it was cancelled already): it becomes the deepest
//      locked node. A node with no children left is done: unlock it, stop its timer
//      (step 5) and go back up to its parent. The path being walked is kept alive by one
//      strong reference to its deepest node: every node holds its parent;
//   4. unlock; unlink the node from its parent (under the parent's lock) unless the
//      parent's cascade did;
//   5. stop the deadline timer unless we run inside its fire.
// Locks nest only from ancestor to descendant (steps 1-3), and channel locks inside
// them; a node locks its parent only with its own lock released (step 4, destructor).
// timer_stop (step 5, destructor) runs with the node's own lock released: the fire it
// may wait for needs at most that lock, and returns at once when err is set.
//
// Destroy: a node's destructor stops its timer and unlinks it, then drops its reference
// to its parent, which may destroy the parent, and so on up a chain. release() turns
// that into a loop: the outermost destructor on a thread drops the references one by
// one; a destructor running inside that loop hands its parent over instead.
#include <atomic>
#include <mutex>

#include "rt/context.hpp"
#include "rt/runtime.hpp"
#include "rt/scheduler/scheduler.hpp"

namespace rt {
namespace detail {

struct context_node : sched::timer, std::enable_shared_from_this<context_node> {
  context_node(std::shared_ptr<context_node> p, std::optional<clock::time_point> dl)
      : parent(std::move(p)), deadline(dl), done(make_chan<std::monostate>()) {}
  ~context_node();

  void cancel(context_error why, bool detach) noexcept;
  bool mark(context_error why) noexcept;
  void unlink_from_parent() noexcept;
  void stop_timer() noexcept;

  // nullptr: a child of background. Immutable until the destructor moves it out.
  std::shared_ptr<context_node> parent;
  const std::optional<clock::time_point> deadline;  // inherited or own
  const chan<std::monostate> done;                  // closed by the winning cancel
  bool has_timer = false;                           // set before the timer starts

  sched::spinlock lock;                  // guards err_code, first_child; held by a cascade
  std::atomic<int> err_code{-1};         // -1 live, else a context_error; written under lock
  context_node* first_child = nullptr;   // children list; guarded by lock
  context_node* prev_sibling = nullptr;  // guarded by parent->lock
  context_node* next_sibling = nullptr;  // guarded by parent->lock
  // In parent's list; written under parent->lock, read without it only to skip locking
  // the parent when already unlinked (then it never becomes true again).
  std::atomic<bool> linked{false};
};

namespace {

// The node whose deadline fire runs on this thread (scheduler context), if any.
thread_local const context_node* t_firing = nullptr;

// Where a destructor hands its parent over while release() runs on this thread, if it does.
thread_local std::shared_ptr<context_node>* t_handover = nullptr;

// release drops p, the reference a destroyed node held to its parent, without recursing
// up a chain of nodes each held only by its child (see "Destroy" above).
void release(std::shared_ptr<context_node> p) noexcept {
  if (t_handover != nullptr) {  // a destructor inside the loop below: let the loop drop it
    *t_handover = std::move(p);
    return;
  }
  std::shared_ptr<context_node> next;
  t_handover = &next;
  while (p != nullptr) {
    p.reset();  // may run p's destructor, which hands p's parent over into `next`
    p = std::move(next);
  }
  t_handover = nullptr;
}

// unlink removes child from parent's list (parent->lock held).
void unlink(context_node* parent, context_node* child) noexcept {
  if (child->prev_sibling != nullptr) {
    child->prev_sibling->next_sibling = child->next_sibling;
  } else {
    parent->first_child = child->next_sibling;
  }
  if (child->next_sibling != nullptr) child->next_sibling->prev_sibling = child->prev_sibling;
  child->prev_sibling = nullptr;
  child->next_sibling = nullptr;
  child->linked.store(false, std::memory_order_release);
}

void fire_deadline(sched::timer* t) noexcept {
  auto* n = static_cast<context_node*>(t);
  t_firing = n;
  {
    // A strong reference keeps n alive through the cascade; if there is none left, n's
    // destructor is waiting in timer_stop for this fire to return.
    if (std::shared_ptr<context_node> self = n->weak_from_this().lock()) {
      n->cancel(context_error::deadline_exceeded, true);
    }
  }  // dropping `self` may destroy n here: its destructor sees t_firing and skips timer_stop
  t_firing = nullptr;
}

}  // namespace

context_node::~context_node() {
  stop_timer();
  unlink_from_parent();
  release(std::move(parent));
}

// stop_timer stops the deadline timer unless there is none, this thread runs its fire
// (a timer never waits for its own firing), or the pool and its heaps are gone.
void context_node::stop_timer() noexcept {
  if (has_timer && t_firing != this && sched::running()) sched::timer_stop(this);
}

void context_node::unlink_from_parent() noexcept {
  // Unlinked already (e.g. by the parent's cascade, which may be running on this very
  // thread with the parent's lock held): nothing to do, and no lock to take.
  if (parent == nullptr || !linked.load(std::memory_order_acquire)) return;
  sched::spinlock_lock lk(parent->lock);
  if (linked.load(std::memory_order_relaxed)) unlink(parent.get(), this);
}

// mark does steps 1-2 with the lock held: false if the node was cancelled already.
bool context_node::mark(context_error why) noexcept {
  if (err_code.load(std::memory_order_relaxed) >= 0) return false;
  err_code.store(static_cast<int>(why), std::memory_order_release);
  done.close();  // only the winner of step 1 gets here, so it cannot throw
  return true;
}

void context_node::cancel(context_error why, bool detach) noexcept {
  lock.lock();  // step 1
  if (!mark(why)) {
    lock.unlock();
    return;
  }
  // Step 3. Invariant: n and its ancestors up to this are locked and cancelled; `hold`
  // keeps n alive (and through the parent links, the path up to this) unless n is this.
  context_node* n = this;
  std::shared_ptr<context_node> hold;
  for (;;) {
    if (context_node* c = n->first_child) {
      unlink(n, c);
      // null: c is being destroyed (its destructor finds it unlinked); skip it.
      std::shared_ptr<context_node> child = c->weak_from_this().lock();
      if (child == nullptr) continue;
      child->lock.lock();
      if (!child->mark(why)) {  // cancelled on its own: that winner's cascade is over
        child->lock.unlock();
        continue;
      }
      hold = std::move(child);
      n = hold.get();
    } else if (n != this) {  // n's subtree is cancelled: finish n, go back up
      n->lock.unlock();
      n->stop_timer();  // step 5 for n
      context_node* up = n->parent.get();
      hold = up == this ? nullptr : n->parent;  // may destroy n, not up
      n = up;
    } else {
      break;
    }
  }
  lock.unlock();
  if (detach) unlink_from_parent();  // step 4
  stop_timer();                      // step 5
}

std::size_t context_children(const context& ctx) noexcept {
  if (ctx.node_ == nullptr) return 0;
  sched::spinlock_lock lk(ctx.node_->lock);
  std::size_t n = 0;
  for (context_node* c = ctx.node_->first_child; c != nullptr; c = c->next_sibling) ++n;
  return n;
}

}  // namespace detail

namespace {

using detail::context_node;

// make_child builds a node under parent, links it (or cancels it at once if the parent
// is cancelled already) and starts its deadline timer if it has its own deadline.
std::shared_ptr<context_node> make_child(const std::shared_ptr<context_node>& parent,
                                         std::optional<clock::time_point> deadline) {
  const bool own_deadline =
      deadline.has_value() &&
      (parent == nullptr || !parent->deadline.has_value() || *deadline < *parent->deadline);
  if (!own_deadline && parent != nullptr) deadline = parent->deadline;
  if (own_deadline) detail::ensure_runtime();
  auto node = std::make_shared<context_node>(parent, deadline);
  if (own_deadline && *deadline > clock::now()) {  // set up before anyone can see the node
    node->when = *deadline;
    node->fire = detail::fire_deadline;
    node->has_timer = true;
  }
  if (parent != nullptr) {
    int parent_err;
    {
      sched::spinlock_lock lk(parent->lock);
      parent_err = parent->err_code.load(std::memory_order_relaxed);
      if (parent_err < 0) {
        node->next_sibling = parent->first_child;
        if (parent->first_child != nullptr) parent->first_child->prev_sibling = node.get();
        parent->first_child = node.get();
        node->linked.store(true, std::memory_order_relaxed);
      }
    }
    if (parent_err >= 0) {  // the timer was never started
      node->cancel(static_cast<context_error>(parent_err), false);
      return node;
    }
  }
  if (node->has_timer) {
    sched::timer_start(node.get());
    // A cascade that ran between linking and timer_start found no timer to stop.
    if (node->err_code.load(std::memory_order_acquire) >= 0) node->stop_timer();
  } else if (own_deadline) {
    node->cancel(context_error::deadline_exceeded, true);  // the deadline has passed
  }
  return node;
}

}  // namespace

const char* to_string(context_error e) noexcept {
  return e == context_error::canceled ? "context canceled" : "context deadline exceeded";
}

chan<std::monostate> context::done() const {
  return node_ != nullptr ? node_->done : chan<std::monostate>{};
}

std::optional<context_error> context::err() const noexcept {
  if (node_ == nullptr) return std::nullopt;
  // acquire: pairs with the release store in cancel (err is set before done closes).
  const int e = node_->err_code.load(std::memory_order_acquire);
  if (e < 0) return std::nullopt;
  return static_cast<context_error>(e);
}

std::optional<clock::time_point> context::deadline() const noexcept {
  return node_ != nullptr ? node_->deadline : std::nullopt;
}

void cancel_func::operator()() const noexcept {
  if (node_ != nullptr) node_->cancel(context_error::canceled, true);
}

std::pair<context, cancel_func> with_cancel(const context& parent) {
  auto node = make_child(parent.node_, std::nullopt);
  return {context(node), cancel_func(node)};
}

std::pair<context, cancel_func> with_deadline(const context& parent, clock::time_point deadline) {
  auto node = make_child(parent.node_, deadline);
  return {context(node), cancel_func(node)};
}

}  // namespace rt
