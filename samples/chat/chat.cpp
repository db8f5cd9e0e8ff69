// chat.cpp — rt_chat, a line-based chat server in Go's style: goroutines that share
// nothing but channels. Every line a client sends reaches every other client, prefixed
// with the sender's address ("127.0.0.1:40312: hello").
//
//   rt_chat [ADDR]     ADDR defaults to 127.0.0.1:8081; 127.0.0.1:0 picks a free port
//
// Prints exactly one line, "listening on HOST:PORT", to stdout once it accepts
// connections. A newcomer is told "you are HOST:PORT"; the others see "HOST:PORT has
// arrived" and, later, "HOST:PORT has left". SIGINT or SIGTERM stops it: every connection
// is closed (clients read end of stream), every goroutine ends, and it exits 0. A bad
// address exits 1 with the reason on stderr.
//
// Owns, per goroutine:
//   * broadcaster: the set of clients, changed only by the join, leave and message events
//     it receives on the room's channels (no lock anywhere);
//   * one reader per connection (serve): the conn's reading side; it joins the room,
//     posts each complete line and leaves at end of stream;
//   * one writer per connection: the conn's writing side, fed by the client's buffered
//     outbox; it closes the conn when the outbox is closed or a write fails;
//   * main: the listener (through samples::serve) and the shutdown context.
// A client whose outbox is full, or that takes over write_timeout to accept a line (it
// does not read), is dropped instead of stalling the room or the shutdown. Shutdown: the
// signal closes the listener; main cancels the context; the broadcaster closes every
// outbox; each writer flushes its outbox and closes its conn, which wakes its reader.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include <rt/rt.hpp>

#include "server.hpp"

