// send_email — fire-and-forget work from a request handler: the handler answers at
// once and the (slow) email goes out in its own goroutine. The wait_group only serves
// the graceful shutdown at the end of main.
#include <chrono>
#include <cstdio>
#include <string>

#include <rt/rt.hpp>

rt::wait_group in_flight;

void send_email(const std::string& user) {
  rt::sleep_for(std::chrono::milliseconds(200));  // the SMTP round trip
  std::printf("email sent to %s\n", user.c_str());
}

std::string handle_request(const std::string& user) {
  in_flight.go(send_email, user);  // fire and forget: the request does not wait
  return "request from " + user + " processed";
}

int main() {
  return rt::run([] {
    for (const char* user : {"alice", "bob", "carol"}) {
      std::printf("%s\n", handle_request(user).c_str());
    }
    in_flight.wait();  // graceful shutdown: let the emails go out before exiting
    std::printf("shutdown complete\n");
  });
}
