// docs_correct.cpp — the Sentry Go docs' "CORRECT" goroutine example: each goroutine gets an
// explicit clone of the current hub and calls methods on it. It still works with rt (the
// clone is O(1) thanks to copy-on-write scopes), though rt's automatic per-goroutine hubs
// make the explicit clone unnecessary (see docs_incorrect.cpp).
#include <spdlog/spdlog.h>
#include <rt/hub/logging.hpp>
#include <rt/rt.hpp>

int main() {
  return rt::run([] {
    spdlog::set_formatter(rt::make_log_formatter("g%g %v"));
    rt::init_client(
        {.release = "docs-sample@1.0", .transport = std::make_shared<rt::log_transport>()});

    rt::wait_group wg;
    for (int n = 1; n <= 2; ++n) {
      std::shared_ptr<rt::hub> local_hub = rt::current_hub().clone();
      wg.go([local_hub, n] {
        local_hub->configure_scope(
            [n](rt::scope& scope) { scope.set_tag("secretTag", "go#" + std::to_string(n)); });
        local_hub->capture_message("Hello from Goroutine! #" + std::to_string(n));
      });
    }
    wg.wait();
    rt::flush(std::chrono::seconds(2));
  });
}
