#!/usr/bin/env bash
# check.sh <rt-source> <rt-build> <scratch> <mode>: builds and runs the consumer project
# against rt, mode `find_package` (after cmake --install into <scratch>/prefix) or
# `add_subdirectory`.
set -eu
src=$1 build=$2 scratch=$3 mode=$4
rm -rf "$scratch/$mode"
mkdir -p "$scratch/$mode"
if [ "$mode" = find_package ]; then
  cmake --install "$build" --prefix "$scratch/$mode/prefix" >/dev/null
  cmake -S "$src/tests/consumer" -B "$scratch/$mode/build" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH="$scratch/$mode/prefix" >/dev/null
else
  cmake -S "$src/tests/consumer" -B "$scratch/$mode/build" -DCMAKE_BUILD_TYPE=Release \
        -DRT_SOURCE_DIR="$src" >/dev/null
fi
cmake --build "$scratch/$mode/build" -j2 --target consumer >/dev/null
"$scratch/$mode/build/consumer"
