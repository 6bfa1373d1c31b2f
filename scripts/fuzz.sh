#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, ASan and UBSan
# (build-fuzz/, sbcore included), and runs one target or all of them, one
# after another, for SECONDS each.
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     (defaults: all, 600)
#   scripts/fuzz.sh --list                      the targets
# The growing corpus lives outside git, in $SB_FUZZ_WORK/<target>/corpus
# (default build-fuzz/work), seeded from tests/fuzz/corpus/<target>/;
# crashes, leaks and timeouts go to $SB_FUZZ_WORK/<target>/crashes/ and
# are printed. Exit status 1 when any target found something.
#   SB_FUZZ_ARGS   extra libFuzzer flags, e.g. "-max_len=65536"
#   SB_FUZZ_JOBS   parallel compile jobs (default: the number of cores)
#   SB_FUZZ_NO_BUILD=1  run the programs already in the build folder
set -euo pipefail
cd "$(dirname "$0")/.."

targets=()
for f in tests/fuzz/fuzz_*.c; do
  t=${f#tests/fuzz/fuzz_}
  targets+=("${t%.c}")
done
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${targets[@]}"
  exit 0
fi
want=${1:-all}
seconds=${2:-600}
build=${SB_FUZZ_BUILD:-build-fuzz}
work=${SB_FUZZ_WORK:-$build/work}
if [ "$want" != all ]; then
  [ -f "tests/fuzz/fuzz_$want.c" ] || { echo "fuzz.sh: no target '$want' (try --list)" >&2; exit 2; }
  targets=("$want")
fi

command -v clang >/dev/null || { echo "fuzz.sh: needs clang and libfuzzer (apt-get install clang libfuzzer-14-dev)" >&2; exit 2; }
if [ "${SB_FUZZ_NO_BUILD:-0}" != 1 ]; then
  CC=clang cmake -S . -B "$build" -DSB_FUZZ=ON -DSB_WERROR=ON -DSB_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"${SB_FUZZ_JOBS:-$(nproc)}" --target "${targets[@]/#/fuzz_}"
fi

found=0
for t in "${targets[@]}"; do
  dir=$work/$t
  mkdir -p "$dir/corpus" "$dir/crashes"
  touch "$dir/.start" # what is newer than this was found by this run
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  echo "== fuzz_$t for ${seconds}s (corpus $dir/corpus, log $dir/fuzz.log)"
  # -timeout: one input taking 10 s is a finding (a hang), not patience.
  set +e
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/crashes/" "${dict[@]}" ${SB_FUZZ_ARGS:-} \
    "$dir/corpus" "tests/fuzz/corpus/$t" >"$dir/fuzz.log" 2>&1
  status=$?
  set -e
  grep -E '^(#[0-9]+[[:space:]]+DONE|Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$dir/fuzz.log" || true
  echo "corpus folder: $(find "$dir/corpus" -type f | wc -l) files"
  crashes=$(find "$dir/crashes" -type f -newer "$dir/.start" | sort)
  if [ -n "$crashes" ] || [ $status -ne 0 ]; then
    found=1
    echo "!! fuzz_$t found something (exit $status); the report:"
    grep -E -A40 '^==[0-9]+==ERROR|runtime error|^ALARM|deadly signal|fuzz_[a-z_]+: ' "$dir/fuzz.log" | head -60 || true
    for c in $crashes; do
      echo "-- $c ($(stat -c %s "$c") bytes; replay: $build/tests/fuzz/fuzz_$t $c)"
      head -c 512 "$c" | od -c | head -20
    done
  fi
done
exit $found
