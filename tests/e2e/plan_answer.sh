#!/usr/bin/env bash
# plan_answer.sh -- what the answer of `llmsweep plan` says (docs/PLAN.md, "The answer"), each
# figure recomputed here from the file's rows with h5py, not by the code that printed it:
#   - the top table's goodput column (text and Markdown) is the row's goodput_rps at the target;
#   - with --modes agg,disagg there is one frontier per GPU type and mode, each holding only its
#     mode, and its points are exactly the non-dominated SLO-meeting rows of that group;
#   - when nothing meets the SLO, the TTFT hint says "lower --rate" only when some load meets the
#     TTFT limit, and otherwise names the fastest TTFT p99 seen and how far it is over the limit;
#   - a capacity search that met the SLO at every rate it probed (capacity_fail_rps NaN: it
#     stopped at max_runs while doubling) is shown ">=R", with its reason, in the answer and in
#     the report's capacity table.
. "$(dirname "$0")/sweep_lib.bash"
"$PY" -c "import h5py" 2>/dev/null || { echo "plan_answer: no h5py, skipped"; exit 77; }
P="$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 2 --isl 512 --osl 64 --duration 20 --seed 3 -q"

# 1, 2: goodput and the frontier per mode
$P --rate 10 --slo ttft_p99=1s,tpot_p99=50ms --modes agg,disagg -o "$T/d.h5" >"$T/d.txt" 2>"$T/d.err" ||
    { cat "$T/d.err"; fail "plan --modes agg,disagg"; }
grep -q "^top .* deployments by capacity per GPU under the SLO (.*goodput in req/s; goodput: requests/s completed within the SLO at the target rate)" "$T/d.txt" ||
    fail "top table: goodput not explained"
grep -q "| goodput req/s @target |" "$T/d.md" || fail "Markdown top table: no goodput column"
"$PY" - "$T/d.h5" "$T/d.txt" "$T/d.md" <<'PY' || fail "goodput or frontier per mode"
import sys, re, h5py, math
f = h5py.File(sys.argv[1], "r")
res = {int(x["config_id"]): x for x in f["/results"][:]}
cfg = {int(x["config_id"]): x for x in f["/configs"][:]}
g4 = lambda v: float("%.4g" % v)
text, md = open(sys.argv[2]).read(), open(sys.argv[3]).read()
# goodput: column 8 of the text table, column 8 of the Markdown one (after req/s per GPU)
top = [l.split() for l in text.splitlines() if re.match(r"^ *\d+ +\d+ ", l)]
assert len(top) == 5, top
for c in top:
    i = int(c[1])
    assert cfg[i]["arrival_rate"] == 10, c
    assert float(c[7]) == g4(res[i]["goodput_rps"]), (c, res[i]["goodput_rps"])
mrows = [[x.strip() for x in l.strip("|").split("|")] for l in md.splitlines() if re.match(r"^\| \d+ \| \d+ \|", l)]
mrows = [c for c in mrows if len(c) == 13]
assert len(mrows) == 5, mrows
for c in mrows:
    assert float(c[7]) == g4(res[int(c[1])]["goodput_rps"]), c
# the frontiers: one per mode, each of its mode only, exactly the non-dominated points of its group
disagg = lambda i: b"P-" in cfg[i]["parallelism"]
def meets(x):
    tp = x["tpot_p99_s"]
    return x["status"] == b"ok" and x["ttft_p99_s"] <= 1.0 and (math.isnan(tp) or tp <= 0.05) and x["success_rate"] >= 0.99
