#!/usr/bin/env bash
# tools/test.sh [tsan] — installs what is missing, builds rt and runs its tests.
#   (no argument)  the whole suite built Release, then again built with AddressSanitizer +
#                  UBSan, then the race-detector programs built with ThreadSanitizer (the
#                  racy program must be reported, its locked twins must be clean). CI runs this.
#   tsan           the whole suite built with ThreadSanitizer (about 15 min on 2 cores:
#                  too long for CI, run before touching the scheduler or the primitives).
# RT_SKIP_ASAN=1 skips the AddressSanitizer run.
set -eu
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build
jobs=$(nproc)

# configure_sanitized DIR SANITIZER: a RelWithDebInfo build without benchmarks and samples.
configure_sanitized() {
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRT_SANITIZE="$2" \
        -DRT_BUILD_BENCH=OFF -DRT_BUILD_SAMPLES=OFF
}
# The consumer tests build a project against the installed rt: nothing sanitizer-specific.
run_tsan() {
  (cd build-tsan && TSAN_OPTIONS=halt_on_error=0 ctest --output-on-failure -j"$jobs" -E '^consumer\.' "$@")
}

if [ "${1:-}" = tsan ]; then
  configure_sanitized build-tsan thread
  cmake --build build-tsan -j"$jobs"
  run_tsan
  exit 0
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")
if [ "${RT_SKIP_ASAN:-0}" != 1 ]; then
  configure_sanitized build-asan address
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_stack_use_after_return=0 \
                    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                    ctest --output-on-failure -j"$jobs" -E '^consumer\.')
fi
configure_sanitized build-tsan thread
cmake --build build-tsan -j"$jobs" --target race_programs
run_tsan -R '^race\.'
