// pipeline — a pipeline with fan-out and fan-in (Go blog's "Pipelines and
// cancellation"): gen emits 1..1000, three sq stages square numbers in parallel, merge
// fans their outputs back into one channel with select, and a done context stops every
// stage early. Prints "sum of squares 1..1000 = 333833500", then after an early stop
// "stopped early after 10 values, all stages exited".
#include <cstdio>
#include <optional>
#include <vector>

#include <rt/rt.hpp>

// gen sends 1..n on the returned channel, then closes it; stops early on ctx.
rt::chan<long> gen(rt::context ctx, long n, rt::wait_group& stages) {
  auto out = rt::make_chan<long>();
  stages.go([ctx, n, out] {
    for (long i = 1; i <= n; ++i) {
      if (rt::select(rt::case_send(out, i), rt::case_recv(ctx.done())) == 1) break;
    }
    out.close();
  });
  return out;
}

// sq squares every value from in; stops early on ctx.
rt::chan<long> sq(rt::context ctx, rt::chan<long> in, rt::wait_group& stages) {
  auto out = rt::make_chan<long>();
  stages.go([ctx, in, out] {
    for (long v : in) {
      if (rt::select(rt::case_send(out, v * v), rt::case_recv(ctx.done())) == 1) break;
    }
    out.close();
  });
  return out;
}

// merge fans in: one goroutine selects over all inputs until each is closed (a closed
// input is replaced by a nil channel, which select never picks again).
rt::chan<long> merge(rt::context ctx, std::vector<rt::chan<long>> ins, rt::wait_group& stages) {
  auto out = rt::make_chan<long>();
  stages.go([ctx, ins, out]() mutable {
    std::size_t open = ins.size();
    bool stop = false;
    while (open > 0 && !stop) {
      std::optional<long> v;
      auto take = [&](std::size_t i) {
        return [&, i](std::optional<long> got) {
          if (!got) {
            ins[i] = {};
            --open;
          }
          v = got;
        };
      };
      rt::select(rt::case_recv(ins[0], take(0)), rt::case_recv(ins[1], take(1)),
                 rt::case_recv(ins[2], take(2)), rt::case_recv(ctx.done(), [&] { stop = true; }));
      if (v && rt::select(rt::case_send(out, *v), rt::case_recv(ctx.done())) == 1) stop = true;
    }
    out.close();
  });
  return out;
}

long run_pipeline(long n, long take, bool* stopped_early) {
  auto [ctx, cancel] = rt::with_cancel(rt::context::background());
  rt::wait_group stages;
  auto src = gen(ctx, n, stages);
  auto out = merge(ctx, {sq(ctx, src, stages), sq(ctx, src, stages), sq(ctx, src, stages)}, stages);
  long sum = 0, count = 0;
  for (long v : out) {
    sum += v;
    if (++count == take) break;
  }
  *stopped_early = count < n;
  cancel();       // stops every stage still running
  stages.wait();  // none is left behind
  return sum;
}

int main() {
  return rt::run([] {
    bool early = false;
    long sum = run_pipeline(1000, 1000, &early);
    std::printf("sum of squares 1..1000 = %ld\n", sum);
    run_pipeline(1000000, 10, &early);
    if (early) std::printf("stopped early after 10 values, all stages exited\n");
  });
}
