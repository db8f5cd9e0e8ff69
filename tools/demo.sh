#!/usr/bin/env bash
# tools/demo.sh — installs what is missing, builds rt in Release and runs the demo (and
# builds the servers, samples/echo|chat|http, that the README starts one command each).
set -eu
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target rt_demo rt_echo rt_chat rt_http
./build/samples/demo/rt_demo
