#!/usr/bin/env bash
# plan_min_gpus.sh -- the fewest-GPUs answer of `llmsweep plan`, checked by running one GPU fewer.
# Llama-3-8B on H100 at 60 req/s of 512-token prompts: one GPU serves about 49 req/s (e2e_plan_spec's
# workload at 10 req/s), so the answer on a budget of 3 must be 2 GPUs. Then: the deployment named
# re-run alone with `llmsweep run` meets the SLO (judged here from its JSON); a plan on a budget of
# one GPU fewer finds nothing (exit 3, TTFT binding), and its best deployment re-run alone misses the
# SLO; and in the first plan's file every deployment of fewer GPUs misses it at the target rate.
. "$(dirname "$0")/sweep_lib.bash"
"$PY" -c "import h5py" 2>/dev/null || { echo "plan_min_gpus: no h5py, skipped"; exit 77; }
P="$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --isl 512 --osl 128 --duration 10 --seed 3 --rate 60 --slo ttft_p99=1s,tpot_p99=50ms -q"
$P --gpus 3 -o "$T/p.h5" >"$T/p.txt" 2>"$T/p.err" || { cat "$T/p.err"; fail "plan on 3 GPUs"; }
line=$(grep -A1 "^fewest GPUs at the target rate:" "$T/p.txt" | tail -1)
[[ "$line" =~ ^\ \ ([0-9]+)\ GPUs\ \(.*config\ ([0-9]+)\)\ meet\ the\ SLO\ at\ 60\ req/s\.$ ]] ||
    { cat "$T/p.txt"; fail "no fewest-GPUs answer"; }
n=${BASH_REMATCH[1]} id=${BASH_REMATCH[2]}
[ "$n" = 2 ] || fail "fewest GPUs: $n, expected 2"
grep -q "^  with 1 GPUs the closest (tp1, config [0-9]*) misses it: ttft_p99" "$T/p.txt" || fail "no one-fewer line"

judge() { # JSON WANT(meets|misses): the SLO judged from `run --json`
    "$PY" - "$1" "$2" <<'PY'
import sys, json
j = json.load(open(sys.argv[1]))
meets = j["status"] == "ok" and j["ttft_p99_s"] <= 1.0 and j["tpot_p99_s"] <= 0.05 and j["success_rate"] >= 0.99
assert meets == (sys.argv[2] == "meets"), (sys.argv[2], j["ttft_p99_s"], j["tpot_p99_s"], j["success_rate"])
PY
}
# the deployment named, re-run alone: its configuration is one of the top files
k=$(awk -v id="$id" '$2 == id && $1 ~ /^[0-9]+$/ {print $1; exit}' "$T/p.txt")
[ -n "$k" ] || fail "config $id is not in the top table"
"$LLMSWEEP" run --config "$T/p.top$k.yaml" --json >"$T/min.json" || fail "run of the fewest-GPUs deployment"
judge "$T/min.json" meets || fail "the fewest-GPUs deployment, re-run, does not meet the SLO"

# one GPU fewer: nothing meets the SLO, and the best of it, re-run alone, misses
rc=0; $P --gpus $((n - 1)) -o "$T/q.h5" >"$T/q.txt" 2>"$T/q.err" || rc=$?
[ "$rc" = 3 ] || { cat "$T/q.err"; fail "plan on $((n - 1)) GPU: exit $rc, expected 3"; }
grep -q "^no deployment meets the SLO at 60 req/s. The closest is tp1 .*the binding limit is TTFT p99" "$T/q.txt" ||
    { cat "$T/q.txt"; fail "one GPU fewer: no binding limit"; }
"$LLMSWEEP" run --config "$T/q.top1.yaml" --json >"$T/less.json" || fail "run of the best of one GPU fewer"
judge "$T/less.json" misses || fail "one GPU fewer meets the SLO"

# in the first file: every deployment of fewer GPUs misses the SLO at the target rate, some of n meets
"$PY" - "$T/p.h5" "$n" <<'PY' || fail "rows by GPU count"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
c = {int(x["config_id"]): x for x in f["/configs"][:]}
n = int(sys.argv[2])
meets = {}
for x in f["/results"][:]:
    i = int(x["config_id"])
    if abs(c[i]["arrival_rate"] - 60) > 1e-9:
        continue
    ok = x["status"] == b"ok" and x["ttft_p99_s"] <= 1 and x["tpot_p99_s"] <= 0.05 and x["success_rate"] >= 0.99
    meets.setdefault(int(c[i]["n_gpus"]), []).append(ok)
assert not any(any(v) for g, v in meets.items() if g < n), meets
assert any(meets[n]), meets
PY
echo "plan_min_gpus: ok"
