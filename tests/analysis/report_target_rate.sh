#!/usr/bin/env bash
# report_target_rate.sh -- a workload.target_rate axis gives ONE capacity search and ONE capacity row
# per configuration (issue 18.2), and the report labels each group by its rate.
#
# Expected values come from the file, read by h5py: /results holds exactly one capacity_rps per
# configuration (its first listing; the others NaN), the same on 1 and 2 ranks; the text capacity
# table has one row per configuration showing that value, and every CSV listing carries it.
set -euo pipefail
source "$(dirname "$0")/h5py_lib.bash"

"$LLMSWEEP" sweep "$here/target-rate-sweep.yaml" -o "$tmp/one.h5" --no-progress --quiet
mpirun -np 2 "$LLMSWEEP" sweep "$here/target-rate-sweep.yaml" -o "$tmp/two.h5" --no-progress --quiet
"$LLMSWEEP" report "$tmp/two.h5" > "$tmp/r.txt"
"$LLMSWEEP" report "$tmp/two.h5" --format csv > "$tmp/r.csv"

"$PY" - "$tmp" <<'PYEOF'
import csv, math, re, sys, h5py
tmp = sys.argv[1]
def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)
def fmt_rate(r):  # the report's printed precision
    return f"{r:.2f}" if r < 10 else f"{r:.1f}" if r < 100 else f"{r:.0f}"

def searched(path):
    f = h5py.File(path, "r")
    cfg = {int(x["config_id"]): x for x in f["configs"][...]}
    res = {int(x["config_id"]): x for x in f["results"][...]}
    assert len(cfg) == 10 and len(res) == 10, (len(cfg), len(res))
    out = {}
    for i, r in res.items():
        assert s(r["status"]) == "ok", (i, s(r["status"]), s(r["message"]))
        if not math.isnan(float(r["capacity_rps"])):
            p = s(cfg[i]["parallelism"])
            assert p not in out, f"{path}: {p} searched twice (configs {out.get(p)} and {i})"
            out[p] = (i, float(r["capacity_rps"]))
    assert sorted(out) == ["tp1", "tp2"], f"{path}: searched {out}"
    # the searched listing is the configuration's first (lowest config_id)
    for p, (i, _) in out.items():
        assert i == min(j for j in cfg if s(cfg[j]["parallelism"]) == p), (p, i)
    return out, cfg

one, _ = searched(f"{tmp}/one.h5")
two, cfg = searched(f"{tmp}/two.h5")
assert one == two, f"1 rank {one} != 2 ranks {two}"

text = open(f"{tmp}/r.txt", encoding="utf-8").read()
lines = text.split("\n")
i = next(k for k, l in enumerate(lines) if l.startswith("Capacity (bisection"))
i = next(k for k in range(i, len(lines)) if lines[k].startswith("strategy")) - 1
rows = []
for l in lines[i + 3:]:
    if not l.strip():
        break
    rows.append(l.split())
assert len(rows) == 2, f"capacity table has {len(rows)} rows, expected one per configuration: {rows}"
for r in rows:
    assert r[2] == fmt_rate(two[r[0]][1]), f"capacity row {r}: /results holds {two[r[0]][1]}"

for d in csv.DictReader(open(f"{tmp}/r.csv", encoding="utf-8")):
    assert float(d["capacity_rps"]) == two[d["parallelism"]][1], d["config_id"]

# each group is labelled by the rate its trace was rescaled to
titles = [l for l in lines if l.startswith("== ")]
assert len(titles) == 5, titles
for rate, t in zip(sorted({float(c["arrival_rate"]) for c in cfg.values()}), titles):
    assert re.search(rf"rescaled to {rate:g} req/s", t), f"group title {t!r} does not name {rate:g} req/s"
print("ok")
PYEOF
