// The consumer project's program: uses rt through the umbrella header only.
#include <atomic>
#include <cstdio>

#include <rt/rt.hpp>

int main() {
  return rt::run([] {
    rt::wait_group wg;
    std::atomic<int> sum{0};
    for (int i = 1; i <= 10; ++i) wg.go([&sum](int v) { sum += v; }, i);
    wg.wait();
    std::printf("consumer sum=%d\n", sum.load());
  });
}
