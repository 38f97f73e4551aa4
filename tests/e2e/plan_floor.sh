#!/usr/bin/env bash
# plan_floor.sh -- the capacity search's floor (`plan --capacity-floor`, `capacity: {floor: R}`,
# docs/PLAN.md "Speed"). With the floor at the target rate the search starts on the floor, so the
# expected answer is hand-checkable from the rows themselves (read here with `report --format csv`
# and Python's csv, not by the code that searched): a deployment has capacity 0 ("< floor") exactly
# when its row at the target rate misses the SLO, its owner row says so in `message`, one that meets
# it has a capacity at or above the floor, and the answer's top table shows "<10" for the former.
# The default floor is half the target (the plan's lowest load); 0 turns it off; bad values are
# usage errors.
# A capacity of 0 is "< R" with R the row's capacity_fail_rps, the rate the search missed the SLO
# at: the floor when the search reached it, higher when it stopped above it (a 5 s window holds
# LS_CAPACITY_MIN_REQUESTS = 10 requests only down to 2 req/s: from 10 it probes 5 and 2.5, not
# a floor of 0.625), and the generic report's capacity table says the same as the plan.
. "$(dirname "$0")/sweep_lib.bash"
B="$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 2 --isl 512 --osl 64 --seed 3 --rate 10"
P="$B --duration 20"
SLO="--slo ttft_p99=1s,tpot_p99=10ms"
$P $SLO --capacity-floor 10 --top 10 -o "$T/f.h5" -q >"$T/out.txt" 2>"$T/err.txt" || { cat "$T/err.txt"; fail "plan with a floor"; }
grep -q "^capacity: {rel_tol: 0.05, max_runs: 16, start: 10, floor: 10}" "$T/f.spec.yaml" || fail "floor not in the spec"
"$LLMSWEEP" report "$T/f.h5" --format csv -o "$T/f.csv" || fail "report csv"
"$LLMSWEEP" report "$T/f.h5" -o "$T/f.txt" || fail "report text"
$B --duration 5 $SLO --capacity-floor 0.625 --top 10 -o "$T/s.h5" -q >"$T/s.out" 2>"$T/s.err" || { cat "$T/s.err"; fail "plan, 5 s window"; }
"$LLMSWEEP" report "$T/s.h5" --format csv -o "$T/s.csv" || fail "report csv, 5 s window"
"$LLMSWEEP" report "$T/s.h5" -o "$T/s.txt" || fail "report text, 5 s window"
cat > "$T/check.py" <<'PY'
import csv, math, sys
def misses(x):
    tp = float(x["tpot_p99_s"])
    return not (float(x["ttft_p99_s"]) <= 1.0 and (math.isnan(tp) or tp <= 0.010) and float(x["success_rate"]) >= 0.99)
def below(r):  # "<R": the fewest of 3..6 significant digits not below r (all the rates here are exact in 4)
    s = next(s for s in ("%.*g" % (p, r) for p in range(3, 7)) if float(s) >= r)
    return "<" + s
def cap_cells(path):  # the generic report's capacity table: (capacity, /GPU) of the "<R" rows
    lines = open(path).read().splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("strategy GPUs capacity"))
    table = lines[i + 2:lines.index("", i)]
    return sorted((c[2], c[3]) for c in (l.split() for l in table) if c[2].startswith("<"))
def check(csv_path, answer_path, report_path, fail_at, floor_words):
    rows = list(csv.DictReader(open(csv_path)))
    text = open(answer_path).read()
    n_below = n_met = 0
    cells = []
    for x in rows:
        if float(x["arrival_rate"]) != 10:
            continue
        cap = float(x["capacity_rps"])
        if cap == 0:
            n_below += 1
            assert misses(x), x["config_id"]
            assert float(x["capacity_fail_rps"]) == fail_at, (x["config_id"], x["capacity_fail_rps"])
            said = "capacity below the search floor: the SLO is missed at %g req/s" % fail_at in x["message"]
            assert said == floor_words, x["message"]
            # the answer's top table: "<R" in the capacity columns of this deployment
            line = [l for l in text.splitlines() if l.split()[1:2] == [x["config_id"]]]
            gpus = int(x["n_gpus"])
            assert line and line[0].split()[5:7] == [below(fail_at), below(fail_at / gpus)], line
            cells.append((below(fail_at), below(fail_at / gpus)))
        else:
            n_met += 1
    assert n_below, "the case must have a capacity of 0"
    assert cap_cells(report_path) == sorted(cells), (cap_cells(report_path), cells)
    return n_below, n_met
# the floor at the target: a capacity of 0 is a miss at the target, the floor
nb, nm = check(sys.argv[1], sys.argv[2], sys.argv[3], 10, True)
for x in csv.DictReader(open(sys.argv[1])):
    if float(x["arrival_rate"]) == 10:
        assert misses(x) == (float(x["capacity_rps"]) == 0), x["config_id"]
        assert misses(x) or float(x["capacity_rps"]) >= 10, x["config_id"]
assert nm, "the case must have a deployment meeting the SLO"
# a 5 s window: the search stops at 2.5 req/s, above the floor 0.625: "<2.5", not "<0.625"
nb5, _ = check(sys.argv[4], sys.argv[5], sys.argv[6], 2.5, False)
assert "<0.625" not in open(sys.argv[5]).read()
print("below the floor:", nb, "meeting it:", nm, "below 2.5 req/s in a 5 s window:", nb5)
PY
"$PY" "$T/check.py" "$T/f.csv" "$T/out.txt" "$T/f.txt" "$T/s.csv" "$T/s.out" "$T/s.txt" || fail "capacity below the floor"
# the default: half the target, the plan's lowest load (the search's first halving: capacities
# above it unchanged, and a deployment missing the SLO there has "<5" without a probe of its own)
$P $SLO -o "$T/d.h5" -q >/dev/null 2>"$T/d.err" || { cat "$T/d.err"; fail "plan, default floor"; }
grep -q "start: 10, floor: 5}" "$T/d.spec.yaml" || { grep capacity: "$T/d.spec.yaml"; fail "default floor"; }
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
