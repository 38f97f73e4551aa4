#!/usr/bin/env bash
# slurm_sweep_mpi.sh -- slurm/sweep.sbatch with 2 MPI ranks (srun --mpi=pmix) on the test cluster:
# the job ends COMPLETED (scontrol, not sbatch's exit code) and the HDF5 file holds every configuration
# of the grid exactly once. Its file is the reference for slurm_array_merge.
. "$(dirname "$0")/lib.sh"
ls_use_cluster
spec=$LS_SOURCE_DIR/tests/slurm/small.yaml
work=$LS_SLURM_WORK/mpi
rm -rf "$work"; mkdir -p "$work"

t0=$SECONDS
id=$(ls_submit --ntasks=2 --time=5 --chdir="$work" --output="$work/job.out" \
  "$SLURM_DIR/sweep.sbatch" "$spec" "$work/results.h5")
ls_job_wait "$id" 240
ls_job_completed "$id" "$work/job.out"
echo "sweep.sbatch, 2 ranks: job $id COMPLETED in $((SECONDS - t0)) s"
grep -q "2 ranks" "$work/job.out" || fail "the job did not run 2 ranks: $(cat "$work/job.out")"

"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" complete "$spec" "$work/results.h5" ||
  fail "results of job $id"
echo "slurm_sweep_mpi: ok"
