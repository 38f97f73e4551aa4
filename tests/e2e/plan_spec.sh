#!/usr/bin/env bash
# plan_spec.sh -- speculative decoding in `llmsweep plan` (--speculative, repeatable): each value
# multiplies the candidates, pipeline-parallel splits are refused with the engine's reason, the
# values reach /configs, speculative and plain deployments are ranked in one top table and one
# frontier, each speculative deployment of the top is set against its baseline with the file's own
# figures, a speculative top configuration re-run with `llmsweep run` reproduces its row, and bad
# values and contradictions are usage errors that name the flag.
. "$(dirname "$0")/sweep_lib.bash"
"$PY" -c "import h5py" 2>/dev/null || { echo "plan_spec: no h5py, skipped"; exit 77; }
P="$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 2 --isl 512 --osl 128 --duration 20 --seed 3 --rate 10 --slo ttft_p99=1s,tpot_p99=50ms -q"
$P --top 20 --speculative off --speculative eagle:k=3,acceptance=0.7 \
    --speculative draft:model=llama-3.2-1b,num_speculative_tokens=4,acceptance=0.8/0.7/0.6/0.5 \
    -o "$T/s.h5" >"$T/out.txt" 2>"$T/err.txt" || { cat "$T/err.txt"; fail "plan --speculative"; }
# 4 splits of 2 GPUs (tp1, dp2, pp2, tp2) x 3 values = 12; pp2 with speculation: 2 invalid
grep -q "^plan: 12 candidate deployments .* 2 invalid splits, 10 simulated" "$T/err.txt" ||
    { cat "$T/err.txt"; fail "candidate count"; }
grep -q "invalid h100-sxm tp1pp2dp1 --speculative eagle:k=3,acceptance=0.7: .*not modelled with pipeline parallelism" "$T/err.txt" ||
    { cat "$T/err.txt"; fail "pp2 with speculation: reason"; }

"$PY" - "$T/s.h5" "$T/out.txt" <<'PY' || fail "speculative candidates"
import sys, re, h5py, math
f = h5py.File(sys.argv[1], "r")
c = {int(x["config_id"]): x for x in f["/configs"][:]}
r = {int(x["config_id"]): x for x in f["/results"][:]}
spec = {x["speculative"].decode() for x in c.values()}
assert spec == {"none", "eagle k3 a0.7", "draft k4 a0.8,0.7,0.6,0.5 llama-3.2-1b"}, spec
assert all(int(x["pp"]) == 1 for x in c.values() if x["speculative"] != b"none")
assert len(c) == 10 * 4, len(c)
out = open(sys.argv[2]).read()
# one top table for both kinds
top = [int(m.group(1)) for m in re.finditer(r"(?m)^ +\d+ +(\d+) h100-sxm", out)]
kinds = {c[i]["speculative"].split()[0] for i in top}
assert kinds == {b"none", b"eagle", b"draft"}, kinds
# each speculative line against its baseline: the figures are the file's
def key(x):
    return tuple((k, x[k]) for k in x.dtype.names if k not in ("config_id", "speculative", "config_hash"))
lines = re.findall(r"(?m)^  #(\d+) .*: capacity (\S+) vs (\S+) req/s without \((\S+)x\), tpot_p99 at the target (\S+) vs (\S+) ms", out)
assert len(lines) == sum(1 for i in top if c[i]["speculative"] != b"none"), (len(lines), top)
for n, cs, cb, ratio, ts, tb in lines:
    i = top[int(n) - 1]
    base = [j for j in top if c[j]["speculative"] == b"none" and key(c[j]) == key(c[i])]
    assert len(base) == 1, (i, base)
    j = base[0]
    ci, cj = r[i]["capacity_rps"], r[j]["capacity_rps"]  # searched by the listing at the target rate
    assert math.isclose(float(cs), ci, rel_tol=2e-3) and math.isclose(float(cb), cj, rel_tol=2e-3), (cs, ci, cb, cj)
    assert math.isclose(float(ts), 1e3 * r[i]["tpot_p99_s"], rel_tol=2e-3), (ts, r[i]["tpot_p99_s"])
    assert math.isclose(float(tb), 1e3 * r[j]["tpot_p99_s"], rel_tol=2e-3), (tb, r[j]["tpot_p99_s"])
    # speculation shortens each token's time here (k=3 at 0.7 accepts ~1.5 drafts a step)
    if c[i]["speculative"].startswith(b"eagle"):
        assert r[i]["tpot_p99_s"] < r[j]["tpot_p99_s"], (i, j)
# the frontier: over both kinds, non-dominated among every row meeting the SLO
ok = [(i, x["output_tps"] / c[i]["n_gpus"], 1 / x["tpot_mean_s"]) for i, x in r.items()
      if x["status"] == b"ok" and x["ttft_p99_s"] <= 1 and x["tpot_p99_s"] <= 0.05 and x["success_rate"] >= 0.99]
