#!/usr/bin/env bash
# tools/stress.sh — repeats the stress suite (CTest label `stress`: tests/stress and the
# run-queue unit test) to measure how often each test fails, at 2 and 4 workers.
#
#   bash tools/stress.sh [runs] [build-dir]      runs: default 100; build-dir: default build
#
# The build directory must already be built (Release or ASan; for an ASan build,
# ASAN_OPTIONS defaults to detect_stack_use_after_return=0 as in tools/test.sh). Each round
# runs every selected test once through CTest (its timeout, environment and pass rules
# apply), with as many tests at once as there are CPUs (STRESS_JOBS overrides). Prints a
# table of runs and failures per test and the commit tested; the output of failed runs is
# kept in <build-dir>/stress-logs/. Exits 1 when any run failed.
set -u
runs=${1:-100}
build=${2:-build}
cd "$(dirname "$0")/.."
root=$(pwd)
if [ ! -f "$build/CTestTestfile.cmake" ]; then
  echo "stress.sh: $build is not a configured build directory (build it first)" >&2
  exit 64
fi
build=$(cd "$build" && pwd)
jobs=${STRESS_JOBS:-$(nproc)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The stress suite at 2 and 4 workers, and the run-queue test (workers do not matter to it);
# STRESS_FILTER (a CTest -R regex) narrows it.
select=${STRESS_FILTER:-'\.p[24]$|^runq_tests$'}
logs="$build/stress-logs"
mkdir -p "$logs"
# The sources the build was configured from (not necessarily this checkout).
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
commit=$(git -C "${src:-$root}" log -1 --format=%h 2>/dev/null || echo "unknown (not a git checkout)")
if [ -n "$(git -C "${src:-$root}" status --porcelain -- scheduler runtime 2>/dev/null)" ]; then
  commit="$commit + uncommitted changes in scheduler/ or runtime/"
fi

declare -A total fails kinds
start=$(date +%s)
for ((i = 1; i <= runs; i++)); do
  out=$(cd "$build" && ctest -L stress -R "$select" -j"$jobs" --output-on-failure 2>&1)
  failed=0
  while IFS= read -r line; do
    # " 3/42 Test #40: stress.wake_stress.p2 ......***Failed    0.05 sec"
    name=$(sed -E 's/.*Test +#[0-9]+: ([^ ]+) .*/\1/' <<<"$line")
    # What follows the dots: "Passed  0.1 sec", "***Failed  Required regular ...",
    # "***Timeout 300.0 sec", "Subprocess aborted***Exception: ..." — keep its first words.
    status=$(sed -E 's/.*Test +#[0-9]+: [^ ]+ \.*[ *]*//; s/\*\*\*.*//; s/  .*//; s/ +[0-9.]+ sec.*//' <<<"$line")
    total[$name]=$((${total[$name]:-0} + 1))
    if [ "$status" != "Passed" ]; then
      fails[$name]=$((${fails[$name]:-0} + 1))
      case ",${kinds[$name]:-}," in
        *",$status,"*) ;;
        *) kinds[$name]="${kinds[$name]:+${kinds[$name]},}$status" ;;
      esac
      failed=1
    fi
  done < <(grep -E 'Test +#[0-9]+: ' <<<"$out")
  if [ $failed = 1 ]; then
    printf '%s\n' "$out" >"$logs/round-$i.log"
  fi
  nfail=0
  for n in "${!fails[@]}"; do nfail=$((nfail + fails[$n])); done
  printf '\rround %d/%d: %d failed runs so far' "$i" "$runs" "$nfail" >&2
done
echo >&2

echo
echo "stress suite: $runs rounds at 2 and 4 workers, $(($(date +%s) - start)) s"
echo "build: $build (sources: ${src:-?}, commit $commit)"
printf '%-34s %6s %9s  %s\n' test runs failures "how (CTest status)"
any=0
for name in $(printf '%s\n' "${!total[@]}" | sort); do
  f=${fails[$name]:-0}
  [ "$f" -gt 0 ] && any=1
  printf '%-34s %6d %9d  %s\n' "$name" "${total[$name]}" "$f" "${kinds[$name]:-}"
done
if [ $any = 1 ]; then
  echo "output of the rounds with failures: $logs/round-*.log"
  exit 1
fi
