#!/usr/bin/env bash
# plan.sh -- `llmsweep plan` end to end, on 2 MPI ranks: the file is an ordinary sweep that
# `report` reads; every frontier point is non-dominated and every non-dominated point is on
# the frontier (checked here from /results with h5py, not by the code that printed it); every top
# configuration re-run with `llmsweep run` reproduces its metrics; the `vllm serve` and SGLang
# lines are there (their flags: plan_launch.sh); bad input gets a clear message and no crash.
. "$(dirname "$0")/sweep_lib.bash"
"$PY" -c "import h5py" 2>/dev/null || { echo "plan: no h5py, skipped"; exit 77; }
P="$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 4 --isl 512 --osl 64 --duration 20 --seed 3"
"$MPIEXEC" -n 2 $P --rate 10 --slo ttft_p99=1s,tpot_p99=50ms -o "$T/p.h5" -q --plots "$T/plots" >"$T/out.txt" 2>"$T/err.txt" ||
    { cat "$T/err.txt"; fail "plan on 2 ranks"; }
grep -q "^top .* deployments by capacity per GPU" "$T/out.txt" || fail "no top table"
grep -q "pruned by memory" "$T/err.txt" || fail "no pruning summary"
for f in p.md p.spec.yaml p.top1.yaml; do [ -s "$T/$f" ] || fail "$f not written"; done
"$LLMSWEEP" report "$T/p.h5" >/dev/null || fail "report cannot read the plan's file"

# the frontier: every listed point non-dominated among the SLO-meeting rows; none missing
grep -o '^  config [0-9]*' "$T/out.txt" | awk '{print $2}' >"$T/front.txt"
"$PY" - "$T/p.h5" "$T/front.txt" <<'PY' || fail "frontier"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
r, c = f["/results"][:], f["/configs"][:]
ngpu = {int(x["config_id"]): int(x["n_gpus"]) for x in c}
ok = []
for x in r:
    tp = x["tpot_p99_s"]
    if x["status"] == b"ok" and x["ttft_p99_s"] <= 1.0 and (np.isnan(tp) or tp <= 0.05) and x["success_rate"] >= 0.99:
        i = int(x["config_id"])
        ok.append((i, x["output_tps"] / ngpu[i], 1.0 / x["tpot_mean_s"]))
nd = {i for i, a, b in ok if not any(p >= a and q >= b and (p > a or q > b) for j, p, q in ok if j != i)}
listed = {int(l) for l in open(sys.argv[2]).read().split()}
assert ok, "no point meets the SLO"
assert listed == nd, (sorted(listed), sorted(nd))
print("frontier points:", len(nd), "of", len(ok))
PY

# sensitivity: the top deployments again under gamma arrivals of cv 2, one row each, in the
# ranking's order, and a verdict on which holds
grep -q "^sensitivity of the top" "$T/out.txt" || fail "no sensitivity table"
grep -Eq "^  (most robust: #[0-9]+ .* breaks first: #[0-9]+|all [0-9]+ hold alike)" "$T/out.txt" || fail "no sensitivity verdict"
grep -o '^ *[0-9]\+ \+[0-9]\+ ' "$T/out.txt" | head -5 | awk '{print $2}' >"$T/top_ids.txt"
"$PY" - "$T/p.h5" "$T/p.burst.h5" "$T/top_ids.txt" <<'PY' || fail "sensitivity sweep"
import sys, h5py
main = {int(x["config_id"]): x for x in h5py.File(sys.argv[1], "r")["/configs"][:]}
b = h5py.File(sys.argv[2], "r")["/configs"][:]
ids = [int(l) for l in open(sys.argv[3]).read().split()]
assert len(b) == len(ids), (len(b), ids)
for x, i in zip(b, ids):
    m = main[i]
    assert x["arrival_process"] == b"gamma" and abs(x["arrival_cv"] - 2) < 1e-9, x
    assert abs(x["arrival_rate"] - m["arrival_rate"]) < 1e-9 * m["arrival_rate"]
    for k in ("hardware", "parallelism", "dtype_weights", "max_num_seqs", "max_batched_tokens"):
        assert x[k] == m[k], (k, x[k], m[k])
PY