sections = re.split(r"^Pareto frontier on ", text, flags=re.M)[1:]
titles = [s.split("\n", 1)[0] for s in sections]
assert [t.split(" (")[0] for t in titles] == ["h100-sxm, aggregated", "h100-sxm, disaggregated prefill/decode"], titles
for sec, want in zip(sections, (False, True)):
    listed = {int(m) for m in re.findall(r"^  config (\d+)", sec.split("\n\n")[0], flags=re.M)}
    assert listed and all(disagg(i) == want for i in listed), (want, sorted(listed))
    ok = [(i, x["output_tps"] / int(cfg[i]["n_gpus"]), 1 / x["tpot_mean_s"]) for i, x in res.items()
          if disagg(i) == want and meets(x)]
    nd = {i for i, a, b in ok if not any(p >= a and q >= b and (p > a or q > b) for j, p, q in ok if j != i)}
    assert listed == nd, (want, sorted(listed), sorted(nd))
print("goodput: 5 rows; frontier points: agg and disagg checked")
PY
# one mode only: one frontier per GPU type, titled without a mode
$P --rate 10 --slo ttft_p99=1s,tpot_p99=50ms -o "$T/a.h5" >"$T/a.txt" 2>"$T/a.err" || { cat "$T/a.err"; fail "plan, agg only"; }
[ "$(grep -c '^Pareto frontier on h100-sxm (output' "$T/a.txt")" = 1 ] || fail "one mode: not one frontier titled without a mode"
! grep -q "^Pareto frontier on .*aggregated" "$T/a.txt" || fail "one mode: a frontier per mode"

# 3: the binding limit's hint. A TTFT limit under every deployment's prefill: no load meets it.
rc=0; $P --rate 10 --slo ttft_p99=1ms,tpot_p99=50ms -o "$T/t.h5" >"$T/t.txt" 2>"$T/t.err" || rc=$?
[ "$rc" = 3 ] || { cat "$T/t.err"; fail "TTFT under the floor: exit $rc, expected 3"; }
! grep -q "over every deployment's capacity" "$T/t.txt" || fail "TTFT under the floor: told to lower the load"
grep -o "the fastest TTFT p99, .*: no load meets it (.*); relax ttft_p99 or use faster GPUs\." "$T/t.txt" >"$T/t.hint" ||
    { cat "$T/t.txt"; fail "TTFT under the floor: no hint"; }
# a limit just under the lowest load's TTFT: still falling with the load, so not ruled out
rc=0; $P --rate 10 --slo ttft_p99=15ms,tpot_p99=50ms -o "$T/m.h5" >"$T/m.txt" 2>"$T/m.err" || rc=$?
[ "$rc" = 3 ] || { cat "$T/m.err"; fail "TTFT near the floor: exit $rc, expected 3"; }
! grep -q "no load meets it" "$T/m.txt" || fail "TTFT near the floor: ruled out"
grep -o "is [0-9.]*x the 15 ms limit: .* still falls with the load enough that a rate below .* req/s may meet it\." "$T/m.txt" >"$T/m.hint" ||
    { cat "$T/m.txt"; fail "TTFT near the floor: no hint"; }
# and a load over every capacity: some lower load meets the TTFT limit
rc=0; $P --rate 200 --slo ttft_p99=1s,tpot_p99=50ms -o "$T/c.h5" >"$T/c.txt" 2>"$T/c.err" || rc=$?
[ "$rc" = 3 ] || { cat "$T/c.err"; fail "load over capacity: exit $rc, expected 3"; }
grep -o "TTFT binds: the load is over every deployment's capacity (.* meets the TTFT limit at .* req/s); lower --rate or raise --gpus\." "$T/c.txt" >"$T/c.hint" ||
    { cat "$T/c.txt"; fail "load over capacity: no hint"; }
"$PY" - "$T/t.h5" "$T/t.hint" "$T/c.h5" "$T/c.hint" "$T/m.h5" "$T/m.hint" <<'PY' || fail "binding hints"
import sys, re, h5py, math
def rows(path):
    f = h5py.File(path, "r")
    cfg = {int(x["config_id"]): x for x in f["/configs"][:]}
    return [(x, cfg[int(x["config_id"])]) for x in f["/results"][:] if x["status"] == b"ok"]
