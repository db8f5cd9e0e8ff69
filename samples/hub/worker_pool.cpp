// worker_pool.cpp — a small worker pool: three workers take jobs from a channel; each job
// runs in its own with_scope, tags it with the job and worker ids and reports through
// capture_message. The log transport prints every event as one JSON line, each carrying
// exactly its own job's tags, whichever worker ran it and however they interleave.
#include <spdlog/spdlog.h>
#include <rt/hub/logging.hpp>
#include <rt/rt.hpp>

int main() {
  return rt::run([] {
    spdlog::set_formatter(rt::make_log_formatter("g%g %v"));
    rt::init_client(
        {.release = "pool-sample@1.0", .transport = std::make_shared<rt::log_transport>()});
    rt::configure_scope([](rt::scope& scope) { scope.set_tag("service", "pool"); });

    constexpr int jobs_total = 12;
    auto jobs = rt::make_chan<int>(4);
    rt::wait_group workers;
    for (int w = 1; w <= 3; ++w) {
      workers.go([jobs, w] {
        rt::configure_scope([w](rt::scope& scope) { scope.set_tag("worker", std::to_string(w)); });
        for (int job : jobs) {
          rt::with_scope([&](rt::scope& scope) {
            scope.set_tag("job", std::to_string(job));
            rt::add_breadcrumb(
                {.category = "pool", .message = "started job " + std::to_string(job)});
            rt::yield();  // let the other workers interleave
            rt::capture_message("job " + std::to_string(job) + " done");
          });
        }
      });
    }
    for (int job = 1; job <= jobs_total; ++job) jobs.send(job);
    jobs.close();
    workers.wait();
    rt::flush(std::chrono::seconds(2));
  });
}
