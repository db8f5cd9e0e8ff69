#!/usr/bin/env bash
# tools/header_cost.sh — what `#include <rt/rt.hpp>` costs a translation unit, against the
# standard headers it brings in anyway, measured in the same run.
#
#   bash tools/header_cost.sh [runs]      runs: -fsyntax-only repetitions (default 9)
#
# Two one-line programs are compiled with the project's compiler and -std=c++20:
#   rt.cpp   #include <rt/rt.hpp>
#   std.cpp  every standard library header that rt.cpp ends up including (found with -H,
#            so the baseline is exactly the standard part of rt.cpp)
#   json.cpp std.cpp plus <nlohmann/json.hpp>, the JSON library rt::json is (the hub's
#            extras and contexts): what of the cost is that library's
# and the script prints, for each, the preprocessed lines that are not blank (-E -P) and
# the median / min / max wall time of `-fsyntax-only` over `runs` interleaved compiles,
# then the difference in lines, the time ratio, and the lines per library beyond the
# standard ones. Targets (issue 12): at most 25,000 lines beyond the standard headers,
# -fsyntax-only at most 1.3x theirs. Needs only the compiler; builds nothing.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-9}
CXX=${CXX:-g++}
INC=(-Iinclude -Iruntime/include -Ischeduler/include -Ihub/include)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

echo '#include <rt/rt.hpp>' > "$T/rt.cpp"
# -H prints every header opened, with dots for the depth; the standard ones are those
# under the compiler's C++ include directory (libstdc++) that a non-standard header or
# the program included: their own internals (bits/...) follow from them.
std_dir=$("$CXX" -std=c++20 -xc++ -E -v /dev/null 2>&1 | sed -n 's|^ \(/[^ ]*/c++/[0-9]*\)$|\1|p' | head -1)
"$CXX" -std=c++20 "${INC[@]}" -H -fsyntax-only "$T/rt.cpp" 2>&1 >/dev/null |
  awk -v d="$std_dir/" '
    /^\.+ / { depth = length($1); file = $2
              if (index(file, d) == 1 && (!(depth - 1 in std) || !std[depth - 1])) {
                h = substr(file, length(d) + 1)
                if (h !~ /^(bits|ext|debug|backward|tr1|x86_64-linux-gnu)\//) print "#include <" h ">"
              }
              std[depth] = index(file, d) == 1 }' | sort -u > "$T/std.cpp"

{ cat "$T/std.cpp"; echo '#include <nlohmann/json.hpp>'; } > "$T/json.cpp"

lines() { "$CXX" -std=c++20 "${INC[@]}" -E -P "$1" | grep -c .; }
rt_lines=$(lines "$T/rt.cpp")
std_lines=$(lines "$T/std.cpp")
json_lines=$(lines "$T/json.cpp")

: > "$T/rt.times"
: > "$T/std.times"
: > "$T/json.times"
for _ in $(seq "$RUNS"); do
  for which in rt std json; do
    s=$(date +%s.%N)
    "$CXX" -std=c++20 "${INC[@]}" -fsyntax-only "$T/$which.cpp"
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.6f\n", e - s }' >> "$T/$which.times"
  done
done
stats() { sort -n "$1" | awk '{v[NR] = $1} END {printf "%.3f / %.3f / %.3f s", v[1], v[int((NR + 1) / 2)], v[NR]}'; }
median() { sort -n "$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "compiler: $("$CXX" --version | head -1)"
echo "standard headers reached from <rt/rt.hpp>: $(wc -l < "$T/std.cpp")"
printf '%-28s %10s   %s\n' "" "lines" "-fsyntax-only min / median / max ($RUNS runs)"
printf '%-28s %10d   %s\n' "#include <rt/rt.hpp>" "$rt_lines" "$(stats "$T/rt.times")"
printf '%-28s %10d   %s\n' "those standard headers" "$std_lines" "$(stats "$T/std.times")"
printf '%-28s %10d   %s\n' "... and <nlohmann/json.hpp>" "$json_lines" "$(stats "$T/json.times")"
echo "beyond the standard headers: $((rt_lines - std_lines)) lines (target <= 25000)"
ratio() { awk -v a="$(median "$T/$1.times")" -v b="$(median "$T/std.times")" 'BEGIN { printf "%.2f", a / b }'; }
echo "time ratio (medians): $(ratio rt) (target <= 1.3); <nlohmann/json.hpp> alone: $(ratio json)"
echo "non-standard lines by library:"
"$CXX" -std=c++20 "${INC[@]}" -E "$T/rt.cpp" |
  awk -v d="$std_dir/" '
    /^# [0-9]+ "/ { f = $3; gsub(/"/, "", f); next }
    NF == 0 { next }
    { # libstdc++, the C library and kernel headers, the compiler own: standard
      if (index(f, d) == 1 || f ~ /^</ || f ~ /^\/usr\/lib\/gcc\// ||
          f ~ /^\/usr\/include\/(x86_64-linux-gnu\/|[^\/]*\.h$|linux\/|asm)/) next
      if (f !~ /^\//) lib = "rt"; else { split(f, p, "/"); lib = p[4] }  # rt: relative paths
      n[lib]++ }
    END { for (l in n) printf "  %-12s %7d\n", l, n[l] }' | sort -k2 -nr
