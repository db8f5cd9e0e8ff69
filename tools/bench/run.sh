#!/usr/bin/env bash
# tools/bench/run.sh — rt's benchmarks side by side with the Go and raw Boost.Fiber
# peers (../shared/peers), in one run, at GOMAXPROCS=2.
#
#   tools/bench/run.sh                      # everything (about 10 minutes)
#   ONLY="skynet spawn_join" tools/bench/run.sh
#   REPS=5 tools/bench/run.sh
#
# Builds rt in Release (build-bench/), the peers, then runs every benchmark REPS times,
# rt and its peers interleaved, and prints each raw RESULT line, then per (bench, impl)
# the median as `RESULT ... runs= min= max=` and `RATIO name=<bench> rt/<peer>=<x>`.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PEERS=${PEERS:-$ROOT/../shared/peers}
REPS=${REPS:-3}
ONLY=${ONLY:-"skynet spawn_join yield_ping idle_cpu coordination hub"}
export GOMAXPROCS=2
B=$ROOT/build-bench
OUT=$B/bench-out
want() { [[ " $ONLY " == *" $1 "* ]]; }

bash tools/install-deps.sh bench || exit 1
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DRT_BUILD_TESTS=OFF -DRT_BUILD_SAMPLES=OFF >/dev/null || exit 1
cmake --build "$B" -j2 >/dev/null || { echo "rt build failed" >&2; exit 1; }
mkdir -p "$OUT"
export GOCACHE=${GOCACHE:-$B/gocache} GOFLAGS=-mod=mod GO111MODULE=off
(cd "$PEERS/go" && go build -o "$OUT/gobench" main.go) || exit 1
(cd tools/bench/go && go build -o "$OUT/gobench_extra" main.go) || exit 1
g++ -std=c++17 -O2 -pthread "$PEERS/boostfiber/bfbench.cpp" -o "$OUT/bfbench" -lboost_fiber -lboost_context || exit 1

LOG=$OUT/results.txt
: > "$LOG"
echo "# $(go version); $(g++ --version | head -1); boost $(dpkg-query -W -f='${Version}' libboost-fiber-dev 2>/dev/null)"
echo "# rt commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty'); $(nproc) cpus; GOMAXPROCS=$GOMAXPROCS"

# run <cmd...>: keeps the RESULT lines of one process.
run() {
  local out
  out=$(timeout 300 "$@" 2>>"$OUT/stderr.txt") || echo "# FAILED ($?): $*" | tee -a "$LOG"
  printf '%s\n' "$out" | grep '^RESULT' | tee -a "$LOG"
}
# peak_rss <name> <impl> <cmd...>: the process's peak RSS (KiB) from /usr/bin/time.
peak_rss() {
  local name=$1 impl=$2
  shift 2
  local kb
  /usr/bin/time -f 'PEAK %M' "$@" 2>"$OUT/rss.txt" >/dev/null
  kb=$(awk '/^PEAK/ {print $2}' "$OUT/rss.txt")
  echo "RESULT name=$name impl=$impl value=${kb:-nan} unit=KiB" | tee -a "$LOG"
}

for r in $(seq "$REPS"); do
  if want skynet; then
    run "$B/tools/bench/rtbench" skynet
    run "$OUT/gobench" skynet
    run "$OUT/bfbench" skynet
  fi
  if want spawn_join; then
    run "$B/tools/bench/rtbench" spawn_join
    run "$OUT/gobench" spawn_join
    run "$OUT/bfbench" spawn_join
    peak_rss spawn_join_peak_rss rt "$B/tools/bench/rtbench" spawn_join
    peak_rss spawn_join_peak_rss go "$OUT/gobench" spawn_join
  fi
  if want yield_ping; then
    run "$B/tools/bench/rtbench" yield_ping
    run "$OUT/gobench_extra" yield_ping
  fi
done
if want idle_cpu; then  # 5 s each, once
  run "$B/tools/bench/rtbench" idle_cpu
  run "$OUT/gobench_extra" idle_cpu
fi
if want coordination; then
  # its raw per-run lines are RAW ...; its own medians (RESULT ... runs=) are skipped
  REPS=$REPS bash tools/bench/coordination/bench.sh "$B" | grep '^RAW name=' | sed 's/^RAW/RESULT/' | tee -a "$LOG"
fi
if want hub; then
  REPS=$REPS bash tools/bench/hub/bench.sh "$B" | grep '^RESULT' | grep -v ' runs=' | tee -a "$LOG"
fi

echo "# medians (ms, ns/op, KiB, bytes, pct: lower is better; ops/s, events/s: higher is better)"
awk '
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
      split(k, p, "|")
      printf "RESULT name=%s impl=%s value=%.3f unit=%s runs=%d min=%.3f max=%.3f\n", p[1], p[2], med[k], unit[k], n, s[1], s[n]
    }
    for (j = 1; j <= nkeys; j++) {
      split(keys[j], p, "|")
      if (p[2] != "rt") continue
      for (m = 1; m <= nkeys; m++) {
        split(keys[m], q, "|")
        if (q[1] == p[1] && q[2] != "rt" && med[keys[m]] > 0)
          printf "RATIO name=%s rt/%s=%.2f\n", p[1], q[2], med[keys[j]] / med[keys[m]]
      }
    }
  }' "$LOG"
