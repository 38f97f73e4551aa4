#!/usr/bin/env bash
# sweep_pools.sh -- disaggregated prefill/decode in a sweep: P:D ratios and per-role parallelism
# beside aggregated deployments, over 1 and 2 MPI ranks into HDF5 (identical results), the per-role
# columns filled for P/D rows and NaN for aggregated ones, the report ranking both together, and a
# bad pool rejected with the spec's and the value's lines before anything runs.
. "$(dirname "$0")/sweep_lib.bash"
cat > "$T/pd.yaml" <<'YAML'
name: pd-e2e
seed: 3
base:
  model: llama-3-8b
  cluster: dgx-h100
  scheduler: {max_num_seqs: 64}
  workload:
    arrival: {process: poisson, rate: 20}
    prompt_tokens: {dist: lognormal, mean: 900, stddev: 600}
    output_tokens: {dist: lognormal, mean: 120, stddev: 80}
    duration_s: 10
grid:
  .:
    - {parallelism: tp1dp2}
    - {parallelism: tp2}
    - disaggregation: {prefill: {replicas: 1, parallelism: tp1}, decode: {replicas: 1, parallelism: tp1}}
    - disaggregation: {prefill: {replicas: 2, parallelism: tp1}, decode: {replicas: 1, parallelism: tp2}}
    - disaggregation: {prefill: {replicas: 1, parallelism: tp2}, decode: {replicas: 2, parallelism: tp1},
                       kv_transfer: {link: network}, router: least-kv}
YAML
"$LLMSWEEP" sweep "$T/pd.yaml" -o "$T/np1.h5" --requests all -q || fail "1 rank"
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$T/pd.yaml" -o "$T/np2.h5" --requests all -q || fail "2 ranks"
"$PY" "$COMPARE" "$T/np1.h5" "$T/np2.h5" || fail "results depend on the number of ranks"
"$PY" - "$T/np2.h5" <<'PY' || fail "per-role columns"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
r, c = f["/results"][:], f["/configs"][:]
r = r[np.argsort(r["config_id"])]  # rows are in completion order
c = c[np.argsort(c["config_id"])]
par = [x.decode() for x in c["parallelism"]]
assert par == ["dp2", "tp2", "1P-tp1+1D-tp1", "2P-tp1+1D-tp2", "1P-tp2+2D-tp1"], par
assert list(c["n_gpus"]) == [2, 2, 2, 4, 4], c["n_gpus"]
assert all(s.decode() == "ok" for s in r["status"])
assert (r["n_completed"] == r["n_requests"]).all()
pd_rows = np.array([p[0].isdigit() for p in par])
for col in ("kv_transfer_mean_s", "kv_transfer_p99_s", "kv_wire_mean_s", "prefill_ttft_mean_s",
            "decode_first_token_mean_s", "prefill_utilization", "decode_utilization", "decode_kv_usage_mean"):
    assert np.isfinite(r[col][pd_rows]).all() and (r[col][pd_rows] > 0).all(), col
    assert np.isnan(r[col][~pd_rows]).all(), col
# the network link (5 us, 50 GB/s) is slower than NVLink (4 us, 450 GB/s) for the same prompts
assert r["kv_wire_mean_s"][4] > 3 * r["kv_wire_mean_s"][2], r["kv_wire_mean_s"]
# TTFT includes the handoff: prefill side + transfer + decode side's first token
d = r["ttft_mean_s"] - (r["prefill_ttft_mean_s"] + r["kv_transfer_mean_s"] + r["decode_first_token_mean_s"])
assert (abs(d[pd_rows]) < 1e-9).all(), d
q = f["/requests"][:]
assert len(q) == r["n_requests"].sum()
PY
"$LLMSWEEP" report "$T/np2.h5" > "$T/report.txt" || fail "report"
grep -q "1P-tp1+1D-tp1" "$T/report.txt" && grep -q "TP=2" "$T/report.txt" || fail "report lists both kinds"
grep -q "Ranked by goodput per GPU" "$T/report.txt" || fail "report ranks per GPU"
grep -q "^Disaggregated prefill/decode" "$T/report.txt" || fail "report: per-role table"

# a file written before the per-role columns existed is still read (they are NaN)
"$PY" - "$T/np2.h5" "$T/old.h5" <<'PY' || fail "making an old-layout file"
import sys, h5py
from numpy.lib import recfunctions as rf
new = {"kv_transfer_mean_s", "kv_transfer_p50_s", "kv_transfer_p90_s", "kv_transfer_p95_s", "kv_transfer_p99_s",
       "kv_wire_mean_s", "prefill_ttft_mean_s", "decode_first_token_mean_s", "prefill_utilization",
       "decode_utilization", "decode_kv_usage_mean", "decode_kv_usage_max"}
src, dst = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "w")
assert src.attrs["schema_version"] >= 2
for k, v in src.attrs.items():
    if k != "schema_version":  # version 1 files have none
        dst.attrs[k] = v
for name in src:
    if name != "results":
        src.copy(name, dst)
r = src["/results"][:]
d = dst.create_dataset("results", data=rf.repack_fields(r[[n for n in r.dtype.names if n not in new]]),
                       maxshape=(None,), chunks=True)
name = lambda c: (c.decode() if isinstance(c, bytes) else c).split("|")[0]
d.attrs["columns"] = [c for c in src["/results"].attrs["columns"] if name(c) not in new]
PY
"$LLMSWEEP" report "$T/old.h5" > "$T/old.txt" || fail "report of an old-layout file"
grep -q "1P-tp1+1D-tp1" "$T/old.txt" || fail "old-layout report: rows"
! grep -q "^Disaggregated prefill/decode" "$T/old.txt" || fail "old-layout report: per-role table without columns"

# bad pools are rejected before any work, naming the spec line and the value's line
cat > "$T/bad.yaml" <<'YAML'
name: pd-bad
base:
  model: llama-3.1-70b
  cluster: dgx-h100
  workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 10},
             output_tokens: {dist: fixed, value: 10}, duration_s: 1}
grid:
  disaggregation.decode.replicas: [1, 0]
  disaggregation.prefill.parallelism: [tp4]
  disaggregation.decode.parallelism: [tp4]
YAML
"$LLMSWEEP" sweep "$T/bad.yaml" -o "$T/bad.h5" -q 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "bad pool: exit $rc"
grep -q "disaggregation.decode.replicas" "$T/err" && grep -q "got 0" "$T/err" || { cat "$T/err"; fail "bad pool: message"; }
grep -q "bad.yaml:8" "$T/err" || { cat "$T/err"; fail "bad pool: spec line"; }
[ ! -e "$T/bad.h5" ] || fail "bad pool: a file was created"
echo "sweep_pools: ok"
