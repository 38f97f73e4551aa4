#!/usr/bin/env bash
# sweep_mixed.sh -- mixed replica groups and the length-aware router through the real command line:
# `llmsweep run` of 1 x TP2 + 2 x TP1 puts every prompt above the threshold on the TP2 replica and
# the others on the TP1 ones (the --requests-out CSV), its summary names the mix; bad input is
# refused with FILE:LINE; a sweep over router.prompt_threshold beside TP4 and DP4 gives the same
# HDF5 results on 1 and 2 MPI ranks, with readable /configs rows (parallelism 1xtp2+2xtp1, 4 GPUs,
# router length-aware>N), a long-prompt share that falls as the threshold rises, and a report that
# ranks the mix against TP4 and DP4 and says which wins, and why (analysis/recommend_mixed.c).
. "$(dirname "$0")/sweep_lib.bash"
cat > "$T/run.yaml" <<'YAML'
model: llama-3-8b
cluster: dgx-h100
replicas:
  - {parallelism: tp2, count: 1}
  - {parallelism: tp1, count: 2}
router: {policy: length-aware, prompt_threshold: 1500}
workload:
  arrival: {process: poisson, rate: 12}
  prompt_tokens: {dist: lognormal, mean: 1500, stddev: 1500}
  output_tokens: {dist: lognormal, mean: 100, stddev: 50}
  duration_s: 10
seed: 5
YAML
"$LLMSWEEP" run --config "$T/run.yaml" --requests-out "$T/req.csv" > "$T/run.txt" || fail "run"
grep -q "1xtp2+2xtp1" "$T/run.txt" && grep -q "router length-aware>1500" "$T/run.txt" || fail "summary: $(head -2 "$T/run.txt")"
grep -q "^replicas       long-prompt replicas served" "$T/run.txt" || fail "summary: no replicas line"
"$PY" - "$T/req.csv" <<'PY' || fail "routing by prompt length"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) > 80, len(rows)
for r in rows:
    want_long = int(r["prompt_tokens"]) > 1500
    assert (r["replica"] == "0") == want_long, r
per = {k: sum(r["replica"] == k for r in rows) for k in "012"}
assert min(per.values()) > 0, per
PY
"$LLMSWEEP" run --config "$T/run.yaml" --json > "$T/run.json" || fail "run --json"
"$PY" - "$T/run.json" "$T/req.csv" <<'PY' || fail "json"
import csv, json, sys
j = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
share = sum(int(r["prompt_tokens"]) > 1500 for r in rows) / len(rows)
assert abs(j["mix_long_share"] - share) < 1e-12, (j["mix_long_share"], share)
assert j["n_gpus"] == 4 and 0 < j["mix_long_utilization"] <= 1 and 0 < j["mix_short_utilization"] <= 1, j
PY

# bad input: FILE:LINE and what was expected
bad() {
    local name=$1 want=$2
    printf '%s\n' "$3" > "$T/$name.yaml"
    if "$LLMSWEEP" run --config "$T/$name.yaml" --json > /dev/null 2> "$T/err"; then fail "$name: accepted"; fi
    grep -qF -- "$want" "$T/err" || fail "$name: message: $(cat "$T/err")"
}
HEAD='model: llama-3-8b
workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 9}, output_tokens: {dist: fixed, value: 2}, duration_s: 1}'
bad one_kind "one_kind.yaml:4: router: length-aware with a prompt threshold needs two replica groups" "$HEAD
parallelism: dp4
router: {policy: length-aware, prompt_threshold: 2048}"
bad no_thr "no_thr.yaml:4: router: length-aware needs a prompt length" "$HEAD
replicas: [{parallelism: tp4}, {parallelism: tp1, count: 4}]
router: length-aware"
bad neg_thr "neg_thr.yaml:4: router.prompt_threshold: expected an integer between 1 and" "$HEAD
replicas: [{parallelism: tp4}, {parallelism: tp1, count: 4}]
router: {policy: length-aware, prompt_threshold: -1}"
bad group_dp "group_dp.yaml:3: replicas[1].parallelism: dp4 has dp 4" "$HEAD
replicas: [{parallelism: tp4}, {parallelism: dp4}]"
bad too_many "too_many.yaml:4: replicas: 1xtp4+5xtp1 needs 9 GPUs but cluster" "$HEAD
cluster: {base: dgx-h100, max_nodes: 1}
replicas: [{parallelism: tp4}, {parallelism: tp1, count: 5}]"
# a group whose weights do not fit: infeasible (exit 3), the group named
printf '%s\n' "model: llama-3.1-70b" "replicas: [{parallelism: tp4}, {parallelism: tp1, count: 4}]" \
    "workload: {arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 9}, output_tokens: {dist: fixed, value: 2}, duration_s: 1}" \
    > "$T/inf.yaml"
"$LLMSWEEP" run --config "$T/inf.yaml" > /dev/null 2> "$T/err"
[ $? = 3 ] || fail "infeasible group: exit status"
grep -q "replicas\[1\] (4 x tp1 on h100-sxm): weights 141.1 GB" "$T/err" || fail "infeasible: $(cat "$T/err")"

