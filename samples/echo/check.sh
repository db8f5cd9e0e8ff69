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
NAME=sample.echo PROG=rt_echo
source "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
server=$1

check_bad_address "$server"
start_server "$server"

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

interrupt_server 4 5