def unloaded(r):  # per deployment: TTFT at its lowest load less the fall from the next one (convex queueing)
    by = {}
    for x, c in r:
        by.setdefault(c["parallelism"].decode(), []).append((c["arrival_rate"], x["ttft_p99_s"]))
    out = {}
    for d, v in by.items():
        (r1, t1), (r2, t2) = sorted(v)[:2]
        out[d] = (t1 - (t2 - t1) * r1 / (r2 - r1) if t2 > t1 else t1, r1)
    return out
assert all(e > 0.001 for e, _ in unloaded(rows(sys.argv[1])).values())
u = unloaded(rows(sys.argv[5]))
m = re.search(r"limit: (\S+) on h100-sxm still falls .* a rate below (\S+) req/s may meet it", open(sys.argv[6]).read())
assert m and u[m.group(1)][0] <= 0.015 and u[m.group(1)][1] == float(m.group(2)), (m and m.groups(), u)
assert min(x["ttft_p99_s"] for x, c in rows(sys.argv[5])) > 0.015  # no row meets 15 ms
# no load meets 1 ms: the fastest row over every load, named with its rate and ratio
r = rows(sys.argv[1])
x, c = min(r, key=lambda t: t[0]["ttft_p99_s"])
assert x["ttft_p99_s"] > 0.001
m = re.match(r"the fastest TTFT p99, (\S+) ms at (\S+) req/s by (\S+) on h100-sxm, is (\S+)x the 1 ms limit", open(sys.argv[2]).read())
assert m, open(sys.argv[2]).read()
assert float(m.group(1)) == float("%.3g" % (1e3 * x["ttft_p99_s"])), (m.groups(), x["ttft_p99_s"])
assert float(m.group(2)) == c["arrival_rate"] and m.group(3) == c["parallelism"].decode(), (m.groups(), c["parallelism"])
assert float(m.group(4)) == float("%.3g" % (x["ttft_p99_s"] / 0.001)), m.groups()
assert c["arrival_rate"] == 5, c["arrival_rate"]  # the lowest load, 0.5x the target
# 200 req/s: nothing meets the SLO there, and the row named meets the TTFT limit at its rate
r = rows(sys.argv[3])
assert not any(c["arrival_rate"] == 200 and x["ttft_p99_s"] <= 1 and x["tpot_p99_s"] <= 0.05 for x, c in r)
m = re.search(r"capacity \((\S+) on h100-sxm meets the TTFT limit at (\S+) req/s\)", open(sys.argv[4]).read())
assert m, open(sys.argv[4]).read()
named = [x for x, c in r if c["parallelism"].decode() == m.group(1) and c["arrival_rate"] == float(m.group(2))]
assert named and named[0]["ttft_p99_s"] <= 1.0, (m.groups(), named)
assert float(m.group(2)) < 200
print("hints: fastest %.3g ms at %g req/s by %s" % (1e3 * x["ttft_p99_s"], c["arrival_rate"], c["parallelism"].decode()))
PY

# 4: a capacity the search never bracketed. A 1B model on 16-token prompts serves thousands of
# req/s; from a target of 0.5 req/s the search doubles 15 times (max_runs 16): on b200 every probe
# meets the SLO (">=16384"), on h100-sxm the last one misses it (bracketed).
Q="$LLMSWEEP plan --model llama-3.2-1b --isl 16 --osl 2 --hardware b200 --hardware h100-sxm --gpus 1 --rate 0.5 --duration 40 --seed 3 -q"
$Q --slo ttft_p99=1s,tpot_p99=50ms --cost-per-gpu-hour b200=5,h100-sxm=2.5 --power b200=1000,h100-sxm=700 \
    -o "$T/u.h5" >"$T/u.txt" 2>"$T/u.err" || { cat "$T/u.err"; fail "plan, unbracketed capacity"; }
