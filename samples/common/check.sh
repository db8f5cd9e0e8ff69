# check.sh — sourced by the servers' CTest checks (samples/echo|chat|http/check.sh):
# running a server under test and checking how it starts and stops.
#
#   NAME=sample.echo PROG=rt_echo; source .../common/check.sh; server=$1
#
# Owns: $tmp (removed at exit) and the server's process ($pid, killed at exit if a check
# failed). Every wait is bounded, so a broken server fails the check, never hangs it.

set -euo pipefail
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "$NAME: FAIL: $*" >&2
  if [[ -s $tmp/stderr ]]; then sed 's/^/  server stderr: /' "$tmp/stderr" >&2; fi
  exit 1
}

# check_bad_address SERVER: an invalid port exits 1 and names the reason.
check_bad_address() {
  local rc=0
  "$1" 127.0.0.1:99999 >"$tmp/bad.out" 2>"$tmp/bad.err" || rc=$?
  [[ $rc == 1 ]] || fail "bad address: exit status $rc, want 1"
  grep -q "$PROG: listen tcp 127.0.0.1:99999: invalid port" "$tmp/bad.err" ||
    fail "bad address: stderr is '$(cat "$tmp/bad.err")'"
}

# start_server CMD...: runs `CMD 127.0.0.1:0` in the background with its stdout on a
# fifo read through fd 3 (its first line gives the port, its end of file tells that the
# server has exited) and its stderr in $tmp/stderr; sets $pid and $port.
start_server() {
  mkfifo "$tmp/stdout"
  "$@" 127.0.0.1:0 >"$tmp/stdout" 2>"$tmp/stderr" &
  pid=$!
  exec 3<"$tmp/stdout"
  local line=""
  read -r -t 10 -u 3 line || fail "no 'listening on' line within 10 s"
  [[ $line =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] || fail "first line is '$line'"
  port=${BASH_REMATCH[1]}
}

# interrupt_server FD...: sends SIGINT and checks that the clients on FD... read end of
# stream, that the server exits with status 0 after its shutdown line, and that it left
# no goroutine behind.
interrupt_server() {
  local fd rc rest status
  kill -INT "$pid"
  for fd in "$@"; do
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
  grep -q "^$PROG: Interrupt, shutting down\$" "$tmp/stderr" || fail "no shutdown line on stderr"
  if grep -q 'still alive' "$tmp/stderr"; then fail "goroutines left behind"; fi
  echo "$NAME: ok (port $port)"
}
