#!/usr/bin/env bash
# sweep_errors.sh -- a specification with errors is rejected before any work, the message naming
# the YAML path, the spec file:line and the configuration; a configuration failing at run time is
# recorded with status error and the rest complete; --resume runs the failed ones again.
. "$(dirname "$0")/sweep_lib.bash"
cd "$T"
# 1. a wrong type in one grid value (first hit: configuration 6)
sed 's/  parallelism: \[tp1, tp2, dp2\]/  parallelism: [tp1, tp2, dp2]\n  workload.prompt_tokens.mean: [512, lots]/' "$SMALL" > bad.yaml
line=$(grep -n "workload.prompt_tokens.mean: \[512, lots\]" bad.yaml | cut -d: -f1)
"$LLMSWEEP" sweep bad.yaml -o bad.h5 2>err1; rc=$?
[ $rc -eq 1 ] || fail "bad value: exit $rc"
grep -q "bad.yaml:$line" err1 || fail "bad value: no spec line $line: $(head -3 err1)"
grep -q "prompt_tokens.mean" err1 || fail "bad value: no YAML path: $(head -3 err1)"
grep -q "configuration 6 (parallelism=tp1 workload.prompt_tokens.mean=lots" err1 || fail "bad value: no configuration: $(head -3 err1)"
grep -q "nothing was run" err1 || fail "bad value: summary"
[ ! -e bad.h5 ] || fail "an invalid spec created its output"
# --dry-run validates too
"$LLMSWEEP" sweep bad.yaml --dry-run >out2 2>err2; rc=$?
[ $rc -eq 1 ] && grep -q "prompt_tokens.mean" err2 || fail "dry-run of a bad spec: exit $rc"
grep -q "configurations: 34" out2 || fail "dry-run count: $(head -3 out2)"
# 2. an unknown catalog name in an axis, under mpiexec: rejected by rank 0, every rank exits
sed 's/  parallelism: \[tp1, tp2, dp2\]/&\n  model: [llama-3-8b, llama-9b]/' "$SMALL" > big.yaml
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep big.yaml -o big.h5 2>err3; rc=$?
[ $rc -ne 0 ] || fail "unknown model: exit 0"
grep -q "model: unknown model 'llama-9b'" err3 && grep -q "model=llama-9b" err3 || fail "unknown model: message: $(head -3 err3)"
[ ! -e big.h5 ] || fail "unknown model created its output"
# 3. a malformed specification and an unknown key: file:line
printf 'name: x\nbase: {model: llama-3-8b\ngrid: [\n' > syntax.yaml
"$LLMSWEEP" sweep syntax.yaml --dry-run 2>err4; [ $? -eq 1 ] && grep -q "syntax.yaml:" err4 || fail "syntax error: $(cat err4)"
sed 's/^grid:/grdi:/' "$SMALL" > key.yaml
"$LLMSWEEP" sweep key.yaml --dry-run 2>err5; [ $? -eq 1 ] && grep -q "grdi" err5 || fail "unknown key: $(cat err5)"
# 3b. specifications that would silently differ from what is written: --dry-run refuses them,
#     naming the spec line (one grid axis of the small spec, edited)
check_bad() { # NAME SED-EXPR LINE-PATTERN MESSAGE
    sed "$2" "$SMALL" > "$1.yaml"
    local l; l=$(grep -n -- "$3" "$1.yaml" | head -1 | cut -d: -f1)
    "$LLMSWEEP" sweep "$1.yaml" --dry-run >/dev/null 2>"$1.err"; local rc=$?
    [ $rc -eq 1 ] || fail "$1: exit $rc: $(cat "$1.err")"
    grep -q "$1.yaml:$l" "$1.err" && grep -q -- "$4" "$1.err" || fail "$1: message: $(cat "$1.err")"
}
check_bad typo 's/  - {parallelism: dp2, scheduler.policy: sarathi, workload.arrival.rate: 2}/  - {parallism: tp1}/' parallism "'parallism' is not an axis"
check_bad never 's/  - {parallelism: dp2, scheduler.policy: sarathi, workload.arrival.rate: 2}/  - {parallelism: tp3}/' "tp3}" "tp3 never occurs"
check_bad dup 's/  parallelism: \[tp1, tp2, dp2\]/  parallelism: [tp1, tp2, dp2, tp1]/' "tp1, tp2, dp2, tp1" "configurations 0 (.*) and 17 (.*) are identical"
check_bad twice 's/  - {workload.arrival.rate: \[2, 4, 8\], /  - {parallelism: [tp1, tp2, dp2], workload.arrival.rate: [2, 4, 8], /' "{parallelism: \[tp1, tp2, dp2\], workload" "appears twice"
# a grid of 3,600,000 points (the product, never expanded) is refused at once with the count and the limit
vals=$(seq -s, 1 20)
sed "s/  parallelism: \[tp1, tp2, dp2\]/&\n  seed: [$vals]\n  workload.prompt_tokens.mean: [$vals]\n  workload.output_tokens.mean: [$vals]\n  scheduler.max_num_seqs: [$(seq -s, 1 25)]/" "$SMALL" > huge.yaml
"$LLMSWEEP" sweep huge.yaml --dry-run >/dev/null 2>huge.err; rc=$?
[ $rc -eq 1 ] && grep -q "the grid has 3600000 points (3 x 20 x 20 x 20 x 25 x 2 x 3), more than the limit of 1000000" huge.err &&
    grep -q LLMSWEEP_MAX_CONFIGS huge.err || fail "huge grid: exit $rc $(cat huge.err)"
