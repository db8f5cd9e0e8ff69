#!/usr/bin/env bash
# tools/install-deps.sh [build|bench] — installs, from Debian's packages, only what is
# missing for building and testing rt (build), or also for the benchmarks (bench).
set -eu
pkgs=(g++ cmake make libboost-fiber-dev libboost-context-dev libspdlog-dev doctest-dev
      libconcurrentqueue-dev nlohmann-json3-dev rapidjson-dev libcurl4-openssl-dev libboost-dev curl
      libunwind8 zlib1g-dev nodejs)
if [ "${1:-build}" = bench ]; then
  pkgs+=(golang-go golang-github-getsentry-sentry-go-dev time wrk gnuplot-nox)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