"$LLMSWEEP" report "$T/u.h5" -o "$T/u.report" || fail "report of the unbracketed capacity"
"$PY" - "$T/u.h5" "$T/u.txt" "$T/u.md" "$T/u.report" <<'PY' || fail "unbracketed capacity"
import sys, re, h5py, math
f = h5py.File(sys.argv[1], "r")
cfg = {int(x["config_id"]): x for x in f["/configs"][:]}
searched = [(x, cfg[int(x["config_id"])]) for x in f["/results"][:] if not math.isnan(x["capacity_rps"])]
atleast = {int(x["config_id"]) for x, c in searched if x["capacity_rps"] > 0 and math.isnan(x["capacity_fail_rps"])}
hw = {int(x["config_id"]): c["hardware"].decode() for x, c in searched}
assert [hw[i] for i in atleast] == ["b200"], (atleast, hw)
assert len(searched) == 2, searched
text, md = open(sys.argv[2]).read(), open(sys.argv[3]).read()
why = "met the SLO at every rate probed (the search stopped at max_runs)"
for x, c in searched:
    i, cap = int(x["config_id"]), x["capacity_rps"]
    line = [l for l in text.splitlines() if re.match(r"^ *\d+ +%d " % i, l)]
    assert line, i
    cells = line[0].split()[5:7]
    mdl = [l for l in md.splitlines() if l.startswith("| ") and l.split("|")[2].strip() == str(i)]
    assert mdl, i
    if i in atleast:
        assert cap == 16384, cap  # 0.5 * 2**15: the last of the 16 probes
        # the row itself says so (the sweep's message column)
        assert x["message"].decode().startswith("capacity is a lower bound: the SLO is met at every rate probed, "
                                                "up to 16384 req/s (capacity.max_runs)"), x["message"]
        assert cells == [">=%d" % cap, ">=%d" % cap], line  # 1 GPU
        assert why in line[0] and why in mdl[0], line
        assert ">=%d |" % cap in mdl[0], mdl
    else:
        assert not any(s.startswith(">=") for s in cells) and why not in line[0], line
        assert math.isfinite(x["capacity_fail_rps"]) and x["capacity_fail_rps"] > cap
        assert float(cells[0]) == float("%.3g" % cap), (cells, cap)
# cost and energy at the capacity: upper bounds ("<=") where the capacity is a lower bound
price = {"b200": (5, 1000), "h100-sxm": (2.5, 700)}
cost = [l.split() for l in text.split("cost and energy per output token")[1].split("launch commands")[0].splitlines()
        if re.match(r"^ *\d+ ", l)]
top_ids = [int(l.split()[1]) for l in text.splitlines() if re.match(r"^ *\d+ +\d+ ", l)]
assert len(cost) == 2 == len(top_ids), cost
for c, i in zip(cost, top_ids):
    x = [x for x, _ in searched if int(x["config_id"]) == i][0]
    usd, w = price[c[1]]
    tps_cap = x["output_tps"] / x["throughput_rps"] * x["capacity_rps"]
    want = ["%.4g" % (usd / (tps_cap * 3600) * 1e6), "%.4g" % (w / tps_cap)]  # 1 GPU
    if i in atleast:
        want = ["<=" + v for v in want]
    assert [c[4], c[6]] == want, (c, want)
# the report's capacity table: ">=R" in the rows of exactly those deployments
lines = open(sys.argv[4]).read().splitlines()
k = next(j for j, l in enumerate(lines) if l.startswith("strategy gpu      GPUs capacity"))
table = [l.split() for l in lines[k + 2:lines.index("", k)]]
assert sorted(c[1] for c in table if c[3].startswith(">=")) == ["b200"], table
assert [c[3:5] for c in table if c[1] == "b200"] == [[">=16384", ">=16384"]], table
assert "at least 16384 req/s per GPU" in " ".join(open(sys.argv[4]).read().split()), "report summary"
print("capacity >= 16384 on b200; bracketed on h100-sxm")
PY
echo "plan_answer: ok"
