#!/usr/bin/env bash
# tools/bench/run.sh — every rt benchmark side by side with its Go twin (go/main.go,
# go/net/main.go) and, for five of them, its raw Boost.Fiber twin (boostfiber/bfbench.cpp):
# one run, one table.
#
#   tools/bench/run.sh                              # everything, REPS=5
#   ONLY="skynet pingpong_unbuf" tools/bench/run.sh # a subset (names below)
#   REPS=3 P1=0 tools/bench/run.sh                  # 3 repetitions, no GOMAXPROCS=1 rows
#   ONLY=net REPS=3 tools/bench/run.sh              # the network benches (~2.5 minutes)
#
# Benches: skynet spawn_join yield_ping idle_cpu pingpong_unbuf chan_buf1024
# mutex_counter select4 parked_memory parked_memory_1m timers million hub, and the
# network ones http_hello tcp_echo idle_conns http_sleep; in ONLY, "coordination" stands
# for pingpong_unbuf ... timers (issue 3's set), "net" for the network ones.
# Time (measured on the 2-core VM): about 24 minutes for REPS=5, of which
# parked_memory_1m and million (1,000,000 parked goroutines, ~15 s each side, a few GiB)
# take about half, the network benches about 4 (45 s a repetition, most of it
# http_hello's 10 s of wrk a side), spawn_join (Boost.Fiber's ~55 s a run) and idle_cpu
# (5 s a process) most of the rest.
#
# The network benches run a server — rt's samples (rt_echo, rt_http) or their Go twins
# in go/net/main.go — at GOMAXPROCS=2 on 127.0.0.1:0 (the address from its `listening
# on` line), load it over loopback from a client sharing the same 2 cores, and kill it:
#   http_hello  rt_http vs net/http, GET / ("Hello, World!"): wrk -t2 -c100 -d10s
#               --latency; http_hello (req/s) and http_hello_p99 (ms, wrk's 99th pct).
#   tcp_echo    rt_echo vs a goroutine-per-connection Go echo (16 KiB buffer, rt_echo's):
#               50 connections doing 64-byte round trips back to back, each echo
#               checked, 5 s after a 0.5 s warm-up (gonet echo-load); rt/s.
#   idle_conns  the same echo servers: 10,000 connections opened (16 dialers), each
#               checked by one round trip, then idle; the server's VmRSS growth per
#               connection (gonet idle); bytes.
#   http_sleep  rt_http vs net/http: 10,000 concurrent GET /sleep?ms=100, each on its own
#               connection, all must answer 200 (gonet sleep-load); http_sleep (ms, wall)
#               and http_sleep_threads (the server's peak Threads, sampled every 5 ms).
# The clients are gonet's modes (go/net/main.go), the same for both servers.
#
# Builds rt, rtbench, coordbench, hub_bench and bfbench (for the network benches the
# samples rt_echo and rt_http) in Release (build-bench/, JOBS parallel, default 2) and the
# Go twins (GO111MODULE=off; the hub's against Debian's sentry-go). Then REPS
# repetitions; in each, every selected bench runs rt, go, boostfiber (where it has a
# twin), one process each (for the network benches: server and client), back to back. Every process runs
# at GOMAXPROCS=2, which rt's worker count, Go's Ps and bfbench's threads all follow;
# the placement-sensitive benches (select4 yield_ping pingpong_unbuf chan_buf1024
# mutex_counter) then run again at GOMAXPROCS=1, their names suffixed _p1. spawn_join's
# processes also report their peak RSS (/usr/bin/time) as spawn_join_peak_rss.
#
# Prints each raw RESULT line as it comes, then per (bench, impl) `RESULT name= impl=
# value=<median> unit= runs= min= max=`, then per bench and peer `RATIO name=<bench>
# rt/<peer>=<rt median / peer median> worst=<w>`, w the slow modes' ratio: rt max / peer
# max, or rt min / peer min for the higher-is-better units (every unit ending in /s: ops/s,
# events/s, req/s, rt/s = round trips/s); every other unit (ms, ns/op, s, bytes, KiB, MiB,
# pct_core, percent, threads) is lower-is-better. The hub's clone cost is `RATIO
# name=clone_cost rt_hub10/rt_plain=`. Raw lines are kept in
# build-bench/bench-out/results.txt, the programs' stderr (wrk's report, the network
# clients' `# ...` notes: RSS and thread counts before/after) in stderr.txt there.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
REPS=${REPS:-5}
P1=${P1:-1}
JOBS=${JOBS:-2}
TMO=${TMO:-300}  # seconds a process may take
NET="http_hello tcp_echo idle_conns http_sleep"
ALL="skynet spawn_join yield_ping idle_cpu pingpong_unbuf chan_buf1024 mutex_counter select4
     parked_memory parked_memory_1m timers million hub $NET"
