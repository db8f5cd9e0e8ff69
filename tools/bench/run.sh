#!/usr/bin/env bash
# tools/bench/run.sh — every rt benchmark side by side with its Go twin and, where it has
# one, its raw Boost.Fiber twin: one run, one table, one picture.
#
#   tools/bench/run.sh                              # everything, REPS=5
#   ONLY="skynet pingpong_unbuf" tools/bench/run.sh # a subset: benchmark or group names
#   REPS=3 P1=0 tools/bench/run.sh                  # 3 repetitions, no GOMAXPROCS=1 rows
#   ONLY=net REPS=3 tools/bench/run.sh              # the network benches (~2.5 minutes)
#
# Three programs, each with a registry of its benchmarks (`<program> list` prints it:
# `name group size tags about`, one a line): rtbench (rtbench.cpp + rt/, rt's side),
# gobench (go/, one Go package: the Go twins, the sentry-go twin, the network servers and
# clients) and bfbench (boostfiber/bfbench.cpp, raw Boost.Fiber, five twins). This script
# reads the three lists and runs each benchmark with every program that lists it, in the
# order of the lists (rtbench's, then the names only gobench has). ONLY= takes benchmark
# names and group names: foundation, coordination (issue 3's set), million, hub, net.
# The tags: p1 — placement-sensitive, run again at GOMAXPROCS=1, the result names
# suffixed _p1 (unless P1=0); peak_rss — each process also reports its peak RSS
# (/usr/bin/time) as <name>_peak_rss; server=<s> — a network client (gobench's), run
# against rt's server rt_<s> (samples/<s>/) and against `gobench <s>-server`.
# Time (measured on the 2-core VM): about 24 minutes for REPS=5, of which
# parked_memory_1m and million (1,000,000 parked goroutines, ~15 s each side, a few GiB)
# take about half, the network benches about 4 (45 s a repetition, most of it
# http_hello's 10 s of wrk a side), spawn_join (Boost.Fiber's ~55 s a run) and idle_cpu
# (5 s a process) most of the rest.
#
# The network benches run a server at GOMAXPROCS=2 on 127.0.0.1:0 (the address from its
# `listening on` line), load it over loopback from a gobench client sharing the same 2
# cores (the same client for both servers), and kill it:
#   http_hello  rt_http vs net/http, GET / ("Hello, World!"): wrk -t2 -c100 -d10s
#               --latency; http_hello (req/s) and http_hello_p99 (ms, wrk's 99th pct).
#   tcp_echo    rt_echo vs a goroutine-per-connection Go echo (16 KiB buffer, rt_echo's):
#               50 connections doing 64-byte round trips back to back, each echo
#               checked, 5 s after a 0.5 s warm-up; rt/s.
#   idle_conns  the same echo servers: 10,000 connections opened (16 dialers), each
#               checked by one round trip, then idle; the server's VmRSS growth per
#               connection; bytes.
#   http_sleep  rt_http vs net/http: 10,000 concurrent GET /sleep?ms=100, each on its own
#               connection, all must answer 200; http_sleep (ms, wall) and
#               http_sleep_threads (the server's peak Threads, sampled every 5 ms).
#
# Builds rt, rtbench and bfbench (and, when a network bench is selected, its servers) in
# Release (build-bench/, JOBS parallel, default 2) and gobench (GO111MODULE=off, against
# Debian's sentry-go in /usr/share/gocode). Then REPS repetitions; in each, every
# selected bench runs rt, go, boostfiber (where it has a twin), one process each (for the
# network benches: server and client), back to back. Every process runs at GOMAXPROCS=2,
# which rt's worker count, Go's Ps and bfbench's threads all follow.
#
# Prints each raw RESULT line as it comes, then per (bench, impl) `RESULT name= impl=
# value=<median> unit= runs= min= max=`, then per bench and peer `RATIO name=<bench>
# rt/<peer>=<rt median / peer median> worst=<w>`, w the slow modes' ratio: rt max / peer
# max, or rt min / peer min for the higher-is-better units (every unit ending in /s: ops/s,
# events/s, req/s, rt/s = round trips/s); every other unit (ms, ns/op, s, bytes, KiB, MiB,
# percent, threads) is lower-is-better. The hub's clone cost is `RATIO
# name=clone_cost rt_hub10/rt_plain=`. Raw lines are kept in
# build-bench/bench-out/results.txt, the programs' stderr (wrk's report, the network
# clients' `# ...` notes: RSS and thread counts before/after) in stderr.txt there. Last,
# ratios.gp draws the rt/Go ratios (Go/rt for the /s units, so that below 1 is always rt
# ahead) into bench-out/ratios.png and ratios.svg.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
REPS=${REPS:-5}
P1=${P1:-1}
JOBS=${JOBS:-2}
TMO=${TMO:-300}  # seconds a process may take
B=$ROOT/build-bench
OUT=$B/bench-out
export GOCACHE=${GOCACHE:-$B/gocache} GO111MODULE=off GOPATH=/usr/share/gocode

