#!/usr/bin/env bash
# sweep_resume_extend.sh -- --resume of a specification that only adds configurations: the file
# takes the new expansion (ids follow the hashes), keeps its results and request rows, runs only
# the new configurations, and equals a fresh run of the larger specification; a specification
# that drops a configuration of the file is still refused.
. "$(dirname "$0")/sweep_lib.bash"
spec() { # PARALLELISM RATES
    cat <<YAML
name: extend-test
seed: 5
base:
  model: llama-3-8b
  hardware: h100-sxm
  cluster: dgx-h100
  parallelism: tp1
  scheduler: {policy: vllm-v1, max_num_seqs: 64}
  workload:
    arrival: {process: poisson, rate: 2}
    prompt_tokens: {dist: lognormal, mean: 512, stddev: 256}
    output_tokens: {dist: lognormal, mean: 64, stddev: 32}
    duration_s: 10
grid:
  parallelism: [$1]
  workload.arrival.rate: [$2]
YAML
}
spec "tp1, tp2" "2, 4" > "$T/small.yaml"
spec "tp1, tp2, dp2" "2, 3, 4" > "$T/big.yaml"    # 4 -> 9: new values in the middle move ids
spec "tp1, tp2" "2" > "$T/fewer.yaml"
"$LLMSWEEP" sweep "$T/small.yaml" -o "$T/x.h5" --requests all -q || fail "small run"
"$LLMSWEEP" sweep "$T/big.yaml" -o "$T/ref.h5" --requests all -q || fail "reference run"
"$LLMSWEEP" sweep "$T/big.yaml" -o "$T/x.h5" --resume 2>"$T/ext.err" || fail "extend: $(cat "$T/ext.err")"
grep -q "adds 5 configurations to the 4" "$T/ext.err" || fail "extend: message: $(cat "$T/ext.err")"
grep -q "4 configurations already done" "$T/ext.err" || fail "extend: old results not kept: $(cat "$T/ext.err")"
grep -q "5 configurations in" "$T/ext.err" || fail "extend: ran more than the 5 new ones: $(cat "$T/ext.err")"
"$PY" "$COMPARE" "$T/ref.h5" "$T/x.h5" || fail "extended file differs from a fresh run of the larger spec"
"$PY" - "$T/x.h5" "$T/ref.h5" <<'PY' || fail "extended file attributes / configs"
import sys, h5py
x, r = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for k in ("set_hash", "n_configs", "spec_text", "requests_mode"):
    assert x.attrs[k] == r.attrs[k], k
assert (x["/configs"]["config_hash"][:] == r["/configs"]["config_hash"][:]).all()
PY
ls "$T" | grep -q extend-tmp && fail "temporary file left behind"
# a specification without some of the file's configurations: refused, file untouched
cp "$T/x.h5" "$T/before.h5"
"$LLMSWEEP" sweep "$T/fewer.yaml" -o "$T/x.h5" --resume 2>"$T/fewer.err"; rc=$?
[ $rc -eq 1 ] && grep -q "7 of its 9 configurations are not in" "$T/fewer.err" ||
    fail "fewer: exit $rc $(cat "$T/fewer.err")"
cmp -s "$T/x.h5" "$T/before.h5" || fail "a refused resume changed the file"
# shards cannot take added configurations (ids decide shard membership)
"$LLMSWEEP" sweep "$T/small.yaml" -o "$T/s.h5" --shard 0/2 -q || fail "shard"
"$LLMSWEEP" sweep "$T/big.yaml" -o "$T/s.h5" --shard 0/2 --resume 2>"$T/sh.err"; rc=$?
[ $rc -eq 1 ] && grep -q "a shard cannot take added configurations" "$T/sh.err" || fail "shard extend: $rc $(cat "$T/sh.err")"
echo "sweep_resume_extend: ok"
