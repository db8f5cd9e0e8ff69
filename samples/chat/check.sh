#!/usr/bin/env bash
# check.sh — sample.chat: drives rt_chat (the binary is $1) with three clients on bash's
# /dev/tcp and checks that
#   * a bad address exits 1 with the reason on stderr;
#   * each client is told its name, and the others see it arrive;
#   * a line from one client reaches the other (its "\r\n" stripped, prefixed with the
#     sender's address), and never comes back to the sender;
#   * a client that disconnects is announced as gone;
#   * SIGINT ends the server with status 0: both remaining clients read end of stream and
#     no goroutine is left behind.
# Every wait is bounded (read -t); no line is looked for before the event that causes it
# has been observed. The server is killed if a check fails.
NAME=sample.chat PROG=rt_chat
source "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
server=$1

# expect FD WANT: the next line the client on FD reads is exactly WANT.
expect() {
  local got=""
  read -r -t 10 -u "$1" got || fail "client fd $1: no line within 10 s, want '$2'"
  [[ $got == "$2" ]] || fail "client fd $1: got '$got', want '$2'"
}

# connect FD: opens a client on FD and sets $name to the name the server gives it.
connect() {
  eval "exec $1<>/dev/tcp/127.0.0.1/$port"
  local hello=""
  read -r -t 10 -u "$1" hello || fail "client fd $1: no greeting within 10 s"
  [[ $hello =~ ^you\ are\ (127\.0\.0\.1:[0-9]+)$ ]] || fail "client fd $1: greeting '$hello'"
  name=${BASH_REMATCH[1]}
}

check_bad_address "$server"
start_server "$server"

connect 4
a=$name
connect 5
b=$name
expect 4 "$b has arrived"  # now both are in the room

printf 'hello from b\r\n' >&5
expect 4 "$b: hello from b"
printf 'hi b\n' >&4
expect 5 "$a: hi b"  # b's next line: its own line never came back

connect 6
c=$name
expect 4 "$c has arrived"
expect 5 "$c has arrived"
exec 6>&-
expect 4 "$c has left"
expect 5 "$c has left"

interrupt_server 4 5