# build <target...>: cmake targets of build-bench/.
build() {
  cmake --build "$B" -j"$JOBS" --target "$@" >/dev/null ||
    { echo "build failed: cmake --build $B --target $*" >&2; exit 1; }
}

bash tools/install-deps.sh bench || exit 1
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DRT_BUILD_TESTS=OFF -DRT_BUILD_SAMPLES=ON >/dev/null || exit 1
build rtbench bfbench
mkdir -p "$OUT"
go build -o "$OUT/gobench" ./tools/bench/go || exit 1
declare -A PROG=([rt]=$B/tools/bench/rtbench [go]=$OUT/gobench [boostfiber]=$B/tools/bench/bfbench)

# The registries: per benchmark the impls that list it (IMPLS, in rt go boostfiber
# order), its group and its tags (TAGS, every list's, comma-separated); ALL in list order.
declare -A IMPLS GROUP TAGS
ALL=()
for impl in rt go boostfiber; do
  list=$("${PROG[$impl]}" list) || { echo "${PROG[$impl]} list failed" >&2; exit 1; }
  while read -r name group _ tags _; do
    [ -n "${GROUP[$name]+x}" ] || ALL+=("$name")
    GROUP[$name]=$group IMPLS[$name]+=" $impl" TAGS[$name]+=",$tags,"
  done <<< "$list"
done
has_tag() { [[ ${TAGS[$1]} == *",$2,"* ]]; }
server_of() { [[ ${TAGS[$1]} =~ ,server=([^,]*), ]] && echo "${BASH_REMATCH[1]}"; }

# The selection: ONLY's names, a group name standing for its benchmarks.
sel=" "
for w in ${ONLY:-${ALL[*]}}; do
  n=0
  for b in "${ALL[@]}"; do
    if [ "$b" = "$w" ] || [ "${GROUP[$b]}" = "$w" ]; then sel+="$b "; n=1; fi
  done
  [ $n = 1 ] || { echo "unknown bench '$w'; benches: ${ALL[*]}; groups: $(printf '%s\n' "${GROUP[@]}" | sort -u | xargs)" >&2; exit 2; }
done
want() { [[ "$sel" == *" $1 "* ]]; }

servers=()  # rt's servers of the selected network benches: their cmake targets
for b in "${ALL[@]}"; do
  s=$(server_of "$b") && want "$b" && [[ " ${servers[*]} " != *" rt_$s "* ]] && servers+=("rt_$s")
