// counter — the mutex Counter seed program (Go tour's SafeCounter) with rt: 1000
// goroutines increment one key of a map guarded by an rt::mutex; the total is exact.
// Prints "somekey = 1000".
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include <rt/rt.hpp>

// counter is safe to use from many goroutines at once.
class counter {
 public:
  // inc increments the count for key. Parks (never blocks the worker) while another
  // goroutine holds the lock.
  void inc(const std::string& key) {
    std::lock_guard lk(mu_);
    ++v_[key];
  }

  // value returns the current count for key.
  int value(const std::string& key) {
    std::lock_guard lk(mu_);
    return v_[key];
  }

 private:
  rt::mutex mu_;
  std::map<std::string, int> v_;  // guarded by mu_
};

int main() {
  return rt::run([] {
    counter c;
    rt::wait_group wg;
    for (int i = 0; i < 1000; ++i) wg.go([&c] { c.inc("somekey"); });
    wg.wait();
    std::printf("somekey = %d\n", c.value("somekey"));
  });
}
