// race_programs.cpp — ThreadSanitizer understands goroutines: a goroutine and main both
// writing one std::map without a lock is reported as a data race (at any GOMAXPROCS, also
// when both run on one worker thread), and the same program with an rt::mutex, or with a
// channel handing the map over, is clean. Built and registered only for RT_SANITIZE=thread.
// Usage: race_programs <racy|mutex|channel>
#include <cstdio>
#include <map>
#include <string>

#include "rt/rt.hpp"

namespace {

int racy() {
  return rt::run([] {
    std::map<std::string, int> m;
    rt::wait_group wg;
    wg.go([&] { m["goroutine"] = 1; });
    m["main"] = 2;  // no lock, no channel: races with the goroutine's write
    wg.wait();
    std::printf("size %zu\n", m.size());
  });
}

int with_mutex() {
  return rt::run([] {
    std::map<std::string, int> m;
    rt::mutex mu;
    rt::wait_group wg;
    for (int i = 0; i < 8; ++i) {
      wg.go([&, i] {
        std::lock_guard lk(mu);
        m["goroutine " + std::to_string(i)] = i;
      });
    }
    {
      std::lock_guard lk(mu);
      m["main"] = 2;
    }
    wg.wait();
    std::printf("size %zu\n", m.size());  // after wait: the goroutines' writes happened before
  });
}

int with_channel() {
  return rt::run([] {
    std::map<std::string, int> m;
    m["before go"] = 0;  // go() happens before the goroutine starts
    auto handed = rt::make_chan<int>();
    rt::go([&] {
      m["goroutine"] = 1;
      handed.send(1);  // the send happens before the receive completes
    });
    handed.recv();
    m["main"] = 2;
    std::printf("size %zu\n", m.size());
  });
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "racy") return racy();
  if (mode == "mutex") return with_mutex();
  if (mode == "channel") return with_channel();
  std::fprintf(stderr, "usage: race_programs <racy|mutex|channel>\n");
  return 64;
}