# the frontier plot (--plots): drawn, and its legend counts the points the text lists
if "$PY" -c "import matplotlib" 2>/dev/null; then
    [ -s "$T/plots/frontier.png" ] && grep -q '<svg' "$T/plots/frontier.svg" || fail "no frontier plot"
    n=$(wc -l <"$T/front.txt")
    grep -q "h100-sxm agg: $n on the frontier of" "$T/plots/frontier.svg" || fail "frontier plot: not the $n points listed"
fi

# every top configuration, re-run alone with `llmsweep run`, reproduces its row of /results
grep -o '^ *[0-9]\+ \+[0-9]\+ ' "$T/out.txt" | awk '{print $2}' >"$T/all_top.txt"
[ -s "$T/all_top.txt" ] || fail "no top row"
k=0
while read -r id; do
    k=$((k + 1))
    "$LLMSWEEP" run --config "$T/p.top$k.yaml" --json >"$T/run$k.json" || fail "run of top configuration $k"
    "$PY" - "$T/p.h5" "$id" "$T/run$k.json" <<'PY' || fail "top configuration $k (config $id) does not reproduce"
import sys, json, h5py, math
r = [x for x in h5py.File(sys.argv[1], "r")["/results"][:] if int(x["config_id"]) == int(sys.argv[2])][0]
j = json.load(open(sys.argv[3]))
for k in ("ttft_p99_s", "tpot_p99_s", "e2e_p99_s", "output_tps", "n_completed", "throughput_rps", "max_num_batched_tokens"):
    a, b = float(r[k]), float(j[k])
    assert math.isclose(a, b, rel_tol=1e-9), (k, a, b)
PY
done <"$T/all_top.txt"
[ "$k" -ge 2 ] || fail "expected several top configurations, got $k"

# the launch lines against vLLM's and SGLang's documented flags: tests/e2e/plan_launch.sh
grep -q -- "vllm serve llama-3-8b --tensor-parallel-size" "$T/out.txt" || fail "no vllm serve line"
grep -q -- "sglang: python -m sglang.launch_server --model-path llama-3-8b --tp-size" "$T/out.txt" || fail "no SGLang line"

# the bounds written beside each deployment of the spec hold for every simulated row:
# capacity <= its ceiling, TPOT p50 and mean >= its floor (replay/bound.h)
"$PY" - "$T/p.h5" "$T/p.spec.yaml" <<'PY' || fail "bounds"
import sys, re, h5py, math
b = [(float(m.group(1)), float(m.group(2)) / 1e3)
     for m in re.finditer(r"# bounds: capacity <= (\S+) req/s, tpot >= (\S+) ms", open(sys.argv[2]).read())]
