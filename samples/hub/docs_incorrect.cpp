// docs_incorrect.cpp — the Sentry Go docs' "INCORRECT" goroutine example, written with the
// free functions, which is correct with rt: each goroutine has its own hub, cloned from
// its parent's at go(), so event #1 carries only go#1 and event #2 only go#2, and main's
// scope never gains secretTag. Events are printed as JSON lines by the log transport.
#include <spdlog/spdlog.h>
#include <rt/hub/logging.hpp>
#include <rt/rt.hpp>

int main() {
  return rt::run([] {
    spdlog::set_formatter(rt::make_log_formatter("g%g %v"));
    rt::init_client(
        {.release = "docs-sample@1.0", .transport = std::make_shared<rt::log_transport>()});

    rt::wait_group wg;
    wg.go([] {
      rt::configure_scope([](rt::scope& scope) { scope.set_tag("secretTag", "go#1"); });
      rt::capture_message("Hello from Goroutine! #1");
    });
    wg.go([] {
      rt::configure_scope([](rt::scope& scope) { scope.set_tag("secretTag", "go#2"); });
      rt::capture_message("Hello from Goroutine! #2");
    });
    wg.wait();

    rt::configure_scope([](rt::scope& scope) {
      spdlog::info("main scope has secretTag: {}",
                   scope.tags().contains("secretTag") ? "yes" : "no");
    });
    rt::flush(std::chrono::seconds(2));
  });
}
