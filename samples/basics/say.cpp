// say — Go tour's first goroutine program, with rt:
//   go say("world"); say("hello")
// "hello" is printed five times; "world" up to five times, interleaved, until main
// returns (goroutines do not keep a program alive).
#include <chrono>
#include <cstdio>
#include <string>

#include <rt/rt.hpp>

void say(const std::string& s) {
  for (int i = 0; i < 5; ++i) {
    rt::sleep_for(std::chrono::milliseconds(100));
    std::printf("%s\n", s.c_str());
    std::fflush(stdout);
  }
}

int main() {
  return rt::run([] {
    rt::go(say, "world");
    say("hello");
  });
}
