// evict_idle — the seed program's background goroutine that evicts idle clients every
// minute, with rt: a registry of clients (last-seen times under an rt::mutex) and a
// janitor goroutine driven by an rt::ticker that stops when its context is cancelled.
//
//   evict_idle                    # the real thing: sweeps every minute, idle limit 3 min
//   evict_idle --period-ms 20     # shortened: sweeps every 20 ms, idle limit 3 periods
//
// The demo: clients "alice", "bob" and "carol" connect; alice keeps talking; bob and
// carol go quiet. Within four sweeps bob and carol are evicted, alice never is. Prints
// "evicted bob", "evicted carol", then "remaining: alice" and "janitor stopped".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <rt/rt.hpp>

using namespace std::chrono;

class registry {
 public:
  explicit registry(rt::clock::duration idle_limit) : idle_limit_(idle_limit) {}

  // touch records activity of a client (connecting is the first activity).
  void touch(const std::string& name) {
    std::lock_guard lk(mu_);
    last_seen_[name] = rt::clock::now();
  }

  // evict_idle removes the clients idle for longer than the limit; returns their names.
  std::vector<std::string> evict_idle() {
    std::lock_guard lk(mu_);
    std::vector<std::string> gone;
    const auto now = rt::clock::now();
    for (auto it = last_seen_.begin(); it != last_seen_.end();) {
      if (now - it->second > idle_limit_) {
        gone.push_back(it->first);
        it = last_seen_.erase(it);
      } else {
        ++it;
      }
    }
    return gone;
  }

  std::vector<std::string> names() {
    std::lock_guard lk(mu_);
    std::vector<std::string> out;
    for (auto& [name, seen] : last_seen_) out.push_back(name);
    return out;
  }

 private:
  const rt::clock::duration idle_limit_;
  rt::mutex mu_;
  std::map<std::string, rt::clock::time_point> last_seen_;  // guarded by mu_
};

// janitor sweeps the registry every period until ctx is cancelled; reports evictions on
// `evicted` (closed when the janitor stops).
void janitor(rt::context ctx, registry& reg, rt::clock::duration period,
             rt::chan<std::string> evicted) {
  rt::ticker tick(period);
  for (bool stop = false; !stop;) {
    rt::select(rt::case_recv(tick.c,
                             [&](auto) {
                               for (auto& name : reg.evict_idle()) evicted.send(name);
                             }),
               rt::case_recv(ctx.done(), [&] { stop = true; }));
  }
  tick.stop();
  evicted.close();
}

int main(int argc, char** argv) {
  rt::clock::duration period = minutes(1);
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--period-ms") == 0) period = milliseconds(std::atoi(argv[i + 1]));
  }
  return rt::run([period] {
    registry reg(3 * period);
    auto [ctx, cancel] = rt::with_cancel(rt::context::background());
    auto evicted = rt::make_chan<std::string>();
    rt::wait_group janitors;
    janitors.go(janitor, ctx, std::ref(reg), period, evicted);

    for (const char* name : {"alice", "bob", "carol"}) reg.touch(name);
    // alice stays active (four times a period) until both quiet clients are gone.
    rt::ticker alice(period / 4);
    for (int gone = 0; gone < 2;) {
      rt::select(rt::case_recv(evicted,
                               [&](const std::optional<std::string>& name) {
                                 std::printf("evicted %s\n", name->c_str());
                                 ++gone;
                               }),
                 rt::case_recv(alice.c, [&](auto) { reg.touch("alice"); }));
    }
    cancel();
    while (evicted.recv()) {  // the janitor's last sweep, if any, then its close
    }
    janitors.wait();
    for (auto& name : reg.names()) std::printf("remaining: %s\n", name.c_str());
    std::printf("janitor stopped\n");
  });
}
