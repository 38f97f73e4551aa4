#!/usr/bin/env bash
# plot_e2e.sh -- `llmsweep plot` on a tiny real sweep with per-request rows: every plot exists as
# PNG and SVG and is not empty; a missing Python names the packages to install. Skips (exit 0,
# with a message) when matplotlib, h5py or numpy is missing.
set -euo pipefail
: "${LLMSWEEP:?set by ctest}"
PY=${LS_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import matplotlib, h5py, numpy' 2>/dev/null; then
  echo "SKIP: matplotlib/h5py/numpy missing for $PY (apt-get install python3-matplotlib python3-h5py python3-numpy)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp "$(dirname "$0")/tiny-sweep.yaml" "$tmp/spec.yaml"

mpirun -np 2 "$LLMSWEEP" sweep "$tmp/spec.yaml" -o "$tmp/r.h5" --no-progress --quiet --requests all
"$LLMSWEEP" plot "$tmp/r.h5" -o "$tmp/plots" > "$tmp/plots.list"
for p in latency_vs_rate goodput success capacity_per_gpu ttft_cdf; do
  for ext in png svg; do
    f="$tmp/plots/$p.$ext"
    [ -s "$f" ] || { echo "missing or empty plot $f"; exit 1; }
  done
  [ "$(stat -c %s "$tmp/plots/$p.png")" -gt 10000 ] || { echo "$p.png suspiciously small"; exit 1; }
  head -c 8 "$tmp/plots/$p.png" | od -An -c | grep -q 'P   N   G' || { echo "$p.png is not a PNG"; exit 1; }
  grep -q '<svg' "$tmp/plots/$p.svg" || { echo "$p.svg is not an SVG"; exit 1; }
done
# latency_vs_rate: the legend names both SLO lines, and every plotted TTFT/TPOT p99 lies at or
# below the highest labelled tick of its panel (values above the last label could not be read)
"$PY" - "$tmp/r.h5" "$tmp/plots/latency_vs_rate.svg" <<'PYEOF'
import re, sys, h5py, numpy as np
res = h5py.File(sys.argv[1], "r")["results"][...]
ok = np.array([s.decode() if isinstance(s, bytes) else s for s in res["status"]]) == "ok"
svg = open(sys.argv[2]).read()
legend = svg[svg.index('id="legend_1"'):]
for want in ("SLO TTFT p99 2 s (left)", "SLO TPOT p99 200 ms (right)"):
    assert f"<!-- {want} -->" in legend, f"legend lacks {want!r}"
def top_label(axes_id, axis_id):
    part = svg[svg.index(f'id="{axes_id}"'):]
    part = part[part.index(f'id="{axis_id}"'):]
    ends = [part.find(m, 1) for m in ('id="axes_', 'id="legend_', 'id="matplotlib.axis_')]
    part = part[:min([e for e in ends if e > 0] + [len(part)])]
    return max(float(v) for v in re.findall(r"<!-- ([0-9.]+) -->", part))
for axes_id, axis_id, col, scale in (("axes_1", "matplotlib.axis_2", "ttft_p99_s", 1),
                                     ("axes_2", "matplotlib.axis_4", "tpot_p99_s", 1e3)):
    v = res[col][ok] * scale
    v = v[np.isfinite(v)]
    top = top_label(axes_id, axis_id)
    assert v.max() <= top, f"{col}: {v.max():g} above the highest tick label {top:g}"
    print(f"{col}: max {v.max():g}, highest tick label {top:g}")
PYEOF
# no configuration with prefix caching: no prefix_hit_rate plot
[ ! -e "$tmp/plots/prefix_hit_rate.png" ] || { echo "prefix_hit_rate plotted without prefix caching"; exit 1; }
# prefix caching on shared system prompts at two KV sizes and two rates: the hit-rate plot, one
# legend entry per configuration (its label: strategy, then the varying gpu_memory_utilization)
cat >"$tmp/pc.yaml" <<'EOF'
name: prefix-plot
seed: 5
base:
  model: llama-3.1-8b
  hardware: h100-sxm
  scheduler: {enable_prefix_caching: true}
  workload:
    arrival: {process: poisson, rate: 2}
    prompt_tokens: {dist: fixed, value: 600}
    output_tokens: {dist: fixed, value: 16}
    shared_prefix: {prompts: 8, tokens: 2048}
    max_requests: 80
grid:
  workload.arrival.rate: [2, 8]
  scheduler.gpu_memory_utilization: [0.35, 0.9]
EOF
"$LLMSWEEP" sweep "$tmp/pc.yaml" -o "$tmp/pc.h5" --no-progress --quiet
"$LLMSWEEP" plot "$tmp/pc.h5" -o "$tmp/pcp" >/dev/null
for ext in png svg; do [ -s "$tmp/pcp/prefix_hit_rate.$ext" ] || { echo "no prefix_hit_rate.$ext"; exit 1; }; done
for lab in "tp1 0.35" "tp1 0.9"; do
  grep -q -- "<!-- $lab -->" "$tmp/pcp/prefix_hit_rate.svg" || { echo "prefix_hit_rate: no legend entry '$lab'"; exit 1; }
done
# a missing interpreter is reported with the package to install
if LS_PYTHON=/nonexistent/python3 "$LLMSWEEP" plot "$tmp/r.h5" -o "$tmp/p2" 2>"$tmp/err"; then
  echo "plot without python succeeded"; exit 1
fi
grep -q "apt-get install" "$tmp/err"
echo "ok"
