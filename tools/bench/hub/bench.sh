#!/usr/bin/env bash
# bench.sh — runs the hub benchmarks and their Go peer, prints RESULT and RATIO lines.
#   tools/bench/hub/bench.sh <build-dir>      (hub_bench must be built there)
# Environment: GOMAXPROCS (default 2), CLONE_N (default 1000000), CAPTURE_N (per
# goroutine, default 25000). The Go peer is built offline against Debian's sentry-go
# (GO111MODULE=off, GOPATH=/usr/share/gocode).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:?usage: bench.sh <build-dir>}" && pwd)"
bench="$build/tools/bench/hub/hub_bench"
[[ -x "$bench" ]] || { echo "bench.sh: $bench not built (cmake --build $build --target hub_bench)" >&2; exit 1; }
export GOMAXPROCS="${GOMAXPROCS:-2}"
clone_n="${CLONE_N:-1000000}"
capture_n="${CAPTURE_N:-25000}"

gobin="$build/tools/bench/hub/gohubbench"
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$build/tools/bench/hub/gocache" \
  go build -o "$gobin" "$here/go/main.go"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$bench" clone_cost "$clone_n" | tee -a "$out"
"$bench" capture "$capture_n" | tee -a "$out"
"$gobin" capture "$capture_n" | tee -a "$out"

value() { awk -v n="$1" -v i="$2" '$1=="RESULT" && $2=="name="n && $3=="impl="i {sub("value=","",$4); print $4}' "$out"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
echo "RATIO name=clone_cost rt_hub10/rt_plain=$(ratio "$(value spawn_join_hub10 rt)" "$(value spawn_join_plain rt)")"
echo "RATIO name=capture_message_8g rt/go=$(ratio "$(value capture_message_8g rt)" "$(value capture_message_8g go)")"