# merge refuses a part whose /configs holds one hash twice, or two results of one configuration
"$LLMSWEEP" sweep "$SMALL" -o part.h5 --shard 0/3 -q || fail "shard for merge"
cp part.h5 duphash.h5; cp part.h5 duprow.h5
"$PY" - duphash.h5 duprow.h5 <<'PY' || fail "editing parts"
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    c = f["/configs"]; row = c[1]; row["config_hash"] = c[0]["config_hash"]; c[1] = row
with h5py.File(sys.argv[2], "r+") as f:
    r = f["/results"]; n = len(r); r.resize((n + 1,)); r[n] = r[0]
PY
"$LLMSWEEP" merge duphash.h5 -o m1.h5 2>m1.err; rc=$?
[ $rc -eq 1 ] && grep -q "configurations 0 and 1 with the same hash" m1.err || fail "merge of duplicate hashes: $rc $(cat m1.err)"
"$LLMSWEEP" merge duprow.h5 -o m2.h5 2>m2.err; rc=$?
[ $rc -eq 1 ] && grep -q "duprow.h5 holds two results for configuration" m2.err || fail "merge of duplicate rows: $rc $(cat m2.err)"
[ ! -e m1.h5 ] && [ ! -e m2.h5 ] || fail "a refused merge left its output"
# 4. failures at run time are results (injected: LS_SWEEP_FAIL_IDS is the test hook)
LS_SWEEP_FAIL_IDS=2,5 "$MPIEXEC" -n 2 -x LS_SWEEP_FAIL_IDS "$LLMSWEEP" sweep "$SMALL" -o run.h5 -q || fail "sweep with failures"
"$PY" - run.h5 <<'PY' || fail "failed configurations"
import sys, h5py
r = h5py.File(sys.argv[1], "r")["/results"][:]
assert sorted(r["config_id"]) == list(range(17))
for x in r:
    if x["config_id"] in (2, 5):
        assert x["status"] == b"error" and b"injected" in x["message"], x
    else:
        assert x["status"] == b"ok", x
PY
"$LLMSWEEP" sweep "$SMALL" -o run.h5 --resume -q 2>err6 || fail "resume of failures"
"$LLMSWEEP" sweep "$SMALL" -o ref.h5 -q || fail "reference"
"$PY" "$COMPARE" ref.h5 run.h5 || fail "failed configurations not rerun by --resume"
# usage errors
"$LLMSWEEP" sweep 2>/dev/null; [ $? -eq 2 ] || fail "no spec: exit"
"$LLMSWEEP" sweep "$SMALL" --requests some 2>/dev/null; [ $? -eq 2 ] || fail "--requests some"
"$LLMSWEEP" sweep "$SMALL" --shard 3/3 2>/dev/null; [ $? -eq 2 ] || fail "--shard 3/3"
"$LLMSWEEP" sweep --help | grep -q "usage: llmsweep sweep" || fail "--help"
echo "sweep_errors: ok"
