#!/usr/bin/env bash
# cost_table_run.sh -- `cost: {model: table, file: F}` in a run configuration.
# One request at a time (100 s apart) on the tp=1 grid of
# tests/fixtures/cost_table_small.csv: a 256-token prompt is the measured
# prefill row (0.050 s), so TTFT = 0.050 s; each decode is batch 1, below the
# grid's smallest batch (8), clamped to its 0.020 s, so TPOT = 0.020 s.
set -u
fail() { echo "FAIL: $*"; exit 1; }
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
cp "$LS_FIXTURES/cost_table_small.csv" "$DIR/times.csv"
write() { # $1 = parallelism, $2 = cost file
cat > "$DIR/run.yaml" <<YAML
model: llama-3.1-8b
dtype: fp8
hardware: h100-sxm
parallelism: $1
cost: {model: table, file: $2}
workload:
  arrival: {process: constant, rate: 0.01}
  prompt_tokens: {dist: fixed, value: 256}
  output_tokens: {dist: fixed, value: 11}
  max_requests: 5
YAML
}
write tp1 times.csv   # relative to the configuration's folder
"$LLMSWEEP" run --config "$DIR/run.yaml" --json > "$DIR/out.json" || fail "run exit $?"
$LS_PYTHON - "$DIR/out.json" <<'PY' || fail "metrics"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["status"] == "ok", m
assert m["n_completed"] == 5, m["n_completed"]
assert abs(m["ttft_p50_s"] - 0.050) < 1e-9, m["ttft_p50_s"]
assert abs(m["tpot_p50_s"] - 0.020) < 1e-9, m["tpot_p50_s"]
PY
# a TP the table lacks fails at load time, naming the file and the TPs it has
write tp4 times.csv
"$LLMSWEEP" run --config "$DIR/run.yaml" > /dev/null 2> "$DIR/err" && fail "tp4 accepted"
grep -q "times.csv: no rows for tp=4 (the file has tp 2, 1)" "$DIR/err" || fail "tp message: $(cat "$DIR/err")"
grep -q "run.yaml:5: cost.file" "$DIR/err" || fail "no config line: $(cat "$DIR/err")"
# a malformed row names file:line
printf 'phase,tp,tokens,context,time_s\nprefill,1,256,0,0.05\ndecode,1,8,x,0.02\n' > "$DIR/bad.csv"
write tp1 bad.csv
"$LLMSWEEP" run --config "$DIR/run.yaml" > /dev/null 2> "$DIR/err" && fail "bad table accepted"
grep -q "bad.csv:3: column 'context'" "$DIR/err" || fail "row message: $(cat "$DIR/err")"
# the file key is required
write tp1 times.csv
sed -i 's/cost: .*/cost: {model: table}/' "$DIR/run.yaml"
"$LLMSWEEP" run --config "$DIR/run.yaml" > /dev/null 2> "$DIR/err" && fail "missing file accepted"
grep -q "cost.file: required" "$DIR/err" || fail "missing-file message: $(cat "$DIR/err")"
echo "cost_table_run: ok"
