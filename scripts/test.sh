#!/usr/bin/env bash
# test.sh -- install what is missing, build, and run the whole test suite with ctest.
# (Options: --sanitize builds into build-asan with ASan+UBSan and runs the suite there.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
dir=build opts=()
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan opts=(-DLLMSWEEP_SANITIZE=ON)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
scripts/build.sh "$dir" "${opts[@]}"
cd "$dir"
ctest --output-on-failure -j"$(nproc)"
