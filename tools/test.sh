#!/usr/bin/env bash
# tools/test.sh — installs what is missing, builds rt (Release) and runs the whole test
# suite with CTest, then the tests again built with AddressSanitizer + UBSan.
# RT_SKIP_ASAN=1 skips the sanitizer run.
set -eu
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")
if [ "${RT_SKIP_ASAN:-0}" != 1 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRT_SANITIZE=address \
        -DRT_BUILD_BENCH=OFF -DRT_BUILD_SAMPLES=OFF
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_stack_use_after_return=0 \
                    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                    ctest --output-on-failure -j"$jobs" -E '^consumer\.')
fi