nd = {i for i, a, b in ok if not any(p >= a and q >= b and (p > a or q > b) for j, p, q in ok if j != i)}
listed = {int(m) for m in re.findall(r"(?m)^  config (\d+) ", out)}
assert listed == nd, (sorted(listed), sorted(nd))
print("top", len(top), "frontier", len(nd), "speculative vs baseline lines", len(lines))
PY

# the sensitivity sweep runs the top deployments with their speculative decoding
"$PY" - "$T/s.h5" "$T/s.burst.h5" "$T/out.txt" <<'PY' || fail "sensitivity sweep: speculative blocks"
import sys, re, h5py
main = {int(x["config_id"]): x for x in h5py.File(sys.argv[1], "r")["/configs"][:]}
b = h5py.File(sys.argv[2], "r")["/configs"][:]
top = [int(m.group(1)) for m in re.finditer(r"(?m)^ +\d+ +(\d+) h100-sxm", open(sys.argv[3]).read())]
assert len(b) == min(len(top), 20), (len(b), len(top))
for x, i in zip(b, top):
    assert x["speculative"] == main[i]["speculative"] and x["parallelism"] == main[i]["parallelism"], (x, main[i])
PY

# a speculative top configuration, re-run alone, reproduces its row (its own run, not the baseline's)
k=$(grep -o '^ *[0-9]\+ \+[0-9]\+ h100-sxm \+[a-z0-9]* eagle-k3' "$T/out.txt" | head -1 | awk '{print $1}')
id=$(grep -o '^ *[0-9]\+ \+[0-9]\+ h100-sxm \+[a-z0-9]* eagle-k3' "$T/out.txt" | head -1 | awk '{print $2}')
[ -n "$k" ] || fail "no eagle deployment in the top table"
grep -q "^speculative: {acceptance: 0.7, method: eagle, num_speculative_tokens: 3}" "$T/s.top$k.yaml" || {
    cat "$T/s.top$k.yaml"; fail "top$k.yaml: no speculative block"; }
"$LLMSWEEP" run --config "$T/s.top$k.yaml" --json --no-baseline >"$T/run.json" || fail "run of top$k"
"$PY" - "$T/s.h5" "$id" "$T/run.json" <<'PY' || fail "speculative top configuration does not reproduce"
import sys, json, h5py, math
r = [x for x in h5py.File(sys.argv[1], "r")["/results"][:] if int(x["config_id"]) == int(sys.argv[2])][0]
j = json.load(open(sys.argv[3]))
for k in ("ttft_p99_s", "tpot_p99_s", "output_tps", "n_completed", "spec_acceptance_rate", "spec_mean_accepted_tokens"):
    assert math.isclose(float(r[k]), float(j[k]), rel_tol=1e-9), (k, r[k], j[k])
PY

check_usage() { # WORDS-EXPECTED ARGS...
    local want=$1; shift
    rc=0; $P "$@" -o "$T/u.h5" 2>"$T/u.err" >/dev/null || rc=$?
    [ "$rc" = 2 ] || { cat "$T/u.err"; fail "plan $*: exit $rc, expected 2"; }
    grep -q -- "$want" "$T/u.err" || { cat "$T/u.err"; fail "plan $*: message lacks '$want'"; }
    [ ! -e "$T/u.h5" ] || fail "plan $*: a file was written"
}
check_usage "--speculative eagle:k=3: missing acceptance=A" --speculative eagle:k=3
check_usage "--speculative eagle:acceptance=0.7: missing k=K" --speculative eagle:acceptance=0.7
check_usage "--speculative medusa:k=2,acceptance=0.5: expected off, or METHOD" --speculative medusa:k=2,acceptance=0.5
check_usage "--speculative eagle:k=17,acceptance=0.5: k: expected 1 to 16" --speculative eagle:k=17,acceptance=0.5
check_usage "acceptance: expected a rate in \[0, 1\]" --speculative eagle:k=2,acceptance=1.5
check_usage "acceptance: 2 rates for k=3" --speculative eagle:k=3,acceptance=0.8/0.7
check_usage "method draft needs model=M" --speculative draft:k=2,acceptance=0.5
check_usage "only method draft takes a model" --speculative eagle:k=2,acceptance=0.5,model=llama-3.2-1b
check_usage "unknown key 'depth'" --speculative eagle:k=2,acceptance=0.5,depth=3
check_usage "--speculative draft:model=nosuch,k=2,acceptance=0.5: .*nosuch" --speculative draft:model=nosuch,k=2,acceptance=0.5
check_usage "--speculative draft:model=qwen3-8b,k=2,acceptance=0.5: .*vocabulary" --speculative draft:model=qwen3-8b,k=2,acceptance=0.5
check_usage "--speculative: value 2 repeats value 1" --speculative off --speculative none
check_usage "--speculative and --modes disagg contradict" --speculative eagle:k=2,acceptance=0.5 --modes disagg
check_usage "--modes disagg and --speculative contradict" --speculative eagle:k=2,acceptance=0.5 --modes agg,disagg
echo "plan_spec: ok"
