// internal.hpp — internal: what the hub layer's sources share and nobody else sees
// (not installed).
//
// Owns: the declarations linking client.cpp to hub.cpp.
// Invariant: nothing here is part of the public API.
#pragma once

namespace rt::detail {

// install_panic_observer registers, once per process, the runtime panic observer that
// captures a panicking goroutine's exception on its own hub (hub.cpp).
void install_panic_observer();

}  // namespace rt::detail
