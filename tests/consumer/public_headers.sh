#!/usr/bin/env bash
# public_headers.sh — checks what a user's translation unit sees: each public header
# compiles on its own with only the installed include folders on the path, and
# <rt/rt.hpp> reaches no Boost and no spdlog header (nor one of rt's internal folders).
#
#   public_headers.sh <rt-source-dir> <c++-compiler>
set -u
src=$1
cxx=$2
inc=(-I"$src/include" -I"$src/runtime/include" -I"$src/scheduler/include" -I"$src/hub/include")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# The two adapters that need another library's headers by design are left out.
headers=$(cd "$src" && find include runtime/include scheduler/include hub/include -name '*.hpp' |
  sed 's|^[a-z]*/include/||;s|^include/||' | grep -v '^rt/net/asio.hpp$' | grep -v '^rt/hub/logging.hpp$' | sort)
for h in $headers; do
  printf '#include <%s>\n' "$h" > "$tmp/one.cpp"
  if ! "$cxx" -std=c++20 "${inc[@]}" -fsyntax-only "$tmp/one.cpp" 2> "$tmp/err"; then
    echo "FAIL: <$h> does not compile on its own:"; head -5 "$tmp/err"; fail=1
  fi
done
echo '#include <rt/rt.hpp>' > "$tmp/rt.cpp"
"$cxx" -std=c++20 "${inc[@]}" -H -fsyntax-only "$tmp/rt.cpp" 2> "$tmp/h" || { cat "$tmp/h"; exit 1; }
if grep -E '^\.+ .*/(boost|spdlog|fmt)/' "$tmp/h" | head -5 | grep .; then
  echo "FAIL: <rt/rt.hpp> reaches the headers above"; fail=1
fi
if grep -E '^\.+ .*/internal/' "$tmp/h" | head -5 | grep .; then
  echo "FAIL: <rt/rt.hpp> reaches rt's internal headers"; fail=1
fi
n=$(echo "$headers" | wc -w)
[ $fail -eq 0 ] && echo "public headers ok: $n compile alone; <rt/rt.hpp> includes no Boost, spdlog or internal header"
exit $fail
