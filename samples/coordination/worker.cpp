// worker — the seed program's worker(ctx, jobs) loop with rt: workers take jobs from a
// channel until their context is cancelled, then stop; main cancels once it has seen
// enough results. Prints "results: 100", then "worker N stopped" for each of 3 workers
// (in some order) and "all workers stopped".
#include <cstdio>
#include <optional>

#include <rt/rt.hpp>

// worker runs jobs until ctx is cancelled (or jobs is closed). Each job is squared and
// its result sent on `results`; a send that would wait past cancellation is abandoned.
void worker(rt::context ctx, int id, rt::chan<int> jobs, rt::chan<int> results,
            rt::wait_group& wg) {
  for (bool stop = false; !stop;) {
    rt::select(rt::case_recv(jobs,
                             [&](std::optional<int> job) {
                               if (!job) {
                                 stop = true;
                                 return;
                               }
                               rt::select(rt::case_send(results, *job * *job),
                                          rt::case_recv(ctx.done(), [&] { stop = true; }));
                             }),
               rt::case_recv(ctx.done(), [&] { stop = true; }));
  }
  std::printf("worker %d stopped (%s)\n", id,
              ctx.err() ? rt::to_string(*ctx.err()) : "jobs closed");
  wg.done();
}

int main() {
  return rt::run([] {
    auto [ctx, cancel] = rt::with_cancel(rt::context::background());
    auto jobs = rt::make_chan<int>(8);
    auto results = rt::make_chan<int>();
    rt::wait_group wg;
    for (int id = 1; id <= 3; ++id) {
      wg.add(1);
      rt::go(worker, ctx, id, jobs, results, std::ref(wg));
    }
    // A producer that would go on forever; it stops on the same context.
    wg.go([ctx = ctx, jobs] {
      for (int n = 1;; ++n) {
        bool stop = false;
        rt::select(rt::case_send(jobs, n), rt::case_recv(ctx.done(), [&] { stop = true; }));
        if (stop) return;
      }
    });
    int got = 0;
    while (got < 100) {
      results.recv();
      ++got;
    }
    std::printf("results: %d\n", got);
    cancel();
    wg.wait();
    std::printf("all workers stopped\n");
  });
}