# the threshold swept over MPI into HDF5, beside TP4 and DP4
cat > "$T/mix.yaml" <<'YAML'
name: mixed-e2e
seed: 3
base:
  model: llama-3-8b
  cluster: dgx-h100
  router: least-outstanding
  workload:
    arrival: {process: poisson, rate: 12}
    prompt_tokens: {dist: lognormal, mean: 1500, stddev: 1500}
    output_tokens: {dist: lognormal, mean: 100, stddev: 50}
    duration_s: 10
grid:
  .:
    - {parallelism: tp4}
    - {parallelism: dp4}
    - {replicas: [{parallelism: tp2, count: 1}, {parallelism: tp1, count: 2}], router: {policy: length-aware, prompt_threshold: 500}}
    - {replicas: [{parallelism: tp2, count: 1}, {parallelism: tp1, count: 2}], router: {policy: length-aware, prompt_threshold: 1500}}
    - {replicas: [{parallelism: tp2, count: 1}, {parallelism: tp1, count: 2}], router: {policy: length-aware, prompt_threshold: 4000}}
YAML
cat > "$T/thr.yaml" <<'YAML'
name: mixed-threshold
seed: 3
base:
  model: llama-3-8b
  cluster: dgx-h100
  replicas: [{parallelism: tp2, count: 1}, {parallelism: tp1, count: 2}]
  router: {policy: length-aware, prompt_threshold: 1000}
  workload:
    arrival: {process: poisson, rate: 12}
    prompt_tokens: {dist: lognormal, mean: 1500, stddev: 1500}
    output_tokens: {dist: lognormal, mean: 100, stddev: 50}
    duration_s: 10
grid:
  router.prompt_threshold: [500, 1500, 4000]
YAML
"$LLMSWEEP" sweep "$T/mix.yaml" -o "$T/np1.h5" -q || fail "1 rank"
timeout 300 "$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$T/mix.yaml" -o "$T/np2.h5" -q || fail "2 ranks"
"$PY" "$COMPARE" "$T/np1.h5" "$T/np2.h5" || fail "results depend on the number of ranks"
timeout 300 "$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$T/thr.yaml" -o "$T/thr.h5" -q || fail "threshold axis, 2 ranks"
"$PY" - "$T/np2.h5" "$T/thr.h5" <<'PY' || fail "/configs and /results"
import sys, h5py, numpy as np
def rows(path):
    f = h5py.File(path, "r")
    r, c = f["/results"][:], f["/configs"][:]
    return r[np.argsort(r["config_id"])], c[np.argsort(c["config_id"])]
r, c = rows(sys.argv[1])
par = [x.decode() for x in c["parallelism"]]
rt = [x.decode() for x in c["router"]]
assert par == ["tp4", "dp4", "1xtp2+2xtp1", "1xtp2+2xtp1", "1xtp2+2xtp1"], par
assert rt == ["least-outstanding"] * 2 + ["length-aware>500", "length-aware>1500", "length-aware>4000"], rt
assert list(c["n_gpus"]) == [4] * 5 and list(r["n_gpus"]) == [4] * 5
assert all(s.decode() == "ok" for s in r["status"])
assert np.isnan(r["mix_long_share"][:2]).all()
share = r["mix_long_share"][2:]
assert (np.diff(share) < 0).all() and share[0] > 0.5 and share[2] < 0.2, share
assert (r["mix_long_utilization"][2:] > 0).all() and (r["mix_short_utilization"][2:] > 0).all()
# the threshold axis of a base that has the mapping: the same three rows
t, tc = rows(sys.argv[2])
assert [x.decode() for x in tc["router"]] == rt[2:], tc["router"]
assert np.array_equal(t["mix_long_share"], share), (t["mix_long_share"], share)
assert np.array_equal(t["ttft_p99_s"], r["ttft_p99_s"][2:])
PY
"$LLMSWEEP" report "$T/np2.h5" > "$T/report.txt" || fail "report"
grep -q "1xtp2+2xtp1" "$T/report.txt" && grep -q "TP=4" "$T/report.txt" && grep -q "DP=4" "$T/report.txt" \
    || fail "report ranks the mix beside TP4 and DP4: $(cat "$T/report.txt")"
grep -q "length-aware>1500" "$T/report.txt" || fail "report names the threshold"
tr '\n' ' ' < "$T/report.txt" | sed 's/   */ /g' > "$T/report1.txt"  # the sentences, unwrapped
grep -q "mixed replicas against TP=4 and DP=4: " "$T/report1.txt" || fail "recommendations: the mix against TP4 and DP4"
grep -q "In 1xtp2+2xtp1 the long-prompt replicas serve" "$T/report1.txt" || fail "recommendations: the mix's sides"
grep -q "Mixed replicas against TP=4 and DP=4 (llama-3-8b on dgx-h100, bf16/bf16), the winner by load: at 12 req/s" \
    "$T/report1.txt" || fail "summary: the winner by load"
echo ok