COORDINATION="pingpong_unbuf chan_buf1024 mutex_counter select4 parked_memory parked_memory_1m timers"
PLACEMENT="select4 yield_ping pingpong_unbuf chan_buf1024 mutex_counter"  # also at GOMAXPROCS=1
HAS_BF="skynet spawn_join pingpong_unbuf chan_buf1024 mutex_counter"
sel=""
for b in ${ONLY:-$ALL}; do
  case $b in coordination) sel+=" $COORDINATION" ;; net) sel+=" $NET" ;; *) sel+=" $b" ;; esac
done
ONLY=" $(echo $sel) "
in_list() { [[ " $(echo $2) " == *" $1 "* ]]; }
for b in $ONLY; do in_list "$b" "$ALL" || { echo "unknown bench '$b'; benches: $(echo $ALL)" >&2; exit 2; }; done
want() { [[ "$ONLY" == *" $1 "* ]]; }
want_any() { local b; for b in $1; do want "$b" && return 0; done; return 1; }

B=$ROOT/build-bench
OUT=$B/bench-out
bash tools/install-deps.sh bench || exit 1
TARGETS=""
want_any "${ALL//$NET/}" && TARGETS="rtbench coordbench hub_bench bfbench"
want_any "$NET" && TARGETS+=" rt_echo rt_http"
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DRT_BUILD_TESTS=OFF -DRT_BUILD_SAMPLES=ON >/dev/null || exit 1
cmake --build "$B" -j"$JOBS" --target $TARGETS >/dev/null ||
  { echo "build failed: cmake --build $B --target $TARGETS" >&2; exit 1; }
mkdir -p "$OUT"
export GOCACHE=${GOCACHE:-$B/gocache} GO111MODULE=off
go build -o "$OUT/gobench" tools/bench/go/main.go || exit 1
if want hub; then
  GOPATH=/usr/share/gocode go build -o "$OUT/gohubbench" tools/bench/hub/go/main.go || exit 1
fi
if want_any "$NET"; then
  go build -o "$OUT/gonet" tools/bench/go/net/main.go || exit 1
  # Each side's server and idle_conns' client hold 10,000 sockets (separate processes).
  [ "$(ulimit -n)" -ge 12000 ] || ulimit -n 12000 ||
    { echo "idle_conns and http_sleep need ulimit -n 12000 (hard limit $(ulimit -Hn))" >&2; exit 1; }
fi
RTB=$B/tools/bench/rtbench
COORD=$B/tools/bench/coordination/coordbench
HUB=$B/tools/bench/hub/hub_bench
BFB=$B/tools/bench/bfbench
GOB=$OUT/gobench
RT_ECHO=$B/samples/echo/rt_echo
RT_HTTP=$B/samples/http/rt_http
GONET=$OUT/gonet

LOG=$OUT/results.txt
: > "$LOG"
: > "$OUT/stderr.txt"
echo "# $(go version); $(g++ --version | head -1); boost $(dpkg-query -W -f='${Version}' libboost-fiber-dev 2>/dev/null)"
echo "# rt commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty'); $(nproc) cpus; REPS=$REPS; benches:$ONLY"

