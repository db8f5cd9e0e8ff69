// rt/task_local.hpp — inheritable task-local slots.
//
// Owns: the public hook through which a layer above the runtime (the hub, a request id,
// a logger...) gives every goroutine its own value that is cloned from the parent's at
// the go() call.
// Invariant: a goroutine's slot values are touched only by that goroutine, except at
// go(), where the parent (the caller) fills the child's table before the child exists
// for anybody else. A plain thread has its own table, destroyed at thread exit.
//
// Example:
//   static const int kRequestId = rt::register_task_local({
//       .clone = [](void* v) -> void* { return v ? new std::string(*static_cast<std::string*>(v)) :
//       nullptr; }, .destroy = [](void* v) { delete static_cast<std::string*>(v); }});
//   rt::task_local_value(kRequestId) = new std::string("req-42");   // this goroutine only
#pragma once

namespace rt {

// The hooks of one slot. Both are called with a non-null value only.
struct task_local_hooks {
  // clone: runs in the parent, inside go(), before the child is runnable. Returns the
  // child's value (may be nullptr). Must not park; may throw (go() then throws and no
  // goroutine is started).
  void* (*clone)(void* parent_value) = nullptr;
  // destroy: runs in the goroutine (or thread) that owns the value, when it ends.
  void (*destroy)(void* value) = nullptr;
};

// The most slots a process may register.
inline constexpr int max_task_locals = 8;

// register_task_local registers a slot and returns its index. Call it before the slot
// is used (a function-local static is the usual way). Thread-safe. Throws
// std::length_error when max_task_locals slots exist already.
int register_task_local(task_local_hooks hooks);

// task_local_value returns the calling goroutine's value of `slot` (outside any
// goroutine: the calling thread's). Never blocks. The reference stays valid for the
// lifetime of the goroutine; the owner may replace the pointer (it then owns the old one).
void*& task_local_value(int slot) noexcept;

}  // namespace rt
