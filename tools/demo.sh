#!/usr/bin/env bash
# tools/demo.sh — installs what is missing, builds rt in Release and runs the demo.
set -eu
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target rt_demo
./build/samples/demo/rt_demo
