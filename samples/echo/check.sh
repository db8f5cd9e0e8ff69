#!/usr/bin/env bash
# check.sh — sample.echo: drives rt_echo (the binary is $1) through bash's /dev/tcp and
# checks that
#   * a bad address exits 1 with the reason on stderr;
#   * a second connection is served while the first is open and idle (one goroutine per
#     connection, not one connection at a time);
#   * 256 KiB of random bytes come back exactly;
#   * SIGINT ends the server with status 0: both clients read end of stream and no
#     goroutine is left behind.
# Every wait is bounded (read -t, timeout); the server is killed if a check fails.
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
  echo "sample.echo: FAIL: $*" >&2
  if [[ -s $tmp/stderr ]]; then sed 's/^/  server stderr: /' "$tmp/stderr" >&2; fi
  exit 1
}

# A bad address: exit status 1 and the reason.
rc=0
"$server" 127.0.0.1:99999 >"$tmp/bad.out" 2>"$tmp/bad.err" || rc=$?
[[ $rc == 1 ]] || fail "bad address: exit status $rc, want 1"
grep -q 'rt_echo: listen tcp 127.0.0.1:99999: invalid port' "$tmp/bad.err" ||
  fail "bad address: stderr is '$(cat "$tmp/bad.err")'"

# The server's stdout is a fifo: its first line gives the port, its end of file tells
# that the server has exited.
mkfifo "$tmp/stdout"
"$server" 127.0.0.1:0 >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
exec 3<"$tmp/stdout"
read -r -t 10 -u 3 line || fail "no 'listening on' line within 10 s"
[[ $line =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] || fail "first line is '$line'"
port=${BASH_REMATCH[1]}

exec 4<>"/dev/tcp/127.0.0.1/$port"
exec 5<>"/dev/tcp/127.0.0.1/$port"
printf 'ping\n' >&5
read -r -t 10 -u 5 reply || fail "second connection: no reply within 10 s"
[[ $reply == ping ]] || fail "second connection: got '$reply', want 'ping'"

# A background writer, so that neither side's socket buffers can fill up and stall.
size=262144
head -c "$size" /dev/urandom >"$tmp/sent"
cat "$tmp/sent" >&4 &
writer=$!
timeout 10 head -c "$size" <&4 >"$tmp/received" || fail "first connection: echo incomplete"
wait "$writer"
cmp -s "$tmp/sent" "$tmp/received" || fail "first connection: the bytes that came back differ"

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
grep -q '^rt_echo: Interrupt, shutting down$' "$tmp/stderr" || fail "no shutdown line on stderr"
if grep -q 'still alive' "$tmp/stderr"; then fail "goroutines left behind"; fi
echo "sample.echo: ok (port $port)"
