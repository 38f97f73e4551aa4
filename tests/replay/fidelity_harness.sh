#!/usr/bin/env bash
# fidelity_harness.sh -- bench_fidelity runs every calibration point of
# bench/fidelity/points.yaml in full (about 2 s) and prints one row per
# measured figure plus the group summary. Checks the harness and the points
# file work, AND that fidelity does not get worse: the TensorRT-LLM group must
# keep issue 7's targets, median |error| <= 10% and no row worse than 25%
# (today 3.7% / 10.6%, docs/FIDELITY.md). The targets are read from the
# bench's own summary line, and cross-checked against the per-row CSV so the
# summary cannot drift from the rows it summarises.
set -u
fail() { echo "FAIL: $*"; exit 1; }
BENCH="$(dirname "$LLMSWEEP")/bench/bench_fidelity"
[ -x "$BENCH" ] || fail "no $BENCH (build the bench_fidelity target)"
POINTS="$LS_SOURCE_DIR/bench/fidelity/points.yaml"
OUT=$(mktemp) ; CSV=$(mktemp)
trap 'rm -f "$OUT" "$CSV"' EXIT
"$BENCH" --points "$POINTS" --csv "$CSV" >"$OUT" 2>/dev/null || fail "exit status $?"
# every published figure: 28 TensorRT-LLM rows, 2 MLPerf throughputs, 4 MLPerf latency
# percentiles, and the 4 latencies of the diagnostic MLPerf point
[ "$(grep -c '^| trtllm .* | output_tps |' "$OUT")" -eq 28 ] || fail "expected 28 TensorRT-LLM rows"
[ "$(grep -c '^| mlperf ' "$OUT")" -eq 10 ] || fail "expected 10 MLPerf rows (6 published figures, 4 diagnostic)"
[ "$(wc -l < "$CSV")" -eq 39 ] || fail "expected 38 CSV rows and a header"
grep -q '^| trtllm | 28 |' "$OUT" || fail "trtllm group summary"
grep -q '^| mlperf-latency | 4 |' "$OUT" || fail "mlperf-latency group summary"
# simulated values are numbers, not nan
! grep -q 'nan' "$CSV" || fail "a simulated value is NaN"

# the error level: "| trtllm | 28 | 3.7% | 10.6% | 10% / 25%: met |"
line=$(grep '^| trtllm | 28 |' "$OUT")
med=$(echo "$line" | awk -F'|' '{gsub(/[ %]/, "", $4); print $4}')
worst=$(echo "$line" | awk -F'|' '{gsub(/[ %]/, "", $5); print $5}')
echo "TensorRT-LLM: median |error| ${med}%, worst ${worst}% (targets 10% / 25%)"
awk -v m="$med" 'BEGIN { exit !(m ~ /^[0-9.]+$/ && m <= 10) }' ||
    fail "TensorRT-LLM median |error| ${med}% > 10% (issue 7's target; was 3.7%)"
awk -v w="$worst" 'BEGIN { exit !(w ~ /^[0-9.]+$/ && w <= 25) }' ||
    fail "TensorRT-LLM worst |error| ${worst}% > 25% (issue 7's target; was 10.6%)"
echo "$line" | grep -q ': met |' || fail "the bench itself says the TensorRT-LLM targets are missed"
# the same two numbers from the rows (CSV columns counted from the end, since the point
# name is free text: ...,group,metric,measured,simulated,rel_error): median and max |error|
read -r cmed cworst < <(awk -F, 'NR > 1 && $(NF - 4) == "trtllm" { e = $NF; if (e < 0) e = -e;
    print 100 * e }' "$CSV" | sort -g |
    awk '{ a[n++] = $1 } END { m = (n % 2) ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
          printf "%.1f %.1f\n", m, a[n - 1] }')
[ "$cmed" = "$med" ] || fail "summary median ${med}% but the CSV rows give ${cmed}%"
[ "$cworst" = "$worst" ] || fail "summary worst ${worst}% but the CSV rows give ${cworst}%"

# strategy orderings with every held-out fold's parameters (issue 11): a smoke cross-validation (50
# requests a point, so the fit means little) prints one row per fold and check; the TP2 < TP4 < TP8
# order issue 11 reports for vLLM on H100 holds, and the same-model pairs (Llama-3.3-70B on 2 x H100 TP2
# against 1 x H200 TP1) are checked in both 70B folds. Reversing the measured order must be flagged.
"$BENCH" --points "$POINTS" --only none --max-requests 50 --cross-validate mfu_max,iter_overhead_ms >"$OUT" 2>&1 ||
    fail "cross-validation exit status $?"
[ "$(grep -c '^| .* | vllm llama-3.1-70b fp8 h100 .* | yes |$' "$OUT")" -eq 10 ] ||
    { cat "$OUT"; fail "expected 10 right TP-order rows (2 checks x 4 folds + the all-columns fit)"; }
[ "$(grep -c 'against the other deployments of llama-3.3-70b, each workload | [0-9]*/14 pairs' "$OUT")" -eq 2 ] ||
    fail "expected the 70B deployment pairs in the two 70B folds"
grep -q '^strategy orderings right in every held-out fold: ' "$OUT" || fail "no ordering verdict"
sed 's/order: increasing/order: decreasing/' "$POINTS" >"$CSV"
"$BENCH" --points "$CSV" --only none --max-requests 50 --cross-validate mfu_max,iter_overhead_ms >"$OUT" 2>&1 ||
    fail "cross-validation (reversed order) exit status $?"
[ "$(grep -c 'saturated (200 q/s) output_tps .* | \*\*NO\*\* |$' "$OUT")" -eq 5 ] || fail "a reversed order is not flagged"
grep -q '^strategy orderings right in every held-out fold: NO$' "$OUT" || fail "the verdict ignores a wrong order"

# a broken points file is an error naming it
echo "points: 3" > "$CSV"
"$BENCH" --points "$CSV" >/dev/null 2>"$OUT" && fail "bad points file accepted"
grep -q "$CSV" "$OUT" || fail "error does not name the file"
echo "fidelity_harness: ok"
