#!/usr/bin/env bash
# report_defaults.sh -- the report's defaults answer the planner's question (issue 18.7):
# - without --slo it judges every configuration by the SLO stored in the file (slo_ttft_s,
#   slo_tpot_s: here 500 ms / 40 ms), not a built-in 2 s / 200 ms, and says so in its header;
#   --slo still overrides it;
# - it leads (before the per-load tables) with capacity per GPU grouped by model: per model the
#   configuration with the most capacity per GPU and its figures;
# - an infeasible configuration's reason is printed in full, wrapped inside 100 columns.
# Expected values come from the file, read by h5py, not from the report's code.
set -euo pipefail
source "$(dirname "$0")/h5py_lib.bash"

mpirun -np 2 "$LLMSWEEP" sweep "$here/slo-file-sweep.yaml" -o "$tmp/r.h5" --no-progress --quiet
"$LLMSWEEP" report "$tmp/r.h5" > "$tmp/r.txt"
"$LLMSWEEP" report "$tmp/r.h5" --format csv > "$tmp/r.csv"
"$LLMSWEEP" report "$tmp/r.h5" --format csv --slo ttft_p99=2s,tpot_p99=200ms > "$tmp/given.csv"

"$PY" - "$tmp" <<'PYEOF'
import csv, math, re, sys, h5py
tmp = sys.argv[1]
def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)
def fmt_rate(r):
    return f"{r:.2f}" if r < 10 else f"{r:.1f}" if r < 100 else f"{r:.0f}"

f = h5py.File(f"{tmp}/r.h5", "r")
cfg = {int(c["config_id"]): c for c in f["configs"][...]}
res = {int(x["config_id"]): x for x in f["results"][...]}

def meets(i, ttft, tpot):
    r = res[i]
    if s(r["status"]) != "ok":
        return False
    p = float(r["tpot_p99_s"])
    return (float(r["ttft_p99_s"]) <= ttft and (math.isnan(p) or p <= tpot)
            and float(r["success_rate"]) >= 0.99)

own = {i: meets(i, float(c["slo_ttft_s"]), float(c["slo_tpot_s"])) for i, c in cfg.items()}
dflt = {i: meets(i, 2.0, 0.2) for i in cfg}
assert any(own[i] != dflt[i] for i in cfg), "fixture: the file's SLO must change some verdict"
for path, want in ((f"{tmp}/r.csv", own), (f"{tmp}/given.csv", dflt)):
    for d in csv.DictReader(open(path, encoding="utf-8")):
        i = int(d["config_id"])
        assert (d["slo_met"] == "1") == want[i], f"{path}: config {i} slo_met {d['slo_met']}"

text = open(f"{tmp}/r.txt", encoding="utf-8").read()
lines = text.split("\n")
assert all(len(l) <= 100 for l in lines), [l for l in lines if len(l) > 100]
head = " ".join(" ".join(lines[:5]).split())
assert "TTFT p99 <= 500ms, TPOT p99 <= 40ms" in head and "the file's" in head, head

# the lead: capacity per GPU by model, before the first per-load table
lead = lines.index(next(l for l in lines if l.startswith("Capacity per GPU, by model")))
first_table = lines.index(next(l for l in lines if l.startswith("== 1/")))
assert lead < first_table, "the report does not lead with capacity"
lead_text = " ".join(" ".join(lines[lead:first_table]).split())
cols = [n for n in f["configs"].dtype.names if n not in ("config_id", "config_hash", "arrival_rate")]
caps = {}
for i, c in cfg.items():
    v = float(res[i]["capacity_rps"])
    if not math.isnan(v):
        key = tuple(s(c[n]) for n in cols)
        assert key not in caps, "two searches of one configuration"
        caps[key] = (i, v)
models = []
for i in sorted(cfg):
    if s(cfg[i]["model"]) not in models:
        models.append(s(cfg[i]["model"]))
for m in models:
    mine = [(v / int(cfg[i]["n_gpus"]), v, -i, i) for (i, v) in caps.values() if s(cfg[i]["model"]) == m]
    per, cap, _, i = max(mine)
    name = "TP=" + s(cfg[i]["parallelism"])[2:]
    want = f"{m}: the most capacity per GPU is {name}, {fmt_rate(per)} req/s per GPU ({fmt_rate(cap)} req/s on {int(cfg[i]['n_gpus'])} GPU"
    assert want in lead_text, f"lead lacks {want!r}:\n{lead_text}"

# infeasible reasons in full
flat = " ".join(text.split())
n_inf = 0
for i, r in res.items():
    if s(r["status"]) == "infeasible":
        msg = " ".join(s(r["message"]).split())
        assert f"infeasible: {msg}" in flat, f"reason of config {i} cut: {msg}"
        n_inf += 1
assert n_inf and any(len(s(r["message"])) > 80 for r in res.values()), "fixture: a long reason"
print("ok")
PYEOF
