// The doctest main shared by every rt test program: the whole doctest session runs in
// the main goroutine of rt::run, so test bodies are goroutines and may park.
// GOMAXPROCS comes from the environment (CTest runs each program at 1, 2 and 4).
// Built twice: rt_test_main with rt's default panic policy, and rt_test_main_continue
// (RT_TEST_REPORT_AND_CONTINUE) for programs whose tests panic on purpose.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <rt/rt.hpp>

int main(int argc, char** argv) {
  rt::options options;
#ifdef RT_TEST_REPORT_AND_CONTINUE
  options.on_panic = rt::panic_policy::report_and_continue;
#endif
  return rt::run(
      [&] {
        doctest::Context ctx(argc, argv);
        return ctx.run();
      },
      options);
}
