#include <doctest/doctest.h>

#include <atomic>
#include <rt/rt.hpp>

TEST_CASE("smoke: 100000 goroutines joined by a wait_group") {
  rt::wait_group wg;
  std::atomic<long> sum{0};
  for (long i = 1; i <= 100000; ++i) wg.go([&sum](long v) { sum += v; }, i);
  wg.wait();
  CHECK(sum == 100000L * 100001L / 2);
}
