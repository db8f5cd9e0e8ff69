#!/usr/bin/env bash
# bench.sh <build-dir> — the coordination benchmarks (issue 3), rt and Go side by side
# at GOMAXPROCS=2, interleaved in one run. Prints every run as "RAW ...", then one
# "RESULT name=<bench> impl=<rt|go> value=<median> unit=<u>" line per (bench, impl) and
# "RATIO name=<bench> rt/go=<r>" lines (for every unit here, lower is better).
#
#   tools/bench/coordination/bench.sh build-coord                 # all, ~2-3 min
#   REPS=5 tools/bench/coordination/bench.sh build-coord          # more repetitions
#   ONLY="pingpong_unbuf select4" tools/bench/coordination/bench.sh build-coord
#
# Go programs: ../shared/peers/go/main.go (pingpong_unbuf, chan_buf1024, mutex_counter,
# parked_memory) is built from where it lives; go/main.go here has select4 and timers.
# Needs: go (golang-go), and coordbench built in <build-dir>.
set -u
[ $# -ge 1 ] || { echo "usage: $0 <build-dir>" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$1" && pwd) || exit 2
PEERS=${PEERS:-$HERE/../../../../shared/peers/go}
[ -d "$PEERS" ] || PEERS=/work/shared/peers/go
REPS=${REPS:-3}
ONLY=${ONLY:-"pingpong_unbuf chan_buf1024 mutex_counter select4 parked_memory parked_memory_1m timers"}
TMO=${TMO:-300}
export GOMAXPROCS=2

RT=$BUILD/tools/bench/coordination/coordbench
[ -x "$RT" ] || { echo "missing $RT: build the coordbench target first" >&2; exit 1; }
command -v go >/dev/null || { echo "missing go: apt-get install -y golang-go" >&2; exit 1; }

OUT=$BUILD/bench-coordination
mkdir -p "$OUT"
(cd "$PEERS" && go build -o "$OUT/gobench" main.go) || exit 1
(cd "$HERE/go" && go build -o "$OUT/gocoord" main.go) || exit 1
LOG=$OUT/raw-$(date +%Y%m%d-%H%M%S).txt
: > "$LOG"
echo "# $(go version); host: $(nproc) cpus; GOMAXPROCS=$GOMAXPROCS; reps=$REPS"

# run <cmd...>: one process; its RESULT lines go to $LOG and out as RAW lines.
run() {
  local out rc
  out=$(timeout "$TMO" "$@" 2>>"$LOG.stderr"); rc=$?
  [ $rc -ne 0 ] && echo "RAW FAIL rc=$rc cmd=$*" | tee -a "$LOG"
  printf '%s\n' "$out" | grep '^RESULT' | tee -a "$LOG" | sed 's/^RESULT/RAW/'
}
want() { [[ " $ONLY " == *" $1 "* ]]; }

for b in pingpong_unbuf chan_buf1024 mutex_counter; do
  want $b || continue
  for _ in $(seq "$REPS"); do run "$OUT/gobench" $b; run "$RT" $b; done
done
if want select4; then
  for _ in $(seq "$REPS"); do run "$OUT/gocoord" select4; run "$RT" select4; done
fi
if want parked_memory; then
  for _ in $(seq "$REPS"); do run "$OUT/gobench" parked_memory -n 100000; run "$RT" parked_memory -n 100000; done
fi
if want parked_memory_1m; then  # once each: it takes seconds and a few GiB
  run "$OUT/gobench" parked_memory -n 1000000
  run "$RT" parked_memory -n 1000000
fi
if want timers; then
  for _ in $(seq "$REPS"); do run "$OUT/gocoord" timers; run "$RT" timers; done
fi

echo "# raw log: $LOG (stderr: $LOG.stderr)"
grep '^RESULT' "$LOG" | awk '
  {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    key = f["name"] SUBSEP f["impl"]
    if (!(key in n)) { order[++k] = key; unit[key] = f["unit"] }
    vals[key, ++n[key]] = f["value"] + 0
  }
  END {
    for (j = 1; j <= k; j++) {
      key = order[j]; m = n[key]
      for (a = 1; a <= m; a++) v[a] = vals[key, a]
      for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (v[b] < v[a]) { t = v[a]; v[a] = v[b]; v[b] = t }
      med = (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
      split(key, p, SUBSEP); median[key] = med
      printf "RESULT name=%s impl=%s value=%.3f unit=%s runs=%d min=%.3f max=%.3f\n", p[1], p[2], med, unit[key], m, v[1], v[m]
    }
    for (j = 1; j <= k; j++) {
      key = order[j]; split(key, p, SUBSEP)
      if (p[2] != "rt") continue
      g = p[1] SUBSEP "go"
      if ((g in median) && median[g] > 0) printf "RATIO name=%s rt/go=%.2f\n", p[1], median[key] / median[g]
    }
  }'
