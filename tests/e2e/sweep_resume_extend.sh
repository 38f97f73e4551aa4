#!/usr/bin/env bash
# sweep_resume_extend.sh -- growing a study: --resume of a specification that only adds
# configurations: the file takes the new expansion (ids follow the hashes), keeps its results and
# request rows, runs only the new configurations (counted by the summary, the row count and the
# run's rows_added in /history), and equals a fresh run of the larger specification; the file
# records every specification revision and every run (ranks, spec hash, revision, rows added);
# a specification that drops a configuration of the file, or changes the base, is still refused
# with a message saying what changed.
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
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$T/big.yaml" -o "$T/x.h5" --resume 2>"$T/ext.err" || fail "extend: $(cat "$T/ext.err")"
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
[ "$(rows "$T/x.h5")" = 9 ] || fail "extend: $(rows "$T/x.h5") result rows, expected 9"
# a third revision (one more rate: 3 new configurations), then a resume of the complete file
spec "tp1, tp2, dp2" "2, 3, 4, 6" > "$T/big2.yaml"
"$LLMSWEEP" sweep "$T/big2.yaml" -o "$T/ref2.h5" -q || fail "reference run 2"
"$LLMSWEEP" sweep "$T/big2.yaml" -o "$T/x.h5" --resume 2>"$T/ext2.err" || fail "extend 2: $(cat "$T/ext2.err")"
grep -q "3 configurations in" "$T/ext2.err" || fail "extend 2: ran more than the 3 new ones: $(cat "$T/ext2.err")"
"$PY" "$COMPARE" "$T/ref2.h5" "$T/x.h5" || fail "twice extended file differs from a fresh run of its spec"
"$LLMSWEEP" sweep "$T/big2.yaml" -o "$T/x.h5" --resume 2>"$T/ext3.err" || fail "resume complete: $(cat "$T/ext3.err")"
grep -q "nothing to run" "$T/ext3.err" || fail "resume complete: $(cat "$T/ext3.err")"
# the history: one row per run, rows_added counts only what each run computed
"$PY" - "$T/x.h5" "$T/small.yaml" "$T/big.yaml" "$T/big2.yaml" <<'PY' || fail "history of the grown study"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
texts = [open(p).read() for p in sys.argv[2:5]]
h = f["/history"][:]
s = lambda col: [v.decode() for v in h[col]]
assert s("command") == ["sweep", "extend", "extend", "resume"], s("command")
assert list(h["rows_added"]) == [4, 5, 3, 0], list(h["rows_added"])
assert list(h["ranks"]) == [1, 2, 1, 1], list(h["ranks"])
assert list(h["n_configs"]) == [4, 9, 12, 12], list(h["n_configs"])
assert s("outcome") == ["complete"] * 4, s("outcome")
assert all(s("end_utc")) and all(a <= b for a, b in zip(s("start_utc"), s("end_utc")))
assert sum(h["rows_added"]) == len(f["/results"]) == 12
r = f["/spec_revisions"][:]
assert [t.decode() for t in r["spec_text"]] == texts, "spec revisions are not the three specs"
assert list(r["n_configs"]) == [4, 9, 12] and list(r["first_run"]) == [0, 1, 2]
assert s("spec_hash") == [v.decode() for v in r["spec_hash"]] + [r["spec_hash"][2].decode()]
assert f.attrs["spec_hash"] == r["spec_hash"][2].decode()
assert f.attrs["spec_text"] == texts[2]
assert f.attrs["n_runs"] == 4 and f.attrs["ranks"] == 2, (f.attrs["n_runs"], f.attrs["ranks"])
assert f.attrs["created"] <= s("start_utc")[0] and f.attrs["updated"] == s("start_utc")[3]
PY
# a changed base configuration (and seed) is refused, saying what changed; the file is untouched
cp "$T/x.h5" "$T/before.h5"
sed -e 's/max_num_seqs: 64/max_num_seqs: 32/' -e 's/^seed: 5/seed: 6/' "$T/big2.yaml" > "$T/base.yaml"
"$LLMSWEEP" sweep "$T/base.yaml" -o "$T/x.h5" --resume 2>"$T/base.err"; rc=$?
[ $rc -eq 1 ] && grep -q "12 of its 12 configurations are not in" "$T/base.err" &&
    grep -q "the specification changed: seed: was 5, now 6; base.scheduler.max_num_seqs: was 64, now 32;" "$T/base.err" ||
    fail "changed base: exit $rc $(cat "$T/base.err")"
cmp -s "$T/x.h5" "$T/before.h5" || fail "a refused resume changed the file"
# a specification without some of the file's configurations: refused, file untouched
cp "$T/x.h5" "$T/before.h5"
"$LLMSWEEP" sweep "$T/fewer.yaml" -o "$T/x.h5" --resume 2>"$T/fewer.err"; rc=$?
[ $rc -eq 1 ] && grep -q "10 of its 12 configurations are not in" "$T/fewer.err" &&
    grep -q "grid.parallelism: dp2 removed; grid.workload.arrival.rate: 3 removed; grid.workload.arrival.rate: 4 removed;" "$T/fewer.err" ||
    fail "fewer: exit $rc $(cat "$T/fewer.err")"
cmp -s "$T/x.h5" "$T/before.h5" || fail "a refused resume changed the file"
# shards cannot take added configurations (ids decide shard membership)
"$LLMSWEEP" sweep "$T/small.yaml" -o "$T/s.h5" --shard 0/2 -q || fail "shard"
"$LLMSWEEP" sweep "$T/big.yaml" -o "$T/s.h5" --shard 0/2 --resume 2>"$T/sh.err"; rc=$?
[ $rc -eq 1 ] && grep -q "a shard cannot take added configurations" "$T/sh.err" || fail "shard extend: $rc $(cat "$T/sh.err")"
# a row family added to the specification (families:): only its rows run, the grid's stay
{ cat "$T/small.yaml"; cat <<'YAML'
families:
  - name: long
    base: {workload: {prompt_tokens: {dist: lognormal, mean: 2048, stddev: 512}}}
    grid: {parallelism: [tp2, tp4]}
YAML
} > "$T/fam.yaml"
"$LLMSWEEP" sweep "$T/small.yaml" -o "$T/f.h5" -q || fail "family: small run"
"$LLMSWEEP" sweep "$T/fam.yaml" -o "$T/fref.h5" -q || fail "family: reference run"
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$T/fam.yaml" -o "$T/f.h5" --resume 2>"$T/fam.err" || fail "family: $(cat "$T/fam.err")"
grep -q "adds 2 configurations to the 4" "$T/fam.err" && grep -q "2 configurations in" "$T/fam.err" ||
    fail "family: ran more than its 2 rows: $(cat "$T/fam.err")"
"$PY" "$COMPARE" "$T/fref.h5" "$T/f.h5" || fail "family: extended file differs from a fresh run"
echo "sweep_resume_extend: ok"
