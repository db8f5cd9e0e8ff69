// workers — Go by Example's WaitGroup program, with rt: three workers start, each
// sleeps (parks, it does not block its thread), then main prints once all are done.
#include <chrono>
#include <cstdio>

#include <rt/rt.hpp>

void worker(int id) {
  std::printf("Worker %d starting\n", id);
  rt::sleep_for(std::chrono::seconds(1));
  std::printf("Worker %d done\n", id);
}

int main() {
  return rt::run([] {
    rt::wait_group wg;
    for (int i = 1; i <= 3; ++i) wg.go(worker, i);  // add(1); go; done() on return
    wg.wait();
    std::printf("all workers complete\n");
  });
}
