#!/usr/bin/env bash
# plan_reasons.sh -- the "why not first" column of plan's top table (issue 16: "the top-N table, with
# the reasons each runner-up lost"), recomputed from the HDF5 rows with h5py, not by the code that
# printed it: the order (the deployments meeting the SLO at the target first, then capacity per GPU
# descending), "best capacity per GPU" on the first line, "N% less capacity per GPU (a vs b req/s)"
# with a, b and N from the rows' capacities and GPU counts ("; more GPUs for the same load" exactly
# when it has more GPUs than the first), "ties on capacity per GPU" only on equal capacities per GPU,
# and "misses the SLO at the target rate (tpot_p99 X ms > L ms)" only on rows that miss it, X the
# row's own p99.
. "$(dirname "$0")/sweep_lib.bash"
"$PY" -c "import h5py" 2>/dev/null || { echo "plan_reasons: no h5py, skipped"; exit 77; }
$LLMSWEEP plan --model llama-3-8b --hardware h100-sxm --gpus 4 --isl 512 --osl 64 --duration 20 --seed 3 \
    --rate 10 --slo ttft_p99=1s,tpot_p99=11ms --top 20 -o "$T/r.h5" -q >"$T/r.txt" 2>"$T/r.err" ||
    { cat "$T/r.err"; fail "plan"; }
sed -n '/^top .* deployments by capacity per GPU/,/^launch commands/p' "$T/r.txt" | sed '1,2d;$d' >"$T/top.txt"
[ -s "$T/top.txt" ] || { cat "$T/r.txt"; fail "no top table"; }
"$PY" - "$T/r.h5" "$T/top.txt" <<'PY' || fail "reasons"
import sys, re, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
res, cfg = f["/results"][:], f["/configs"][:]
row = {int(x["config_id"]): x for x in res}
conf = {int(x["config_id"]): x for x in cfg}
skip = {"config_id", "config_hash", "arrival_rate"}
key = lambda c: tuple(c[n].tobytes() if hasattr(c[n], "tobytes") else c[n] for n in cfg.dtype.names if n not in skip)
cap = {}
for i, c in conf.items():  # a deployment's capacity: on whichever of its listings searched
    v = row[i]["capacity_rps"]
    if not np.isnan(v):
        cap[key(c)] = v
g3 = lambda v: float("%.3g" % v)
lines = [l for l in open(sys.argv[2]).read().splitlines() if l.strip()]
deps = []
for l in lines:
    cid = int(l.split()[1])
    x, c = row[cid], conf[cid]
    assert c["arrival_rate"] == 10, (cid, c["arrival_rate"])  # the row shown is the one at the target
    tp = x["tpot_p99_s"]
    meets = x["ttft_p99_s"] <= 1.0 and (np.isnan(tp) or tp <= 0.011) and x["success_rate"] >= 0.99
    k = key(c)
    per = cap[k] / int(c["n_gpus"])
    deps.append((l, cid, meets, per, int(c["n_gpus"]), x))
assert deps[0][2] and "best capacity per GPU" in deps[0][0], deps[0][0]
best = deps[0]
seen_miss = False
prev = None
kinds = set()
for l, cid, meets, per, n, x in deps[1:]:
    if not meets:
        seen_miss = True
        m = re.search(r"misses the SLO at the target rate \((.*)\)$", l)
        assert m, l
        for part in m.group(1).split(", "):
            mm = re.fullmatch(r"tpot_p99 ([0-9.]+) ms > 11 ms", part)
            if mm:
                assert abs(float(mm.group(1)) - g3(1e3 * x["tpot_p99_s"])) < 1e-9, (l, x["tpot_p99_s"])
                assert x["tpot_p99_s"] > 0.011, l
        kinds.add("miss")
        continue
    assert not seen_miss, "a deployment meeting the SLO ranks below one that misses it: " + l
    assert prev is None or per <= prev + 1e-12, "not in capacity per GPU order: " + l
    prev = per
    m = re.search(r"(\d+)% less capacity per GPU \(([0-9.]+) vs ([0-9.]+) req/s\)(; more GPUs for the same load)?$", l)
    if m:
        assert per < best[3], l
        assert float(m.group(2)) == g3(per) and float(m.group(3)) == g3(best[3]), (l, per, best[3])
        assert int(m.group(1)) == round(100 * (1 - per / best[3])), (l, 100 * (1 - per / best[3]))
        assert bool(m.group(4)) == (n > best[4]), (l, n, best[4])
        kinds.add("less")
    else:
        m = re.search(r"ties on capacity per GPU; uses (\d+) GPUs against (\d+)$", l)
        assert m and per == best[3] and int(m.group(1)) == n and int(m.group(2)) == best[4], l
        kinds.add("tie")
assert {"less", "miss"} <= kinds, kinds
print("top table: %d lines, reasons %s, all recomputed from the rows" % (len(deps), sorted(kinds)))
PY
echo "plan_reasons: ok"
