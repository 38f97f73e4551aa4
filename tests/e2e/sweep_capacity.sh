#!/usr/bin/env bash
# sweep_capacity.sh -- `capacity:` in a specification runs the capacity search for every ok
# configuration and fills capacity_rps; without it capacity_rps stays NaN.
. "$(dirname "$0")/sweep_lib.bash"
cat > "$T/cap.yaml" <<'YAML'
name: cap
seed: 5
base:
  model: llama-3-8b
  hardware: h100-sxm
  cluster: dgx-h100
  parallelism: tp1
  scheduler: {policy: vllm-v1, max_num_seqs: 64}
  workload:
    arrival: {process: poisson, rate: 2}
    prompt_tokens: {dist: lognormal, mean: 512, stddev: 256}
    output_tokens: {dist: lognormal, mean: 64, stddev: 32}
    duration_s: 20
  slo: {ttft_s: 0.5, tpot_s: 0.05}
grid:
  parallelism: [tp1, tp2]
capacity: {rel_tol: 0.25, max_runs: 8}
YAML
"$LLMSWEEP" sweep "$T/cap.yaml" --dry-run | grep -q "capacity search: rel_tol 0.25, max_runs 8" || fail "dry-run"
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$T/cap.yaml" -o "$T/cap.h5" -q || fail "sweep with capacity"
sed '/^capacity:/d' "$T/cap.yaml" > "$T/nocap.yaml"
"$LLMSWEEP" sweep "$T/nocap.yaml" -o "$T/nocap.h5" -q || fail "sweep without capacity"
"$PY" - "$T/cap.h5" "$T/nocap.h5" <<'PY' || fail "capacity_rps"
import sys, h5py, numpy as np
r = h5py.File(sys.argv[1], "r")["/results"][:]
assert len(r) == 2 and set(r["status"]) == {b"ok"}
assert np.all(np.isfinite(r["capacity_rps"]) & (r["capacity_rps"] > 0)), r["capacity_rps"]
n = h5py.File(sys.argv[2], "r")["/results"][:]
assert np.all(np.isnan(n["capacity_rps"]))
# the searched capacity does not change the run's own metrics
a, b = np.sort(r, order="config_id"), np.sort(n, order="config_id")
assert np.array_equal(a["throughput_rps"], b["throughput_rps"])
PY
echo "sweep_capacity: ok"