r = h5py.File(sys.argv[1], "r")["/results"][:]
assert len(b) * 4 == len(r), (len(b), len(r))
n = 0
for x in r:
    ceil, floor = b[int(x["config_id"]) // 4]   # the deployments, each at 4 loads
    if not math.isnan(x["capacity_rps"]):
        assert x["capacity_rps"] <= ceil, (int(x["config_id"]), x["capacity_rps"], ceil); n += 1
    if x["status"] == b"ok" and not math.isnan(x["tpot_p50_s"]):
        assert x["tpot_p50_s"] >= floor and x["tpot_mean_s"] >= floor, (int(x["config_id"]), x["tpot_p50_s"], floor)
assert n == len(b), n
PY

# bad input: an SLO nothing meets names the binding limit and the distance; exit 3
# (a TTFT limit nothing meets at the target rate: simulated, the closest named)
rc=0; $P --rate 10 --slo ttft_p99=1ms,tpot_p99=1s -o "$T/no.h5" -q >"$T/no.txt" 2>"$T/no.err" || rc=$?
[ "$rc" = 3 ] || { cat "$T/no.err"; fail "unmeetable SLO: exit $rc, expected 3"; }
grep -q "no deployment meets the SLO at 10 req/s. The closest is .*binding limit is TTFT p99" "$T/no.txt" || fail "no binding limit"
grep -q "x its limit" "$T/no.txt" || fail "no distance from the limit"
# (a TPOT limit under every deployment's floor: pruned by bound before anything runs)
rc=0; $P --rate 10 --slo ttft_p99=1s,tpot_p99=1ms -o "$T/nob.h5" -q >"$T/nob.txt" 2>"$T/nob.err" || rc=$?
[ "$rc" = 3 ] || { cat "$T/nob.err"; fail "TPOT under the floor: exit $rc, expected 3"; }
grep -q "no deployment can meet the SLO at any load: tpot_p99 binds. The fastest decode, .* takes at least .* ms per token .*x the limit of 1 ms" "$T/nob.err" ||
    { cat "$T/nob.err"; fail "TPOT under the floor: message"; }
grep -q "by bound" "$T/nob.err" || fail "TPOT under the floor: no pruning count"
[ ! -e "$T/nob.h5" ] || fail "TPOT under the floor: a file was written"
# (a load over every deployment's capacity ceiling)
rc=0; $P --rate 5000 --slo ttft_p99=1s,tpot_p99=1s -o "$T/noc.h5" -q >"$T/noc.txt" 2>"$T/noc.err" || rc=$?
[ "$rc" = 3 ] || { cat "$T/noc.err"; fail "load over the ceilings: exit $rc, expected 3"; }
grep -q "no deployment can meet the SLO at any load of the plan: the load binds. The highest capacity ceiling" "$T/noc.err" ||
    { cat "$T/noc.err"; fail "load over the ceilings: message"; }
# a model that fits no GPU count of the budget
rc=0; "$LLMSWEEP" plan --model llama-3.1-405b --hardware h100-sxm --gpus 2 --isl 512 --osl 64 --rate 1 \
    --slo ttft_p99=2s,tpot_p99=50ms -o "$T/big.h5" -q 2>"$T/big.err" >/dev/null || rc=$?
[ "$rc" = 3 ] || fail "model too big: exit $rc, expected 3"
grep -q "llama-3.1-405b fits no GPU count in the budget of 2 GPUs" "$T/big.err" || { cat "$T/big.err"; fail "model too big: message"; }
[ ! -e "$T/big.h5" ] || fail "model too big: a file was written"
# contradictory and missing flags: exit 2, the flags named
check_usage() { # WORDS-EXPECTED ARGS...
    local want=$1; shift
    rc=0; "$LLMSWEEP" plan "$@" -o "$T/u.h5" 2>"$T/u.err" >/dev/null || rc=$?
    [ "$rc" = 2 ] || fail "plan $*: exit $rc, expected 2"
    grep -q -- "$want" "$T/u.err" || { cat "$T/u.err"; fail "plan $*: message lacks '$want'"; }
}
TR=$LS_SOURCE_DIR/traces/azure-conv-excerpt.csv.gz
check_usage "--trace and --isl/--osl contradict" --model llama-3-8b --hardware h100-sxm --gpus 2 --trace "$TR" --isl 5 --osl 5 --slo ttft_p99=1s,tpot_p99=1s
check_usage "--rate and --scale-trace contradict" --model llama-3-8b --hardware h100-sxm --gpus 2 --trace "$TR" --rate 1 --scale-trace 2 --slo ttft_p99=1s,tpot_p99=1s
check_usage "--slo is required" --model llama-3-8b --hardware h100-sxm --gpus 2 --trace "$TR"
check_usage "--gpus: bad value" --model llama-3-8b --hardware h100-sxm --gpus 0 --trace "$TR" --slo ttft_p99=1s,tpot_p99=1s
check_usage "--hardware nosuchgpu" --model llama-3-8b --hardware nosuchgpu --gpus 2 --trace "$TR" --slo ttft_p99=1s,tpot_p99=1s
check_usage "--isl/--osl need the target load" --model llama-3-8b --hardware h100-sxm --gpus 2 --isl 5 --osl 5 --slo ttft_p99=1s,tpot_p99=1s
# found by fuzz_plan: a value far out of range was converted to int before the check rejected it (UB)
check_usage "--isl: bad value" --model llama-3-8b --hardware h100-sxm --gpus 2 --isl 10255555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555554 --osl 5 --rate 1 --slo ttft_p99=1s,tpot_p99=1s
check_usage "--gpus: bad value" --model llama-3-8b --hardware h100-sxm --gpus 1e300 --isl 5 --osl 5 --rate 1 --slo ttft_p99=1s,tpot_p99=1s
echo "plan: ok"
