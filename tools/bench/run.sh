#!/usr/bin/env bash
# tools/bench/run.sh — every rt benchmark side by side with its Go twin (go/main.go) and,
# for five of them, its raw Boost.Fiber twin (boostfiber/bfbench.cpp): one run, one table.
#
#   tools/bench/run.sh                              # everything, REPS=5
#   ONLY="skynet pingpong_unbuf" tools/bench/run.sh # a subset (names below)
#   REPS=3 P1=0 tools/bench/run.sh                  # 3 repetitions, no GOMAXPROCS=1 rows
#
# Benches: skynet spawn_join yield_ping idle_cpu pingpong_unbuf chan_buf1024
# mutex_counter select4 parked_memory parked_memory_1m timers million hub; in ONLY,
# "coordination" stands for pingpong_unbuf ... timers (issue 3's set).
# Time (measured on the 2-core VM): about 20 minutes for REPS=5, of which
# parked_memory_1m and million (1,000,000 parked goroutines, ~15 s each side, a few GiB)
# take about half, spawn_join (Boost.Fiber's ~55 s a run) and idle_cpu (5 s a process)
# most of the rest.
#
# Builds rt, rtbench, coordbench, hub_bench and bfbench in Release (build-bench/, JOBS
# parallel, default 2) and the Go twins (GO111MODULE=off; the hub's against Debian's
# sentry-go). Then REPS repetitions; in each, every selected bench runs rt, go,
# boostfiber (where it has a twin), one process each, back to back. Every process runs
# at GOMAXPROCS=2, which rt's worker count, Go's Ps and bfbench's threads all follow;
# the placement-sensitive benches (select4 yield_ping pingpong_unbuf chan_buf1024
# mutex_counter) then run again at GOMAXPROCS=1, their names suffixed _p1. spawn_join's
# processes also report their peak RSS (/usr/bin/time) as spawn_join_peak_rss.
#
# Prints each raw RESULT line as it comes, then per (bench, impl) `RESULT name= impl=
# value=<median> unit= runs= min= max=`, then per bench and peer `RATIO name=<bench>
# rt/<peer>=<rt median / peer median> worst=<w>`, w the slow modes' ratio: rt max / peer
# max, or rt min / peer min for the higher-is-better units (ops/s, events/s); every other
# unit (ms, ns/op, s, bytes, KiB, MiB, pct_core, percent) is lower-is-better. The hub's
# clone cost is `RATIO name=clone_cost rt_hub10/rt_plain=`. Raw lines are kept in
# build-bench/bench-out/results.txt, the programs' stderr in stderr.txt there.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
REPS=${REPS:-5}
P1=${P1:-1}
JOBS=${JOBS:-2}
TMO=${TMO:-300}  # seconds a process may take
ALL="skynet spawn_join yield_ping idle_cpu pingpong_unbuf chan_buf1024 mutex_counter select4
     parked_memory parked_memory_1m timers million hub"
COORDINATION="pingpong_unbuf chan_buf1024 mutex_counter select4 parked_memory parked_memory_1m timers"
PLACEMENT="select4 yield_ping pingpong_unbuf chan_buf1024 mutex_counter"  # also at GOMAXPROCS=1
HAS_BF="skynet spawn_join pingpong_unbuf chan_buf1024 mutex_counter"
ONLY=${ONLY:-$ALL}
ONLY=" $(echo ${ONLY//coordination/$COORDINATION}) "
in_list() { [[ " $(echo $2) " == *" $1 "* ]]; }
for b in $ONLY; do in_list "$b" "$ALL" || { echo "unknown bench '$b'; benches: $(echo $ALL)" >&2; exit 2; }; done
want() { [[ "$ONLY" == *" $1 "* ]]; }

B=$ROOT/build-bench
OUT=$B/bench-out
bash tools/install-deps.sh bench || exit 1
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DRT_BUILD_TESTS=OFF -DRT_BUILD_SAMPLES=OFF >/dev/null || exit 1
cmake --build "$B" -j"$JOBS" --target rtbench coordbench hub_bench bfbench >/dev/null ||
  { echo "build failed: cmake --build $B --target rtbench coordbench hub_bench bfbench" >&2; exit 1; }
mkdir -p "$OUT"
export GOCACHE=${GOCACHE:-$B/gocache} GO111MODULE=off
go build -o "$OUT/gobench" tools/bench/go/main.go || exit 1
if want hub; then
  GOPATH=/usr/share/gocode go build -o "$OUT/gohubbench" tools/bench/hub/go/main.go || exit 1
fi
RTB=$B/tools/bench/rtbench
COORD=$B/tools/bench/coordination/coordbench
HUB=$B/tools/bench/hub/hub_bench
BFB=$B/tools/bench/bfbench
GOB=$OUT/gobench

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

T0=$(date +%s)
for _ in $(seq "$REPS"); do
  for b in $ALL; do
    want "$b" || continue
    bench 2 "$b"
    if [ "$P1" = 1 ] && in_list "$b" "$PLACEMENT"; then bench 1 "$b"; fi
  done
done
echo "# $(($(date +%s) - T0)) s; medians (ops/s, events/s: higher is better; every other unit lower)"

# Medians per (bench, impl), then each rt median against every peer's, and the pairs of
# rt rows that compare two rt variants (name=label:numerator:denominator).
awk -v pairs="clone_cost:spawn_join_hub10:spawn_join_plain" '
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