# run <gomaxprocs> <cmd...>: one process at GOMAXPROCS=<gomaxprocs>; its RESULT lines
# (names suffixed _p<gomaxprocs> unless it is 2) go out and into $LOG. With PEAK=<name>,
# also its peak RSS as `RESULT name=<name> impl=<its impl> value=<KiB> unit=KiB`.
run() {
  local p=$1 sfx="" out rc kb
  shift
  [ "$p" = 2 ] || sfx=_p$p
  echo "## GOMAXPROCS=$p $*" >> "$OUT/stderr.txt"
  out=$(GOMAXPROCS=$p /usr/bin/time -o "$OUT/peak.txt" -f %M timeout "$TMO" "$@" 2>>"$OUT/stderr.txt")
  rc=$?
  [ $rc -eq 0 ] || echo "# FAILED (exit $rc): GOMAXPROCS=$p ${*#$ROOT/}" | tee -a "$LOG"
  out=$(printf '%s\n' "$out" | grep '^RESULT' | sed "s/ name=\([^ ]*\)/ name=\1$sfx/")
  [ -n "$out" ] || return
  printf '%s\n' "$out" | tee -a "$LOG"
  if [ -n "${PEAK:-}" ] && [ $rc -eq 0 ]; then
    kb=$(tail -1 "$OUT/peak.txt")
    printf '%s\n' "$out" | sed -n "1s/^RESULT name=[^ ]* \(impl=[^ ]*\) .*/RESULT name=$PEAK$sfx \1 value=$kb unit=KiB/p" |
      tee -a "$LOG"
  fi
}

# bench <gomaxprocs> <name>: the bench's rt process, then its Go and Boost.Fiber twins.
bench() {
  local p=$1 b=$2 rt=$RTB args=$2 peak=""
  if [ "$b" = hub ]; then
    run "$p" "$HUB" clone_cost
    run "$p" "$HUB" capture
    run "$p" "$OUT/gohubbench" capture
    run "$p" "$HUB" throw_catch
    run "$p" "$HUB" capture_traced
    return
  fi
  case $b in
    pingpong_unbuf | chan_buf1024 | mutex_counter | select4 | timers | million) rt=$COORD ;;
    parked_memory) rt=$COORD args="parked_memory -n 100000" ;;
    parked_memory_1m) rt=$COORD args="parked_memory -n 1000000" ;;
    spawn_join) peak=spawn_join_peak_rss ;;
  esac
  PEAK=$peak run "$p" "$rt" $args
  PEAK=$peak run "$p" "$GOB" $args
  if in_list "$b" "$HAS_BF"; then PEAK=$peak run "$p" "$BFB" $args; fi
}

# start_server <gomaxprocs> <cmd...>: starts the server `cmd 127.0.0.1:0` in the
# background and waits (10 s at most) for its `listening on HOST:PORT` line; sets SPID
# and ADDR. stop_server kills it (TERM, KILL after 3 s); the traps make sure it does.
SPID=""
start_server() {
  local p=$1 i
  shift
  echo "## GOMAXPROCS=$p $* 127.0.0.1:0 (server)" >> "$OUT/stderr.txt"
  : > "$OUT/server.out"
  GOMAXPROCS=$p "$@" 127.0.0.1:0 > "$OUT/server.out" 2>> "$OUT/stderr.txt" &
  SPID=$! ADDR=""
  for i in $(seq 200); do
    ADDR=$(sed -n '1s/^listening on \([^ ]*\)$/\1/p' "$OUT/server.out")
    [ -n "$ADDR" ] && return 0
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.05
  done
  echo "# FAILED: no 'listening on' line from GOMAXPROCS=$p ${*#$ROOT/}" | tee -a "$LOG"
  stop_server
  return 1
}
server_running() {  # alive, not a zombie
  local st
  st=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$SPID/stat" 2>/dev/null)
  [ -n "$SPID" ] && [ -n "$st" ] && [ "$st" != Z ]
}
stop_server() {
  local i
  [ -n "$SPID" ] || return 0
  kill "$SPID" 2>/dev/null
  for i in $(seq 60); do server_running || break; sleep 0.05; done
  kill -9 "$SPID" 2>/dev/null
  wait "$SPID" 2>/dev/null
  SPID=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

# netbench <gomaxprocs> <name>: rt's server, then Go's, each loaded by the same gonet
# client (whose RESULT lines carry the server's impl); a server that died meanwhile is
# reported as a failure.
netbench() {
  local p=$1 b=$2 impl srv
  for impl in rt go; do
    case $b-$impl in
      http_*-rt) srv=$RT_HTTP ;;
      http_*-go) srv="$GONET http-server" ;;
      *-rt) srv=$RT_ECHO ;;
      *-go) srv="$GONET echo-server" ;;
    esac
    start_server "$p" $srv || continue
    case $b in
      http_hello) run "$p" "$GONET" wrk -impl $impl -addr "$ADDR" ;;
      tcp_echo) run "$p" "$GONET" echo-load -impl $impl -addr "$ADDR" ;;
      idle_conns) run "$p" "$GONET" idle -impl $impl -addr "$ADDR" -pid "$SPID" ;;
      http_sleep) run "$p" "$GONET" sleep-load -impl $impl -addr "$ADDR" -pid "$SPID" ;;
    esac
    server_running ||
      echo "# FAILED: the $b server died: GOMAXPROCS=$p ${srv#$ROOT/} (see stderr.txt)" | tee -a "$LOG"
    stop_server
  done
}

