#!/usr/bin/env bash
# run_errors.sh -- bad inputs to `llmsweep run`: unknown keys name FILE:LINE and
# the key path, unknown names list the known ones, unknown flags exit 2.
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/bad.yaml" <<'YAML'
model: llama-3-70b
hardware: gh200-96gb
scheduler:
  policy: vllm-v1
  max_num_seq: 12
workload:
  arrival: {process: poisson, rate: 1}
  prompt_tokens: {dist: fixed, value: 10}
  output_tokens: {dist: fixed, value: 5}
  duration_s: 5
YAML
"$LLMSWEEP" run --config "$T/bad.yaml" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "unknown key: exit $rc"
grep -q "bad.yaml:5" "$T/err" || fail "unknown key: no file:line: $(cat "$T/err")"
grep -q "scheduler.max_num_seq" "$T/err" || fail "unknown key: no key path: $(cat "$T/err")"
grep -q "max_num_seqs" "$T/err" || fail "unknown key: the allowed keys are not listed"

sed 's/max_num_seq: 12/max_num_seqs: many/' "$T/bad.yaml" >"$T/type.yaml"
"$LLMSWEEP" run --config "$T/type.yaml" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "wrong type: exit $rc"
grep -q "type.yaml:5" "$T/err" && grep -q "scheduler.max_num_seqs" "$T/err" || fail "wrong type: $(cat "$T/err")"

"$LLMSWEEP" run --model llama-9 --rate 1 --prompt 10 --output 5 --duration 5 >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "unknown model: exit $rc"
grep -q "unknown model 'llama-9'" "$T/err" || fail "unknown model: $(cat "$T/err")"
grep -q "llama-3-70b" "$T/err" && grep -q "mixtral-8x7b" "$T/err" || fail "unknown model: known ones not listed"

"$LLMSWEEP" run --model llama-3-8b --parallelism tp4pp2dp2 --cluster '{base: gh200-quad, max_nodes: 2}' \
    --rate 1 --prompt 10 --output 5 --duration 5 >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "too many GPUs: exit $rc"
grep -q "needs 16 GPUs" "$T/err" || fail "too many GPUs: $(cat "$T/err")"

"$LLMSWEEP" run --parallelism tp4zz2 --model llama-3-8b --rate 1 --prompt 10 --output 5 --duration 5 \
    >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "tp4zz2" "$T/err" || fail "bad strategy: exit $rc $(cat "$T/err")"

"$LLMSWEEP" run --bogus-flag >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown flag: exit $rc"
grep -q "usage:" "$T/err" || fail "unknown flag: no usage"
"$LLMSWEEP" run --help | grep -q -- "--requests-out" || fail "--help"
"$LLMSWEEP" run --model llama-3-8b >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "workload" "$T/err" || fail "missing workload: exit $rc $(cat "$T/err")"
"$LLMSWEEP" run --config "$T/nope.yaml" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "missing file: exit $rc"
# a workload with no requests is an error, not status ok with NaN metrics:
# a trace window past the trace's end (its requests are at 0 and 1 s) ...
printf 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,100,10\n1,100,10\n' >"$T/two.csv"
"$LLMSWEEP" run --model llama-3-8b --hardware h100-sxm --trace "$T/two.csv" --set workload.start_s=100 --json \
    >"$T/empty.json" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "empty window: exit $rc"
grep -q "workload has no requests ($T/two.csv" "$T/err" || fail "empty window: $(cat "$T/err")"
"$LS_PYTHON" -c "import json,sys; d=json.load(open('$T/empty.json')); assert d['status']=='error' and 'no requests' in d['message'], d" \
    || fail "empty window: JSON status"
# ... and the same trace with its window in range runs
"$LLMSWEEP" run --model llama-3-8b --hardware h100-sxm --trace "$T/two.csv" --set workload.start_s=0 \
    >/dev/null 2>"$T/err" || fail "two requests: $(cat "$T/err")"
# a header-only trace
printf 'arrived_at,num_prefill_tokens,num_decode_tokens\n' >"$T/header.csv"
"$LLMSWEEP" run --model llama-3-8b --hardware h100-sxm --trace "$T/header.csv" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -Eq "no requests|no data rows" "$T/err" || fail "header-only trace: exit $rc $(cat "$T/err")"
echo "run_errors: ok"
