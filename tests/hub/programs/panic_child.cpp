// panic_child — a program that panics with a client bound to an HTTP receiver, run as a
// child process by panic_process_test.cpp: `panic_child DSN wg|main TAG`.
//   wg    a goroutine started with wg.go throws while main waits for it
//   main  the main goroutine throws
// Either way the process must print "panic: goroutine N: std::runtime_error: boom-TAG",
// exit with status 2, and the event must have reached the receiver first, with the tag
// mode=MODE, the breadcrumb "about to fail", and fail_with's throw site as its stack trace.
#include <cstdio>
#include <stdexcept>
#include <string>

#include <rt/rt.hpp>

[[gnu::noinline]] void fail_with(const std::string& what, const std::string& mode) {
  rt::configure_scope([&](rt::scope& s) { s.set_tag("mode", mode); });
  rt::add_breadcrumb({.message = "about to fail"});
  throw std::runtime_error(what);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: panic_child DSN wg|main TAG\n");
    return 64;
  }
  const std::string dsn = argv[1], mode = argv[2], what = std::string("boom-") + argv[3];
  return rt::run([&] {
    rt::init_client({.dsn = dsn});
    if (mode == "main") fail_with(what, mode);
    rt::wait_group wg;
    wg.go([&] { fail_with(what, mode); });
    wg.wait();
    std::printf("main went on after the panic\n");
  });
}
