#!/usr/bin/env bash
# sweep_capacity_ranks.sh -- a capacity sweep with a floor gives identical /results on 1, 2, 3 and
# 6 ranks (6: more ranks than its 4 capacity groups), and a resume of a file missing a group's
# owner (whose search had not run) and another group's listing does too. The hand-out (a group to
# one rank, rank 0 answering its workers between its own probes, mpi/sweep.c) only changes who
# runs what; the answer is fixed by the spec and the seed. The floor case is hand-checkable: the
# search starts at 8 req/s with the floor at 4, so a configuration whose listing at 4 req/s misses
# the SLO has capacity 0 with capacity_fail_rps 4; every other has a capacity of 4 or more.
. "$(dirname "$0")/sweep_lib.bash"
cat > "$T/spec.yaml" <<'YAML'
name: cap-ranks
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
  slo: {ttft_s: 0.5, tpot_s: 0.011}
grid:
  parallelism: [tp1, tp2, dp2, pp2]
  workload.arrival.rate: [2, 4, 8]
capacity: {rel_tol: 0.1, max_runs: 10, start: 8, floor: 4}
YAML
S=$T/spec.yaml
"$LLMSWEEP" sweep "$S" --dry-run | grep -q "^capacity search: rel_tol 0.1, max_runs 10, start 8, floor 4, guided$" ||
    fail "dry-run: the search's start and floor"
"$LLMSWEEP" sweep "$S" -o "$T/np1.h5" -q || fail "1 rank"
for n in 2 3 6; do
    "$MPIEXEC" -n $n "$LLMSWEEP" sweep "$S" -o "$T/np$n.h5" -q || fail "$n ranks"
done
"$PY" "$COMPARE" "$T/np1.h5" "$T/np2.h5" "$T/np3.h5" "$T/np6.h5" || fail "capacities depend on the number of ranks"
"$PY" - "$T/np1.h5" <<'PY' || fail "the floor"
import sys, math, h5py
f = h5py.File(sys.argv[1], "r")
c, r = f["configs"][:], {int(x["config_id"]): x for x in f["results"][:]}
assert len(r) == 12
def misses(x):
    return not (x["ttft_p99_s"] <= 0.5 and x["tpot_p99_s"] <= 0.011 and x["success_rate"] >= 0.99)
below = 0
for p in {x["parallelism"] for x in c}:
    ids = sorted(int(x["config_id"]) for x in c if x["parallelism"] == p)
    own, at4 = r[ids[0]], next(r[i] for i in ids if c[i]["arrival_rate"] == 4)
    assert all(math.isnan(r[i]["capacity_rps"]) for i in ids[1:])  # one search, on the first listing
    if misses(at4):
        below += 1
        assert own["capacity_rps"] == 0 and own["capacity_fail_rps"] == 4, (p, own["capacity_rps"])
        assert b"capacity below the search floor: the SLO is missed at 4 req/s" in own["message"], own["message"]
    else:
        assert own["capacity_rps"] >= 4 and own["capacity_fail_rps"] > own["capacity_rps"], p
assert 0 < below < 4, below  # the case must have both kinds
PY
# resume: drop tp1's owner (its search must run on resume) and a tp2 listing, and pp2's last
for n in 1 2 3; do
    cp "$T/np1.h5" "$T/part$n.h5"
    "$PY" - "$T/part$n.h5" <<'PY' || fail "dropping rows"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    d = f["results"]
    keep = d[:][~np.isin(d[:]["config_id"], [0, 4, 11])]
    d.resize((len(keep),))
    d[:] = keep
PY
    if [ $n = 1 ]; then run="$LLMSWEEP"; else run="$MPIEXEC -n $n $LLMSWEEP"; fi
    $run sweep "$S" -o "$T/part$n.h5" --resume -q || fail "resume on $n ranks"
    "$PY" "$COMPARE" "$T/np1.h5" "$T/part$n.h5" || fail "resume of part groups on $n ranks differs"
done
echo "sweep_capacity_ranks: ok"
