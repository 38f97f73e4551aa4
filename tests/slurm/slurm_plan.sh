#!/usr/bin/env bash
# slurm_plan.sh -- `llmsweep plan` as a Slurm batch job, 2 tasks under `srun --mpi=pmix` (issue 16: the
# plan runs through the MPI sweep, so Slurm works unchanged): the job ends COMPLETED, both tasks took
# part ("2 ranks" in the plan's summary), and the answer and every result row equal those of the same
# plan run here on one rank (deterministic on any number of ranks), but the wall times.
. "$(dirname "$0")/lib.sh"
ls_use_cluster
work=$LS_SLURM_WORK/plan
rm -rf "$work"; mkdir -p "$work"
args=(plan --model llama-3-8b --hardware h100-sxm --gpus 2 --isl 512 --osl 64 --rate 10 --duration 20
      --slo ttft_p99=1s,tpot_p99=50ms --top 10)
t0=$SECONDS
"$LLMSWEEP" "${args[@]}" -o "$work/one.h5" >"$work/one.txt" 2>"$work/one.err" || { cat "$work/one.err"; fail "plan on one rank"; }
# sbatch --wrap: one shell on the first task's node, srun the two tasks (the environment is exported)
cmd="srun --mpi=pmix --ntasks=2 $(printf '%q ' "$LLMSWEEP" "${args[@]}") -o $work/two.h5 >$work/two.txt"
id=$(ls_submit --ntasks=2 --time=5 --chdir="$work" --output="$work/job.out" --wrap "$cmd")
ls_job_wait "$id" 240
ls_job_completed "$id" "$work/job.out"
grep -q "(2 ranks)" "$work/job.out" || fail "the plan did not run on 2 ranks: $(cat "$work/job.out")"
echo "plan under srun, 2 tasks: job $id COMPLETED in $((SECONDS - t0)) s"
# the answer: the same text but the timing line
diff <(grep -v "s in all" "$work/one.txt") <(grep -v "s in all" "$work/two.txt") ||
  fail "the answer under srun differs from the one-rank answer"
"$PY" - "$work/one.h5" "$work/two.h5" <<'PY' || fail "rows under srun differ from one rank"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["results"][:] for p in sys.argv[1:3])
a, b = a[np.argsort(a["config_id"])], b[np.argsort(b["config_id"])]
assert len(a) == len(b) and len(a) > 0, (len(a), len(b))
for n in a.dtype.names:
    if n == "wall_time_s":
        continue
    x, y = a[n], b[n]
    same = (x == y) | (np.isnan(x) & np.isnan(y)) if x.dtype.kind == "f" else (x == y)
    assert same.all(), "column %s differs in %d rows" % (n, (~same).sum())
print("rows:", len(a), "identical on 1 rank and under srun -n 2")
PY
echo "slurm_plan: ok"
