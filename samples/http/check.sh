#!/usr/bin/env bash
# check.sh — sample.http: drives rt_http (the binary is $1) with curl and bash's /dev/tcp
# and checks that
#   * a bad address exits 1 with the reason on stderr;
#   * GET / answers exactly "Hello, World!" (200, text/plain), unknown paths 404, a wrong
#     method 405 with Allow, /sleep?ms=50 200 and /sleep?ms=x 400;
#   * POST /echo returns its body byte for byte (also after "Expect: 100-continue", which
#     gets its interim 100), and a body over 1 MiB gets 413;
#   * keep-alive: two HTTP/1.1 requests share one connection, HTTP/1.0 ones do not;
#   * a malformed request gets 400 and its connection closed, and the server goes on;
#   * GET /panic gets 500, the connection stays usable, and the event captured on that
#     request's hub carries its request id, method and URL;
#   * SIGINT ends the server with status 0: an idle keep-alive client reads end of
#     stream and no goroutine is left behind.
# Every wait is bounded (curl --max-time, read -t, timeout); the server is killed if a
# check fails.
NAME=sample.http PROG=rt_http
source "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
server=$1
# fetch ARGS...: curl with a time limit; prints the body, then what -w asks for.
fetch() { curl -sS --max-time 10 "$@"; }

check_bad_address "$server"

# SENTRY_DSN unset: events are logged as JSON on stderr.
start_server env -u SENTRY_DSN "$server"
url=http://127.0.0.1:$port

# Routes.
got=$(fetch -w ' %{http_code} %{content_type}' "$url/")
[[ $got == "Hello, World! 200 text/plain; charset=utf-8" ]] || fail "GET /: '$got'"
got=$(fetch -o /dev/null -w '%{http_code}' "$url/nope")
[[ $got == 404 ]] || fail "GET /nope: status $got, want 404"
fetch -o /dev/null -D "$tmp/headers" -X DELETE "$url/"
grep -q '^HTTP/1.1 405 ' "$tmp/headers" && grep -qi '^Allow: GET' "$tmp/headers" ||
  fail "DELETE /: want 405 with 'Allow: GET', got: $(cat "$tmp/headers")"
got=$(fetch -w ' %{http_code}' "$url/sleep?ms=50")
[[ $got == "slept 50 ms"$'\n'" 200" ]] || fail "GET /sleep?ms=50: '$got'"
got=$(fetch -o /dev/null -w '%{http_code}' "$url/sleep?ms=x")
[[ $got == 400 ]] || fail "GET /sleep?ms=x: status $got, want 400"

# POST /echo: the body comes back byte for byte.
head -c 100000 /dev/urandom >"$tmp/body"
fetch --data-binary "@$tmp/body" -H 'Content-Type: application/octet-stream' "$url/echo" \
  >"$tmp/echoed"
cmp -s "$tmp/body" "$tmp/echoed" || fail "POST /echo: the body that came back differs"
got=$(fetch -v --data-binary 'with continue' -H 'Expect: 100-continue' "$url/echo" 2>"$tmp/v")
[[ $got == "with continue" ]] || fail "POST /echo with Expect: got '$got'"
grep -q '^< HTTP/1.1 100 Continue' "$tmp/v" || fail "POST /echo with Expect: no 100 Continue"
head -c 1100000 /dev/zero >"$tmp/big"
got=$(fetch -o /dev/null -w '%{http_code}' --data-binary "@$tmp/big" "$url/echo")
[[ $got == 413 ]] || fail "POST /echo of 1.1 MB: status $got, want 413"

# Keep-alive: one connection for two HTTP/1.1 requests, one each for HTTP/1.0.
got=$(fetch -o /dev/null -o /dev/null -w '%{num_connects} ' "$url/" "$url/")
[[ $got == "1 0 " ]] || fail "HTTP/1.1 keep-alive: connects per request '$got', want '1 0 '"
got=$(fetch --http1.0 -o /dev/null -o /dev/null -w '%{num_connects} ' "$url/" "$url/")
[[ $got == "1 1 " ]] || fail "HTTP/1.0: connects per request '$got', want '1 1 '"

# A malformed request: 400, then the server closes the connection (cat sees end of stream
# rather than the time limit) and goes on serving.
exec 4<>"/dev/tcp/127.0.0.1/$port"
printf 'GARBAGE\r\n\r\n' >&4
timeout 10 cat <&4 >"$tmp/garbage" || fail "malformed request: connection not closed"
exec 4<&-
head -n1 "$tmp/garbage" | grep -q '^HTTP/1.1 400 Bad Request' ||
  fail "malformed request: got '$(cat "$tmp/garbage")'"
grep -qi '^Connection: close' "$tmp/garbage" || fail "malformed request: no 'Connection: close'"
got=$(fetch "$url/")
[[ $got == "Hello, World!" ]] || fail "GET / after a malformed request: '$got'"

# GET /panic as the second request on a connection: 500, the connection goes on (the third
# request reuses it), and the event carries this request's id, method and URL.
got=$(fetch -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}/%{num_connects} ' \
  "$url/" "$url/panic" "$url/")
[[ $got == "200/1 500/0 200/0 " ]] || fail "GET / /panic /: '$got', want '200/1 500/0 200/0 '"
re='^rt_http: GET /panic \(request ([0-9]+-2)\) threw std::runtime_error: the /panic handler always throws; captured event ([0-9a-f]{32})$'
log=$(grep -E "$re" "$tmp/stderr") || fail "no 'captured event' line for GET /panic"
[[ $log =~ $re ]]
request_id=${BASH_REMATCH[1]} event_id=${BASH_REMATCH[2]}
event=$(grep -F "{\"event_id\":\"$event_id\"" "$tmp/stderr") || fail "event $event_id not logged"
for want in "\"tags\":{\"request_id\":\"$request_id\"}" \
  '"request":{"method":"GET","url":"/panic"}' '"level":"error"' \
  '{"type":"std::runtime_error","value":"the /panic handler always throws","stacktrace":{"frames":['; do
  [[ $event == *"$want"* ]] || fail "event $event_id lacks $want: $event"
done
[[ $(grep -c '"event_id"' "$tmp/stderr") == 1 ]] || fail "want exactly one event captured"

# Shutdown with an idle keep-alive connection open: it reads end of stream.
exec 5<>"/dev/tcp/127.0.0.1/$port"
printf 'GET / HTTP/1.1\r\nHost: test\r\n\r\n' >&5
read -r -t 10 -u 5 status || fail "keep-alive client: no response"
[[ $status == $'HTTP/1.1 200 OK\r' ]] || fail "keep-alive client: status line '$status'"
while read -r -t 10 -u 5 header && [[ $header != $'\r' ]]; do :; done
read -r -t 10 -u 5 -N 13 body || fail "keep-alive client: no body"
[[ $body == "Hello, World!" ]] || fail "keep-alive client: body '$body'"
interrupt_server 5
