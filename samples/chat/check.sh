#!/usr/bin/env bash
# check.sh — sample.chat: drives rt_chat (the binary is $1) with three clients on bash's
# /dev/tcp and checks that
#   * each client is told its name, and the others see it arrive;
#   * a line from one client reaches the other (its "\r\n" stripped, prefixed with the
#     sender's address), and never comes back to the sender;
#   * a client that disconnects is announced as gone;
#   * SIGINT ends the server with status 0: both remaining clients read end of stream and
#     no goroutine is left behind.
# Every wait is bounded (read -t); no line is looked for before the event that causes it
# has been observed. The server is killed if a check fails.
set -euo pipefail

server=$1
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "sample.chat: FAIL: $*" >&2
  if [[ -s $tmp/stderr ]]; then sed 's/^/  server stderr: /' "$tmp/stderr" >&2; fi
  exit 1
}

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

# The server's stdout is a fifo: its first line gives the port, its end of file tells
# that the server has exited.
mkfifo "$tmp/stdout"
"$server" 127.0.0.1:0 >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
exec 3<"$tmp/stdout"
read -r -t 10 -u 3 line || fail "no 'listening on' line within 10 s"
[[ $line =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] || fail "first line is '$line'"
port=${BASH_REMATCH[1]}

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

kill -INT "$pid"
for fd in 4 5; do
  rc=0
  read -r -t 10 -u "$fd" rest || rc=$?
  [[ $rc == 1 && -z $rest ]] ||
    fail "client fd $fd after SIGINT: read status $rc ('$rest'), want end of stream (1)"
done
rc=0
read -r -t 10 -u 3 rest || rc=$?
[[ $rc == 1 ]] || fail "the server still runs 10 s after SIGINT"
status=0
wait "$pid" || status=$?
pid=""
[[ $status == 0 ]] || fail "exit status $status after SIGINT, want 0"
grep -q '^rt_chat: Interrupt, shutting down$' "$tmp/stderr" || fail "no shutdown line on stderr"
if grep -q 'still alive' "$tmp/stderr"; then fail "goroutines left behind"; fi
echo "sample.chat: ok (port $port)"