T0=$(date +%s)
for _ in $(seq "$REPS"); do
  for b in $ALL; do
    want "$b" || continue
    if in_list "$b" "$NET"; then netbench 2 "$b"; continue; fi
    bench 2 "$b"
    if [ "$P1" = 1 ] && in_list "$b" "$PLACEMENT"; then bench 1 "$b"; fi
  done
done
echo "# $(($(date +%s) - T0)) s; medians (units ending in /s: higher is better; every other unit lower)"

# Medians per (bench, impl), then each rt median against every peer's, and the pairs of
# rt rows that compare two rt variants (name=label:numerator:denominator).
awk -v pairs="clone_cost:spawn_join_hub10:spawn_join_plain throw_cost:throw_catch_traced:throw_catch_plain trace_cost:capture_message_traced:capture_message_plain" '
  function ratio(a, b) { return b > 0 ? sprintf("%.3f", a / b) : "nan" }
  function higher_better(u) { return u ~ /\/s$/ }
  /^RESULT/ {
    delete f
    for (i = 2; i <= NF; i++) { eq = index($i, "="); f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
    if (f["value"] == "nan" || f["value"] == "") next
    k = f["name"] "|" f["impl"]
    if (!(k in count)) { keys[++nkeys] = k; unit[k] = f["unit"] }
    v[k, ++count[k]] = f["value"] + 0
  }
  END {
    for (j = 1; j <= nkeys; j++) {
      k = keys[j]; n = count[k]
      for (a = 1; a <= n; a++) s[a] = v[k, a]
      for (a = 2; a <= n; a++) { x = s[a]; for (b = a - 1; b >= 1 && s[b] > x; b--) s[b + 1] = s[b]; s[b + 1] = x }
      med[k] = (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
      lo[k] = s[1]; hi[k] = s[n]
      split(k, p, "|")
      printf "RESULT name=%s impl=%s value=%.3f unit=%s runs=%d min=%.3f max=%.3f\n", p[1], p[2], med[k], unit[k], n, lo[k], hi[k]
    }
    for (j = 1; j <= nkeys; j++) {
      split(keys[j], p, "|")
      if (p[2] != "rt") continue
      r = keys[j]
      for (m = 1; m <= nkeys; m++) {
        split(keys[m], q, "|")
        if (q[1] != p[1] || q[2] == "rt") continue
        o = keys[m]
        w = higher_better(unit[r]) ? ratio(lo[r], lo[o]) : ratio(hi[r], hi[o])
        printf "RATIO name=%s rt/%s=%s worst=%s\n", p[1], q[2], ratio(med[r], med[o]), w
      }
    }
    np = split(pairs, pl, " ")
    for (j = 1; j <= np; j++) {
      split(pl[j], pr, ":")
      a = pr[2] "|rt"; b = pr[3] "|rt"
      if (!(a in med) || !(b in med)) continue
      sub(/^spawn_join_/, "", pr[2]); sub(/^spawn_join_/, "", pr[3])
      w = higher_better(unit[a]) ? ratio(lo[a], lo[b]) : ratio(hi[a], hi[b])
      printf "RATIO name=%s rt_%s/rt_%s=%s worst=%s\n", pr[1], pr[2], pr[3], ratio(med[a], med[b]), w
    }
  }' "$LOG"
