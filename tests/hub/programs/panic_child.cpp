// panic_child — a program that panics with a client bound to an HTTP receiver, run as a
// child process by panic_process_test.cpp: `panic_child DSN wg|main TAG`.
//   wg    a goroutine started with wg.go throws while main waits for it
//   main  the main goroutine throws
// Either way the process must print "panic: goroutine N: std::runtime_error: boom-TAG",
// exit with status 2, and the event must have reached the receiver first.
#include <cstdio>
#include <stdexcept>
#include <string>

#include <rt/rt.hpp>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: panic_child DSN wg|main TAG\n");
    return 64;
  }
  const std::string dsn = argv[1], mode = argv[2], what = std::string("boom-") + argv[3];
  return rt::run([&] {
    rt::init_client({.dsn = dsn});
    if (mode == "main") throw std::runtime_error(what);
    rt::wait_group wg;
    wg.go([&what] { throw std::runtime_error(what); });
    wg.wait();
    std::printf("main went on after the panic\n");
  });
}
