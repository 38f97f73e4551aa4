#!/usr/bin/env bash
# fuzz.sh [SECONDS] [TARGET...] -- build the libFuzzer targets with clang (build-fuzz/) and run each
# for SECONDS (default 60) from its seed corpus (fuzz/seeds-*, grown in fuzz/corpus-*, git-ignored).
# Targets (default: all): config catalog import benchjson plan workload auto native azure vidur lengths burstgpt
# mooncake. Prints one line per target: executions, corpus size, findings. A finding (crash, leak,
# undefined behaviour, timeout) is kept in fuzz/findings/<target>/ and the script exits 1: turn it
# into a regression test that feeds the input through the real parser, then fix it.
# The time per target and the figures of the last run are in docs/TRACES.md, "Fuzzing".
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config catalog import benchjson plan workload auto native azure vidur lengths burstgpt mooncake)
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMSWEEP_FUZZ=ON >/dev/null || exit 2
fi
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null || exit 2
seeds_of() {
  case $1 in
    config | catalog | import | benchjson | plan | workload) echo "fuzz/seeds-$1" ;;
    *) echo "fuzz/seeds" ;; # the trace readers share one corpus
  esac
}
status=0
for t in "${targets[@]}"; do
  corpus=fuzz/corpus-$t found=fuzz/findings/$t log=build-fuzz/fuzz-$t.log
  mkdir -p "$corpus" "$found"
  build-fuzz/fuzz/fuzz_"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$found/" "$corpus" "$(seeds_of "$t")" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  n_found=$(find "$found" -type f | wc -l)
  printf '%-10s %6s s  %10s executions  %5s corpus  %s findings (exit %d)\n' "$t" "$secs" "${execs:-?}" \
    "$(find "$corpus" -type f | wc -l)" "$n_found" "$rc"
  if [ "$rc" -ne 0 ] || [ "$n_found" -gt 0 ]; then
    status=1
    grep -m3 -E 'ERROR|runtime error|SUMMARY' "$log" | sed 's/^/    /'
  fi
done
exit $status
