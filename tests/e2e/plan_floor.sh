#!/usr/bin/env bash
# plan_floor.sh -- the capacity search's floor (`plan --capacity-floor`, `capacity: {floor: R}`,
# docs/PLAN.md "Speed"). With the floor at the target rate the search starts on the floor, so the
# expected answer is hand-checkable from the rows themselves (read here with `report --format csv`
# and Python's csv, not by the code that searched): a deployment has capacity 0 ("< floor") exactly
# when its row at the target rate misses the SLO, its owner row says so in `message`, one that meets
# it has a capacity at or above the floor, and the answer's top table shows "<10" for the former.
# The default floor is 1/16 of the target; 0 turns it off; bad values are usage errors.
. "$(dirname "$0")/sweep_lib.bash"
P="$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 2 --isl 512 --osl 64 --duration 20 --seed 3 --rate 10"
SLO="--slo ttft_p99=1s,tpot_p99=10ms"
$P $SLO --capacity-floor 10 --top 10 -o "$T/f.h5" -q >"$T/out.txt" 2>"$T/err.txt" || { cat "$T/err.txt"; fail "plan with a floor"; }
grep -q "^capacity: {rel_tol: 0.05, max_runs: 16, start: 10, floor: 10}" "$T/f.spec.yaml" || fail "floor not in the spec"
"$LLMSWEEP" report "$T/f.h5" --format csv -o "$T/f.csv" || fail "report csv"
"$PY" - "$T/f.csv" "$T/out.txt" <<'PY' || fail "capacity below the floor"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
text = open(sys.argv[2]).read()
def misses(x):
    tp = float(x["tpot_p99_s"])
    return not (float(x["ttft_p99_s"]) <= 1.0 and (math.isnan(tp) or tp <= 0.010) and float(x["success_rate"]) >= 0.99)
below = met = 0
for x in rows:
    if float(x["arrival_rate"]) != 10:
        continue
    cap = float(x["capacity_rps"])
    if misses(x):
        below += 1
        assert cap == 0, (x["config_id"], cap)
        assert "capacity below the search floor: the SLO is missed at 10 req/s" in x["message"], x["message"]
        # the answer's top table: "<10" in the capacity column of this deployment
        line = [l for l in text.splitlines() if l.split()[1:2] == [x["config_id"]]]
        assert line and line[0].split()[5] == "<10", line
    else:
        met += 1
        assert cap >= 10, (x["config_id"], cap)
assert below and met, (below, met)  # the case must have both kinds
print("below the floor:", below, "meeting it:", met)
PY
# the default: 1/16 of the target (a halving point of the search: capacities above it unchanged)
$P $SLO -o "$T/d.h5" -q >/dev/null 2>"$T/d.err" || { cat "$T/d.err"; fail "plan, default floor"; }
grep -q "start: 10, floor: 0.625}" "$T/d.spec.yaml" || { grep capacity: "$T/d.spec.yaml"; fail "default floor"; }
$P $SLO --capacity-floor 0 -o "$T/z.h5" -q >/dev/null 2>"$T/z.err" || { cat "$T/z.err"; fail "plan, no floor"; }
grep -q "^capacity: {rel_tol: 0.05, max_runs: 16, start: 10}" "$T/z.spec.yaml" || fail "floor 0 must mean none"
# bad values: exit 2, the flag named
for v in -1 nan x; do
    rc=0; $P $SLO --capacity-floor "$v" -o "$T/u.h5" -q 2>"$T/u.err" >/dev/null || rc=$?
    [ "$rc" = 2 ] || fail "--capacity-floor $v: exit $rc, expected 2"
    grep -q -- "--capacity-floor: bad value" "$T/u.err" || { cat "$T/u.err"; fail "--capacity-floor $v: message"; }
done
rc=0; $P $SLO --capacity-floor 20 -o "$T/u.h5" -q 2>"$T/u.err" >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "floor above the target: exit $rc, expected 2"
grep -q "capacity-floor 20 req/s must be in \[0, the target rate 10 req/s\]" "$T/u.err" || { cat "$T/u.err"; fail "floor above the target: message"; }
echo "plan_floor: ok"
