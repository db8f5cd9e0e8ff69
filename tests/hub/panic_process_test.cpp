// panic_process_test.cpp — a panic is never lost once a client is bound: child processes
// (programs/panic_child.cpp) panic in a wg.go goroutine or in main with an HTTP client
// bound to a local receiver. Every run must exit with status 2 after printing the panic
// line, and the receiver must have the run's event, exactly once, schema-valid, with the
// scope's tag and breadcrumb and the stack trace of the throw site in the goroutine.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "support.hpp"

extern char** environ;

namespace {

struct outcome {
  int status = -1;
  std::string err;
};

// Runs panic_child with GOMAXPROCS=procs; stderr goes to a file read back afterwards.
outcome run_child(const std::string& dsn, const char* mode, const std::string& tag, int procs) {
  const std::string err_path = "panic_child." + tag + ".err";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("GOMAXPROCS=", 0) != 0) env_s.emplace_back(*e);
  }
  env_s.push_back("GOMAXPROCS=" + std::to_string(procs));
  std::vector<char*> env;
  for (auto& s : env_s) env.push_back(s.data());
  env.push_back(nullptr);
  std::string d = dsn, m = mode, t = tag;
  char* argv[] = {const_cast<char*>(RT_PANIC_CHILD), d.data(), m.data(), t.data(), nullptr};
  pid_t pid = 0;
  outcome o;
  const int rc = posix_spawn(&pid, RT_PANIC_CHILD, &fa, nullptr, argv, env.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  rt::blocking([&] { ::waitpid(pid, &o.status, 0); });
  if (std::FILE* f = std::fopen(err_path.c_str(), "r")) {
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) o.err.append(buf, n);
    std::fclose(f);
  }
  std::remove(err_path.c_str());
  return o;
}

}  // namespace

TEST_CASE("a panic with an HTTP client bound: exit 2, the panic line, the event delivered") {
#if defined(RT_ASAN)
  const int runs = 10;
#else
  const int runs = 50;
#endif
  hubtest::http_receiver receiver;
  const std::string dsn = "http://pub@127.0.0.1:" + std::to_string(receiver.port()) + "/7";
  std::vector<std::string> tags;
  for (const char* mode : {"wg", "main"}) {
    for (int procs : {1, 2}) {
      for (int k = 0; k < runs; ++k) {
        const std::string tag =
            std::string(mode) + "-p" + std::to_string(procs) + "-" + std::to_string(k);
        // No CAPTURE across run_child: it parks, and doctest keeps captures per thread.
        const outcome o = run_child(dsn, mode, tag, procs);
        const std::string where = tag + ", stderr: " + o.err;
        CHECK_MESSAGE(WIFEXITED(o.status), where);
        CHECK_MESSAGE(WEXITSTATUS(o.status) == 2, where);
        CHECK_MESSAGE(o.err.find("std::runtime_error: boom-" + tag + "\n") != std::string::npos,
                      where);
        CHECK_MESSAGE(o.err.find("panic: goroutine ") != std::string::npos, where);
        tags.push_back(tag);
      }
    }
  }
  const auto requests = receiver.requests();
  for (const std::string& tag : tags) {
    int seen = 0;
    for (const auto& r : requests) {
      if (r.body.find("\"boom-" + tag + "\"") == std::string::npos) continue;
      ++seen;
      const std::string payload = hubtest::split_envelope(r.body).payload;
      CHECK_MESSAGE(hubtest::schema_errors(payload) == "", tag);
      const rt::json ev = rt::json::parse(payload);
      CHECK_MESSAGE(ev["tags"]["mode"] == tag.substr(0, tag.find('-')), tag);
      CHECK_MESSAGE(ev["breadcrumbs"]["values"][0]["message"] == "about to fail", tag);
      const rt::json& frames = ev["exception"]["values"][0]["stacktrace"]["frames"];
      const rt::json* top = nullptr;  // the innermost frame of the program's own code
      for (const rt::json& f : frames)
        if (f.value("in_app", false)) top = &f;
      REQUIRE_MESSAGE(top != nullptr, tag);
      CHECK_MESSAGE((*top)["function"].get<std::string>().find("fail_with") != std::string::npos,
                    tag);
      CHECK_MESSAGE((*top)["filename"] == "panic_child.cpp", tag);
      CHECK_MESSAGE(ev["debug_meta"]["images"].size() >= 1, tag);
    }
    CHECK_MESSAGE(seen == 1, tag);
  }
}
