#!/usr/bin/env bash
# spec_gain.sh -- speculative decoding against the same run without it, through the real command line:
# - `llmsweep run` with a speculative block runs the baseline too: its spec_tpot_gain is the ratio of
#   the two runs' mean TPOT (checked against a run without the block), --no-baseline leaves it null;
# - a sweep over MPI (mpirun -np 2) of rate x {none, eagle k3 a0.5} into HDF5: the known shape (gain > 1
#   at 1 req/s, < 1 at 64 req/s, computed here from the HDF5 rows' mean TPOTs, not by the report), and
#   the crossover the report prints lies between the two listed rates that bracket it, where this
#   script's own linear interpolation puts it;
# - a sweep over k x acceptance x method into HDF5 under mpirun: one row per point, each with the
#   expected tokens per step (1 - a^(k+1)) / (1 - a);
# (the default study's speculative family is checked by tests/analysis/report_capacity_by.sh)
# - `llmsweep plot` draws spec_gain (skipped without matplotlib).
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PY=${LS_PYTHON:-/usr/bin/python3}
MPI=${MPIEXEC:-$(command -v mpiexec || command -v mpirun)}
cat >"$T/c.yaml" <<'Y'
model: llama-3-8b
hardware: h100-sxm
parallelism: tp1
scheduler: {max_num_seqs: 256}
workload:
  arrival: {process: poisson, rate: 1}
  prompt_tokens: {dist: lognormal, mean: 512, stddev: 256}
  output_tokens: {dist: lognormal, mean: 256, stddev: 64}
  duration_s: 20
seed: 3
Y
E5='speculative={method: eagle, num_speculative_tokens: 3, acceptance: 0.5}'

# 1. run: the gain against a run without the block
"$LLMSWEEP" run --config "$T/c.yaml" --set "$E5" --json >"$T/s.json" 2>"$T/err" || fail "run: $(cat "$T/err")"
"$LLMSWEEP" run --config "$T/c.yaml" --json >"$T/b.json" || fail "baseline run"
"$LLMSWEEP" run --config "$T/c.yaml" --set "$E5" --json --no-baseline >"$T/n.json" || fail "--no-baseline run"
"$LLMSWEEP" run --config "$T/c.yaml" --set "$E5" >"$T/s.txt" || fail "text run"
"$PY" - "$T/s.json" "$T/b.json" "$T/n.json" <<'PY' || fail "run gains"
import json, sys
s, b, n = (json.load(open(p)) for p in sys.argv[1:])
g = b["tpot_mean_s"] / s["tpot_mean_s"]
assert abs(s["spec_tpot_gain"] - g) < 1e-9 * g, (s["spec_tpot_gain"], g)
assert abs(s["spec_ttft_gain"] - b["ttft_mean_s"] / s["ttft_mean_s"]) < 1e-9
assert abs(s["spec_throughput_gain"] - s["output_tps"] / b["output_tps"]) < 1e-9
assert g > 1.3, g                      # batch ~2: memory-bound, most of the 1.875 tokens a step
assert n["spec_tpot_gain"] is None and n["tpot_mean_s"] == s["tpot_mean_s"], n["spec_tpot_gain"]
assert b["spec_tpot_gain"] is None     # nothing to compare without speculation
PY
grep -q "against the same run without it: TPOT gain" "$T/s.txt" || fail "text output lacks the gain: $(cat "$T/s.txt")"

# 2. the crossover: a sweep over MPI, rate x speculation
cat >"$T/x.yaml" <<Y
name: spec-crossover
seed: 3
base:
$(sed 's/^/  /' "$T/c.yaml" | grep -v '^  seed')
grid:
  workload.arrival.rate: [1, 16, 64]
  speculative: [{method: none}, {method: eagle, num_speculative_tokens: 3, acceptance: 0.5}]
Y
"$MPI" -np 2 "$LLMSWEEP" sweep "$T/x.yaml" -o "$T/x.h5" --no-progress -q 2>"$T/err" || fail "sweep: $(cat "$T/err")"
"$LLMSWEEP" report "$T/x.h5" >"$T/x.txt" 2>"$T/err" || fail "report: $(cat "$T/err")"
"$PY" - "$T/x.h5" "$T/x.txt" <<'PY' || fail "crossover: $(grep -A12 'Where speculation pays' "$T/x.txt")"
import re, sys, h5py
f = h5py.File(sys.argv[1], "r")
cfg = {int(i): (float(r), s.decode().rstrip("\0")) for i, r, s in
       zip(f["/configs"]["config_id"], f["/configs"]["arrival_rate"], f["/configs"]["speculative"])}
