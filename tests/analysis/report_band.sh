#!/usr/bin/env bash
# report_band.sh -- reports and `llmsweep plan` print the expected error band, and its numbers are the
# ones of the single generated table analysis/fidelity_band_data.c (bench_fidelity's cross-validation,
# scripts/make_fidelity_band.sh), read here from that file, not from the C code that prints them.
set -euo pipefail
: "${LLMSWEEP:?set by ctest}"
PY=${LS_PYTHON:-/usr/bin/python3}
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# the roofline row of the generated table: "held-out median X%, worst Y%"
want=$("$PY" - "$src/analysis/fidelity_band_data.c" <<'PY'
import re, sys
m = re.search(r'\{"roofline", (\d+), ([0-9.]+), ([0-9.]+), ([0-9.]+), ([0-9.]+),', open(sys.argv[1]).read())
assert m, "no roofline band in the table"
print("held-out median %.1f%%, worst %.1f%% over %s " % (100 * float(m[4]), 100 * float(m[5]), m[1]))
PY
)
echo "band: $want"
cat >"$tmp/spec.yaml" <<'Y'
name: band
seed: 3
base:
  model: llama-3.1-8b
  hardware: h100-sxm
  cluster: dgx-h100
  workload:
    arrival: {process: poisson, rate: 2}
    prompt_tokens: {dist: fixed, value: 256}
    output_tokens: {dist: fixed, value: 32}
    duration_s: 10
grid:
  parallelism: [tp1, tp2]
Y
"$LLMSWEEP" sweep "$tmp/spec.yaml" -o "$tmp/r.h5" --no-progress --quiet || fail "sweep"
"$LLMSWEEP" report "$tmp/r.h5" | tr '\n' ' ' | tr -s ' ' >"$tmp/r.txt"
"$LLMSWEEP" report "$tmp/r.h5" --format md | tr '\n' ' ' | tr -s ' ' >"$tmp/r.md"
grep -qF "expected error of throughput figures (roofline cost model): $want" "$tmp/r.txt" || { cat "$tmp/r.txt"; fail "text report"; }
grep -qF "expected error of throughput figures (roofline cost model): $want" "$tmp/r.md" || fail "markdown report"
"$LLMSWEEP" plan --model llama-3.1-8b --hardware h100-sxm --gpus 1 --isl 256 --osl 32 --duration 10 --rate 1 --slo ttft_p99=2s,tpot_p99=50ms \
    -o "$tmp/p.h5" -q >"$tmp/p.txt" 2>"$tmp/err" || { cat "$tmp/err"; fail "plan"; }
grep -qF "note: expected error of throughput figures (roofline cost model): $want" "$tmp/p.txt" || { cat "$tmp/p.txt"; fail "plan answer"; }
grep -qF -- "- expected error of throughput figures (roofline cost model): $want" "$tmp/p.md" || fail "plan markdown"
echo ok
