#!/usr/bin/env bash
# plot_scale.sh -- `llmsweep plot` on a large result file stays bounded (issue 18.7: 100,000 rows
# ran past 300 s with a 1,000-entry legend). A synthetic file of 10,000 rows (2,000 configurations
# x 5 rates, 2 models; layout copied from a real tiny sweep) is plotted; then:
# - the latency plot has one legend per model, each with at most 10 configurations;
# - the bar charts show 30 configurations, and capacity_per_gpu shows exactly the 30 with the most
#   capacity per GPU, computed here from /results with numpy (capacity on each configuration's
#   first listing, / n_gpus);
# - standard error says what was left out.
# Skips when matplotlib, h5py or numpy is missing. No time limit here (bench/ holds figures):
# docs/REPORT.md records the 100,000-row run.
set -euo pipefail
NEED_PY="matplotlib h5py numpy"
source "$(dirname "$0")/h5py_lib.bash"

"$LLMSWEEP" sweep "$here/tiny-sweep.yaml" -o "$tmp/tiny.h5" --no-progress --quiet
"$PY" "$here/big_results.py" "$tmp/tiny.h5" "$tmp/big.h5" 10000
"$LLMSWEEP" plot "$tmp/big.h5" -o "$tmp/plots" > "$tmp/list" 2> "$tmp/err"
cat "$tmp/err"
for p in latency_vs_rate goodput success capacity_per_gpu; do
  [ -s "$tmp/plots/$p.png" ] && [ -s "$tmp/plots/$p.svg" ] || { echo "missing $p"; exit 1; }
done
grep -q "2000 configurations: capacity_per_gpu shows the 30 with the most capacity per GPU" "$tmp/err" \
  || { echo "no note on what was left out"; exit 1; }

"$PY" - "$tmp" <<'PYEOF'
import re, sys, h5py, numpy as np
tmp = sys.argv[1]
f = h5py.File(f"{tmp}/big.h5", "r")
c, r = f["configs"][...], f["results"][...]
assert (c["config_id"] == r["config_id"]).all()
cap = r["capacity_rps"]
first = ~np.isnan(cap)
lab = [f"{p.decode()} {m.decode()} {cl.decode()} {s}" for p, m, cl, s in
       zip(c["parallelism"][first], c["model"][first], c["cluster"][first], c["max_num_seqs"][first])]
per = cap[first] / c["n_gpus"][first]
order = sorted(range(len(lab)), key=lambda i: (-per[i], lab[i]))[:30]
want = {lab[i] for i in order}

svg = open(f"{tmp}/plots/capacity_per_gpu.svg").read()
got = set(re.findall(r"<!-- (.*) \([0-9]+ GPU\) -->", svg))
assert got == want, f"capacity_per_gpu shows {sorted(got - want)[:3]}..., not the top 30 {sorted(want - got)[:3]}"

svg = open(f"{tmp}/plots/latency_vs_rate.svg").read()
legends = svg.split('id="legend_')[1:]
assert len(legends) == 2, f"{len(legends)} legends, expected one per model"
for leg in legends:
    entries = [t for t in re.findall(r"<!-- (.*?) -->", leg) if re.match(r"(tp|dp|pp)[0-9]", t)]
    assert 0 < len(entries) <= 10, f"a legend with {len(entries)} configurations"
for p in ("goodput", "success"):
    svg = open(f"{tmp}/plots/{p}.svg").read()
    ticks = set(re.findall(r"<!-- ((?:tp|dp|pp)[0-9][^>]*?) -->", svg))
    assert 0 < len(ticks) <= 30, f"{p}: {len(ticks)} configurations drawn"
print("ok")
PYEOF
