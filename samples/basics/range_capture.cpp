// range_capture — the loop-variable capture example: every goroutine gets its own
// copy of the value at the go() call (go(f, v) decay-copies v, as Go 1.22's per-
// iteration loop variables do), so each value is printed exactly once.
#include <cstdio>
#include <vector>

#include <rt/rt.hpp>

int main() {
  return rt::run([] {
    std::vector<int> values = {1, 2, 3, 4, 5};
    rt::wait_group wg;
    for (int v : values) {
      wg.go([](int x) { std::printf("%d\n", x); }, v);
    }
    wg.wait();
  });
}