tpot = {cfg[int(i)]: t for i, t in zip(f["/results"]["config_id"], f["/results"]["tpot_mean_s"])}
rates = sorted({r for r, _ in tpot})
assert rates == [1, 16, 64], rates
gain = [tpot[(r, "none")] / tpot[(r, "eagle k3 a0.5")] for r in rates]
assert gain[0] > 1 and gain[-1] < 1, gain       # the known shape
i = next(i for i in range(len(rates) - 1) if gain[i] >= 1 > gain[i + 1])
want = rates[i] + (gain[i] - 1) / (gain[i] - gain[i + 1]) * (rates[i + 1] - rates[i])
text = " ".join(open(sys.argv[2]).read().split())
m = re.search(r"TP=1 \(eagle k3 a0.5\): TPOT gain .*? Speculation wins below about ([0-9.]+) req/s "
              r"\(the gain falls through 1 between ([0-9.]+) and ([0-9.]+) req/s\)", text)
assert m, "no crossover sentence"
x, lo, hi = map(float, m.groups())
assert (lo, hi) == (rates[i], rates[i + 1]), (lo, hi, rates[i:i + 2])
assert lo < x < hi, (x, lo, hi)
assert abs(x - want) <= 0.006 * want + 0.01, (x, want)
# the table lists every pair with its gain
for r, g in zip(rates, gain):
    assert re.search(r"tp1 eagle k3 a0.5 %g .* %.2fx" % (r, g), text), (r, g)
PY
"$LLMSWEEP" report "$T/x.h5" --format csv >"$T/x.csv" || fail "csv"
"$PY" - "$T/x.csv" <<'PY' || fail "csv gains"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
spec = [r for r in rows if r["speculative"] != "none"]
assert len(spec) == 3 and all(float(r["spec_tpot_gain"]) > 0 for r in spec), spec
assert all(r["spec_tpot_gain"] == "" for r in rows if r["speculative"] == "none")
PY

# 3. k x acceptance x method over MPI into HDF5
cat >"$T/k.yaml" <<Y
name: spec-k-alpha
seed: 3
base:
$(sed 's/^/  /' "$T/c.yaml" | grep -v '^  seed')
  speculative: {method: eagle, num_speculative_tokens: 1, acceptance: 0.5}
grid:
  speculative.method: [eagle, ngram]
  speculative.num_speculative_tokens: [1, 2, 4]
  speculative.acceptance: [0.3, 0.8]
Y
"$MPI" -np 2 "$LLMSWEEP" sweep "$T/k.yaml" -o "$T/k.h5" --no-progress -q 2>"$T/err" || fail "k sweep: $(cat "$T/err")"
"$PY" - "$T/k.h5" <<'PY' || fail "k x alpha rows"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
lab = {int(i): s.decode().rstrip("\0") for i, s in zip(f["/configs"]["config_id"], f["/configs"]["speculative"])}
res = f["/results"]
got = {lab[int(i)]: (v, st.decode().rstrip("\0") if isinstance(st, bytes) else st)
       for i, v, st in zip(res["config_id"], res["spec_mean_accepted_tokens"], res["status"])}
want = {f"{m} k{k} a{a:g}" for m in ("eagle", "ngram") for k in (1, 2, 4) for a in (0.3, 0.8)}
assert set(got) == want, sorted(got)
for c, (v, st) in got.items():
    k, a = int(c.split()[1][1:]), float(c.split()[2][1:])
    e = (1 - a ** (k + 1)) / (1 - a)
    assert abs(v - e) < 0.05 * e, (c, v, e)
PY

# 4. the plot of the gain against load
if "$PY" -c 'import matplotlib, h5py, numpy' 2>/dev/null; then
    "$LLMSWEEP" plot "$T/x.h5" -o "$T/plots" >"$T/plots.list" 2>"$T/err" || fail "plot: $(cat "$T/err")"
    [ -s "$T/plots/spec_gain.png" ] && grep -q '<svg' "$T/plots/spec_gain.svg" || fail "no spec_gain plot"
    grep -q "req/s" "$T/plots/spec_gain.svg" || fail "spec_gain.svg: no crossover label"
else
    echo "plot skipped: matplotlib/h5py/numpy missing for $PY"
fi
echo ok
