#!/usr/bin/env bash
# run.sh PROGRAM E2E_DIR — the ctest test hub_e2e_envelopes: runs PROGRAM (envelopes_e2e.cpp),
# which sends events through rt's HTTP transports and writes every envelope to a directory,
# then has Sentry's own parser (@sentry/core's parseEnvelope, from the tarball in E2E_DIR)
# check each of them with parse_envelopes.mjs.
#
# Owns: a fresh temporary directory (the unpacked package, the envelope files), removed on
# exit whatever happens. Invariant: exits 0 only if both halves passed; 77 (ctest's skip, see
# SKIP_RETURN_CODE) only when node is not installed; anything else is a failure.
set -eu
if [ $# -ne 2 ]; then
  echo "usage: run.sh PROGRAM E2E_DIR" >&2
  exit 64
fi
prog=$1
here=$2

if ! command -v node >/dev/null 2>&1; then
  echo "hub_e2e_envelopes: SKIPPED: node is not installed (tools/install-deps.sh installs Debian's nodejs)"
  exit 77
fi

shopt -s nullglob
tarballs=("$here"/sentry-core-*.tgz)
if [ ${#tarballs[@]} -ne 1 ]; then
  echo "hub_e2e_envelopes: expected exactly one sentry-core-*.tgz in $here, found ${#tarballs[@]}" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rt-hub-e2e.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/pkg" "$tmp/envelopes"
tar -xzf "${tarballs[0]}" -C "$tmp/pkg"

echo "== $prog (GOMAXPROCS=2)"
RT_E2E_ENVELOPE_DIR="$tmp/envelopes" GOMAXPROCS=2 "$prog"

echo "== node $(node --version) parse_envelopes.mjs ($(basename "${tarballs[0]}"))"
node "$here/parse_envelopes.mjs" "$tmp/pkg/package" "$tmp/envelopes"