namespace {

constexpr std::size_t outbox_capacity = 64;  // lines queued for a client before it is dropped
constexpr std::size_t max_line = 4096;       // a longer line is cut into pieces this long
constexpr std::uint64_t no_sender = 0;       // client ids start at 1
constexpr auto write_timeout = std::chrono::seconds(10);

// A line of text as sent to clients, shared by every outbox it is queued in.
using line = std::shared_ptr<const std::string>;

line make_line(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

struct client {
  std::uint64_t id = 0;
  std::string name;       // the remote address
  rt::chan<line> outbox;  // closed by the broadcaster only
};

struct message {
  std::uint64_t from = 0;
  line text;
};

// The broadcaster's inbox: unbuffered, so a reader's send completes once the
// broadcaster has taken the event.
struct room {
  rt::chan<client> joins = rt::make_chan<client>();
  rt::chan<std::uint64_t> leaves = rt::make_chan<std::uint64_t>();
  rt::chan<message> messages = rt::make_chan<message>();
};

// broadcaster owns the clients until ctx is cancelled, then closes every outbox.
void broadcaster(rt::context ctx, room r) {
  std::map<std::uint64_t, client> clients;
  // deliver queues l for c without waiting; a client whose outbox is full is dropped
  // (its writer ends and closes the conn). Returns false when c was dropped.
  auto deliver = [](client& c, const line& l) {
    if (c.outbox.try_send(l)) return true;
    std::fprintf(stderr, "rt_chat: dropping %s: it does not read\n", c.name.c_str());
    c.outbox.close();
    return false;
  };
  auto broadcast = [&](std::uint64_t from, const line& l) {
    for (auto it = clients.begin(); it != clients.end();) {
      if (it->first == from || deliver(it->second, l)) {
        ++it;
      } else {
        it = clients.erase(it);
      }
    }
  };
  // The room's channels are never closed, so every receive below carries a value.
  for (bool done = false; !done;) {
    rt::select(rt::case_recv(r.joins,
                             [&](std::optional<client> joined) {
                               client& c = joined.value();
                               broadcast(c.id, make_line(c.name + " has arrived\n"));
                               if (deliver(c, make_line("you are " + c.name + "\n")))
                                 clients.emplace(c.id, std::move(c));
                             }),
               rt::case_recv(r.leaves,
                             [&](std::optional<std::uint64_t> id) {
                               auto it = clients.find(id.value());
                               if (it == clients.end()) return;  // dropped already
                               it->second.outbox.close();
                               const std::string name = std::move(it->second.name);
                               clients.erase(it);
                               broadcast(no_sender, make_line(name + " has left\n"));
                             }),
               rt::case_recv(r.messages,
                             [&](std::optional<message> m) {
                               if (clients.contains(m.value().from)) broadcast(m->from, m->text);
                             }),
               rt::case_recv(ctx.done(), [&] { done = true; }));
  }
  for (auto& [id, c] : clients) c.outbox.close();
}

// send_or_done sends v on ch unless ctx is cancelled first; tells whether it was sent.
template <class T>
bool send_or_done(const rt::context& ctx, const rt::chan<T>& ch, T v) {
  bool sent = false;
  rt::select(rt::case_send(ch, v, [&] { sent = true; }), rt::case_recv(ctx.done()));
  return sent;
}

// write_outbox writes every line queued for the client until its outbox is closed and
// drained or a write fails or times out, then closes c (waking the reader, if parked).
void write_outbox(rt::net::conn& c, rt::chan<line> outbox) {
  try {
    for (line l : outbox) {
      c.set_write_deadline(rt::clock::now() + write_timeout);
      c.write(*l);
    }
  } catch (const rt::net::closed_error&) {
    // The reader's side ended first.
  } catch (const rt::net::timeout_error& e) {
    std::fprintf(stderr, "rt_chat: dropping a client: %s\n", e.what());
  } catch (const std::system_error& e) {
    if (!samples::peer_gone(e)) std::fprintf(stderr, "rt_chat: %s\n", e.what());
  }
  c.close();
}

// read_lines posts every complete line the client sends (without its "\r\n") until end
// of stream, a read error, the conn being closed by the writer, or ctx's cancellation.
void read_lines(const rt::context& ctx, const room& r, rt::net::conn& c, std::uint64_t id,
                const std::string& name) {
  auto post = [&](std::string_view text) {
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.empty()) return true;
    std::string out;
    out.reserve(name.size() + text.size() + 3);
    out.append(name).append(": ").append(text).push_back('\n');
    return send_or_done(ctx, r.messages, message{id, make_line(std::move(out))});
  };
  std::string pending;
  char buf[4096];
  try {
    while (const std::size_t n = c.read(std::span(buf))) {
      pending.append(buf, n);
      std::size_t start = 0;
      for (std::size_t eol; (eol = pending.find('\n', start)) != std::string::npos;
           start = eol + 1) {
        if (!post(std::string_view(pending).substr(start, eol - start))) return;
      }
      pending.erase(0, start);
      if (pending.size() >= max_line) {
        if (!post(pending)) return;
        pending.clear();
      }
    }
  } catch (const rt::net::closed_error&) {
    // The writer closed the conn: dropped, the peer is gone, or shutdown.
  } catch (const std::system_error& e) {
    if (!samples::peer_gone(e)) std::fprintf(stderr, "rt_chat: %s\n", e.what());
  }
}

// serve runs one connection: join, start the writer, read lines, leave, wait for the
// writer (which ends once the broadcaster closed the outbox, at leave or shutdown).
void serve(rt::context ctx, room r, rt::net::conn c, std::uint64_t id) {
  std::string name;
  try {
    name = c.remote_addr();
  } catch (const std::exception&) {  // the peer reset the connection already
    return;
  }
  auto outbox = rt::make_chan<line>(outbox_capacity);
  if (!send_or_done(ctx, r.joins, client{id, name, outbox})) return;
  rt::wait_group writer;
  writer.go(write_outbox, std::ref(c), outbox);
  read_lines(ctx, r, c, id, name);
  send_or_done(ctx, r.leaves, id);
  writer.wait();
}

}  // namespace

int main(int argc, char** argv) {
  int status = 0;
  const auto addr = samples::listen_address(argc, argv, "rt_chat", "127.0.0.1:8081", &status);
  if (!addr) return status;
  const sigset_t signals = samples::shutdown_signals();
  return rt::run([&] {
    auto [ctx, cancel] = rt::with_cancel(rt::context::background());
    const room r;
    rt::wait_group goroutines;  // the broadcaster and every reader (they wait for their writers)
    goroutines.go(broadcaster, ctx, r);
    const int result = samples::serve(
        "rt_chat", *addr, signals,
        [&](rt::net::conn c, std::uint64_t id) { goroutines.go(serve, ctx, r, std::move(c), id); });
    cancel();  // the broadcaster closes every outbox; each writer then closes its conn
    goroutines.wait();
    return result;
  });
}
