// The doctest main shared by every rt test program: the whole doctest session runs in
// the main goroutine of rt::run, so test bodies are goroutines and may park.
// GOMAXPROCS comes from the environment (CTest runs each program at 1, 2 and 4).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <rt/rt.hpp>

int main(int argc, char** argv) {
  return rt::run([&] {
    doctest::Context ctx(argc, argv);
    return ctx.run();
  });
}
