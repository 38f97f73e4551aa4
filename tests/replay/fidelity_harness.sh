#!/usr/bin/env bash
# fidelity_harness.sh -- bench_fidelity runs every calibration point of
# bench/fidelity/points.yaml and prints one row per measured figure plus the
# group summary. A smoke run (20 requests per point): it checks that the
# harness and the points file work, not the error level (that is a benchmark:
# docs/FIDELITY.md).
set -u
fail() { echo "FAIL: $*"; exit 1; }
BENCH="$(dirname "$LLMSWEEP")/bench/bench_fidelity"
[ -x "$BENCH" ] || fail "no $BENCH (build the bench_fidelity target)"
POINTS="$LS_SOURCE_DIR/bench/fidelity/points.yaml"
OUT=$(mktemp) ; CSV=$(mktemp)
trap 'rm -f "$OUT" "$CSV"' EXIT
"$BENCH" --points "$POINTS" --max-requests 20 --csv "$CSV" >"$OUT" 2>/dev/null || fail "exit status $?"
# every published figure: 28 TensorRT-LLM rows, 2 MLPerf throughputs, 4 MLPerf latency
# percentiles, and the 4 latencies of the diagnostic MLPerf point
[ "$(grep -c '^| trtllm .* | output_tps |' "$OUT")" -eq 28 ] || fail "expected 28 TensorRT-LLM rows"
[ "$(grep -c '^| mlperf ' "$OUT")" -eq 10 ] || fail "expected 10 MLPerf rows (6 published figures, 4 diagnostic)"
[ "$(wc -l < "$CSV")" -eq 39 ] || fail "expected 38 CSV rows and a header"
grep -q '^| trtllm | 28 |' "$OUT" || fail "trtllm group summary"
grep -q '^| mlperf-latency | 4 |' "$OUT" || fail "mlperf-latency group summary"
# simulated values are numbers, not nan
! grep -q 'nan' "$CSV" || fail "a simulated value is NaN"
# a broken points file is an error naming it
echo "points: 3" > "$CSV"
"$BENCH" --points "$CSV" >/dev/null 2>"$OUT" && fail "bad points file accepted"
grep -q "$CSV" "$OUT" || fail "error does not name the file"
echo "fidelity_harness: ok"