done
if [ ${#servers[@]} -gt 0 ]; then
  build "${servers[@]}"
  # Each side's server and idle_conns' client hold 10,000 sockets (separate processes).
  [ "$(ulimit -n)" -ge 12000 ] || ulimit -n 12000 ||
    { echo "idle_conns and http_sleep need ulimit -n 12000 (hard limit $(ulimit -Hn))" >&2; exit 1; }
fi

LOG=$OUT/results.txt
: > "$LOG"
: > "$OUT/stderr.txt"
echo "# $(go version); $(g++ --version | head -1); boost $(dpkg-query -W -f='${Version}' libboost-fiber-dev 2>/dev/null)"
echo "# rt commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty'); $(nproc) cpus; REPS=$REPS; benches:$sel"

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
  [ $rc -eq 0 ] || echo "# FAILED (exit $rc): GOMAXPROCS=$p ${*#"$ROOT"/}" | tee -a "$LOG"
  out=$(printf '%s\n' "$out" | grep '^RESULT' | sed "s/ name=\([^ ]*\)/ name=\1$sfx/")
  [ -n "$out" ] || return
  printf '%s\n' "$out" | tee -a "$LOG"
  if [ -n "${PEAK:-}" ] && [ $rc -eq 0 ]; then
    kb=$(tail -1 "$OUT/peak.txt")
    printf '%s\n' "$out" | sed -n "1s/^RESULT name=[^ ]* \(impl=[^ ]*\) .*/RESULT name=$PEAK$sfx \1 value=$kb unit=KiB/p" |
      tee -a "$LOG"
  fi
}

# bench <gomaxprocs> <name>: the bench in every program that lists it (rt, go, boostfiber).
bench() {
  local p=$1 b=$2 impl peak=""
  has_tag "$b" peak_rss && peak=${b}_peak_rss
  for impl in ${IMPLS[$b]}; do PEAK=$peak run "$p" "${PROG[$impl]}" "$b"; done
}

# start_server <gomaxprocs> <cmd...>: starts the server `cmd 127.0.0.1:0` in the
# background and waits (10 s at most) for its `listening on HOST:PORT` line; sets SPID
# and ADDR. stop_server kills it (TERM, KILL after 3 s); the traps make sure it does.
SPID=""
start_server() {
  local p=$1
  shift
  echo "## GOMAXPROCS=$p $* 127.0.0.1:0 (server)" >> "$OUT/stderr.txt"
  : > "$OUT/server.out"
  GOMAXPROCS=$p "$@" 127.0.0.1:0 > "$OUT/server.out" 2>> "$OUT/stderr.txt" &
  SPID=$! ADDR=""
  for _ in $(seq 200); do
    ADDR=$(sed -n '1s/^listening on \([^ ]*\)$/\1/p' "$OUT/server.out")
    [ -n "$ADDR" ] && return 0
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.05
  done
  echo "# FAILED: no 'listening on' line from GOMAXPROCS=$p ${*#"$ROOT"/}" | tee -a "$LOG"
  stop_server
  return 1
}
server_running() {  # alive, not a zombie
  local st
  st=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$SPID/stat" 2>/dev/null)
  [ -n "$SPID" ] && [ -n "$st" ] && [ "$st" != Z ]
}
stop_server() {
  [ -n "$SPID" ] || return 0
  kill "$SPID" 2>/dev/null
  for _ in $(seq 60); do server_running || break; sleep 0.05; done
  kill -9 "$SPID" 2>/dev/null
  wait "$SPID" 2>/dev/null
  SPID=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

# netbench <gomaxprocs> <name>: rt's server rt_<s>, then Go's `gobench <s>-server`, each
# loaded by the same client (the program listing the bench; its RESULT lines carry the
# server's impl); a server that died meanwhile is reported as a failure.
netbench() {
  local p=$1 b=$2 s impl client
  s=$(server_of "$b")
  client=${PROG[${IMPLS[$b]# }]}
  for impl in rt go; do
    if [ $impl = rt ]; then set -- "$B/samples/$s/rt_$s"; else set -- "${PROG[go]}" "$s-server"; fi
    start_server "$p" "$@" || continue
    run "$p" "$client" "$b" -impl $impl -addr "$ADDR" -pid "$SPID"
    server_running ||
      echo "# FAILED: the $b server died: GOMAXPROCS=$p ${*#"$ROOT"/} (see stderr.txt)" | tee -a "$LOG"
    stop_server
  done
}

T0=$(date +%s)
for _ in $(seq "$REPS"); do
  for b in "${ALL[@]}"; do
    want "$b" || continue
    if server_of "$b" >/dev/null; then netbench 2 "$b"; continue; fi
    bench 2 "$b"
    if [ "$P1" = 1 ] && has_tag "$b" p1; then bench 1 "$b"; fi
  done
done
echo "# $(($(date +%s) - T0)) s; medians (units ending in /s: higher is better; every other unit lower)"

# Medians per (bench, impl), then each rt median against every peer's, and the pairs of
# rt rows that compare two rt variants (name=label:numerator:denominator). The rt/Go
# ratios also go to ratios.dat for the picture, as time-like ratios: Go/rt for the
# higher-is-better units, so that below 1 always means rt ahead.
awk -v dat="$OUT/ratios.dat" -v pairs="clone_cost:spawn_join_hub10:spawn_join_plain throw_cost:throw_catch_traced:throw_catch_plain trace_cost:capture_message_traced:capture_message_plain" '
  function ratio(a, b) { return b > 0 ? sprintf("%.3f", a / b) : "nan" }
  function higher_better(u) { return u ~ /\/s$/ }
  BEGIN { printf "" > dat }
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
        if (q[2] != "go") continue
        if (higher_better(unit[r])) printf "%s(Go/rt) %s %s\n", p[1], ratio(med[o], med[r]), ratio(lo[o], lo[r]) > dat
        else printf "%s %s %s\n", p[1], ratio(med[r], med[o]), w > dat
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
# The picture of ratios.dat (needs two rt/Go ratios at least).
if [ "$(wc -l < "$OUT/ratios.dat")" -ge 2 ]; then
  gnuplot -e "dat='$OUT/ratios.dat'; out='$OUT/ratios'; sub='rt $(git rev-parse --short HEAD 2>/dev/null), REPS=$REPS'" \
    tools/bench/ratios.gp && echo "# picture: ${OUT#"$ROOT"/}/ratios.png, ratios.svg"
fi
