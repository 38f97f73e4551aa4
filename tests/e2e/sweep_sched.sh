#!/usr/bin/env bash
# sweep_sched.sh -- the scheduler's order rule and adaptive budget as sweep axes over a workload with
# request classes, on 1 and 2 MPI ranks into HDF5 (identical results): /configs names the order, the
# budget mode and the classes; /results has the per-class columns (undefined classes: -1 / NaN), and
# order priority gives the priority-0 class a lower TTFT tail than fcfs in both budget modes.
. "$(dirname "$0")/sweep_lib.bash"
cat > "$T/sched.yaml" <<'YAML'
name: sched-e2e
seed: 5
base:
  model: llama-3-8b
  hardware: h100-sxm
  scheduler: {max_num_seqs: 8, max_batched_tokens: 2048, target_tbt_s: 0.05}
  workload:
    arrival: {process: poisson, rate: 12}
    prompt_tokens: {dist: uniform, low: 64, high: 2048}
    output_tokens: {dist: fixed, value: 64}
    duration_s: 15
    classes:
      - {name: interactive, share: 0.3, priority: 0, slo: {ttft_s: 0.5, tpot_s: 0.05}}
      - {name: batch, share: 0.7, priority: 1}
grid:
  scheduler.order: [fcfs, priority]
  scheduler.adaptive_budget: [false, true]
YAML
"$LLMSWEEP" sweep "$T/sched.yaml" -o "$T/np1.h5" -q || fail "1 rank"
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$T/sched.yaml" -o "$T/np2.h5" -q || fail "2 ranks"
"$PY" "$COMPARE" "$T/np1.h5" "$T/np2.h5" || fail "results depend on the number of ranks"
"$PY" - "$T/np2.h5" <<'PY' || fail "columns"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
r, c = f["/results"][:], f["/configs"][:]
r = r[np.argsort(r["config_id"])]
c = c[np.argsort(c["config_id"])]
order = [x.decode() for x in c["order"]]
assert sorted(zip(order, c["adaptive_budget"])) == [("fcfs", 0), ("fcfs", 1), ("priority", 0), ("priority", 1)]
assert all(x.decode() == "interactive:0.3:0 batch:0.7:1" for x in c["classes"]), c["classes"]
assert all(s.decode() == "ok" for s in r["status"])
assert (r["class0_n_requests"] + r["class1_n_requests"] == r["n_requests"]).all()
assert (r["class0_n_requests"] == r["class0_n_requests"][0]).all()  # the same draw for every strategy
assert (r["class2_n_requests"] == -1).all() and np.isnan(r["class3_ttft_p99_s"]).all()
for ad in (0, 1):
    i = {o: k for k, o in enumerate(order) if c["adaptive_budget"][k] == ad}
    p, q = r[i["priority"]], r[i["fcfs"]]
    print("adaptive %d: interactive ttft p99 priority %.3f fcfs %.3f" % (ad, p["class0_ttft_p99_s"], q["class0_ttft_p99_s"]))
    assert p["class0_ttft_p99_s"] < 0.5 * q["class0_ttft_p99_s"]
PY
"$LLMSWEEP" report "$T/np2.h5" > "$T/report.txt" || fail "report"
grep -q "^Request classes" "$T/report.txt" || fail "report: no per-class table"
[ "$(grep -cE ' (interactive|batch) ' "$T/report.txt")" -ge 8 ] || fail "report: a row per configuration and class: $(cat "$T/report.txt")"
echo "sweep_sched: ok"
