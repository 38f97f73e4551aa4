#!/usr/bin/env bash
# slurm_mpirun_signal.sh -- slurm/sweep.sbatch with LS_LAUNCHER=mpirun (Open MPI's mpirun inside the
# allocation, 2 ranks, as root): the small sweep COMPLETES with every configuration; then a longer
# sweep gets SIGTERM on its batch shell (`scancel --batch --signal=TERM`, what --signal=B:TERM does at
# the time limit) once it has written rows: the ranks stop, the job exits 4 with a readable partial file,
# and the same command again resumes and completes with every configuration once.
. "$(dirname "$0")/lib.sh"
ls_use_cluster
export LS_LAUNCHER=mpirun
work=$LS_SLURM_WORK/mpirun
rm -rf "$work"; mkdir -p "$work"
t0=$SECONDS

spec=$LS_SOURCE_DIR/tests/slurm/small.yaml
id=$(ls_submit --ntasks=2 --time=5 --chdir="$work" --output="$work/small.out" \
  "$SLURM_DIR/sweep.sbatch" "$spec" "$work/small.h5")
ls_job_wait "$id" 240
ls_job_completed "$id" "$work/small.out"
grep -q "mpirun -n 2" "$work/small.out" || fail "job $id did not use mpirun: $(cat "$work/small.out")"
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" complete "$spec" "$work/small.h5" || fail "small sweep"
echo "mpirun, 2 ranks: job $id COMPLETED at $((SECONDS - t0)) s"

# ~20 s of single-rank compute (~10 s on 2 ranks), from the measured time of one configuration
slow=$work/slow.yaml out=$work/slow.h5
"$PY" "$LS_SOURCE_DIR/tests/slurm/slow_spec.py" "$work/calibration.yaml" 0 || fail "calibration spec"
"$LLMSWEEP" sweep "$work/calibration.yaml" -o "$work/calibration.h5" -q || fail "calibration sweep"
"$PY" "$LS_SOURCE_DIR/tests/slurm/slow_spec.py" "$slow" 20 "$work/calibration.h5" || fail "slow spec"
submit() {
  ls_submit --ntasks=2 --time=5 --chdir="$work" --output="$work/job-%j.out" \
    "$SLURM_DIR/sweep.sbatch" "$slow" "$out"
}
id=$(submit)
for _ in $(seq 600); do   # until the sweep reports progress (rows are on disk), at most 60 s
  grep -q '^sweep: [1-9]' "$work/job-$id.out" 2>/dev/null && break
  [ -n "$(ls_job_states "$id" | grep -v -e RUNNING -e PENDING)" ] && break
  sleep 0.1
done
scancel --batch --signal=TERM "$id" || fail "scancel --batch --signal=TERM $id"
ls_job_wait "$id" 120
info=$(scontrol -o show job "$id")
code=$(grep -o ' ExitCode=[0-9:]*' <<<"$info" | cut -d= -f2)
echo "job $id signalled: $(grep -o 'JobState=[A-Z_]*' <<<"$info") ExitCode=$code at $((SECONDS - t0)) s"
[ "$code" = "4:0" ] || { cat "$work/job-$id.out" >&2; fail "job $id: ExitCode=$code, expected 4:0"; }
grep -q "file closed cleanly" "$work/job-$id.out" || { cat "$work/job-$id.out" >&2; fail "no clean stop"; }
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" partial "$slow" "$out" || fail "partial file"
cp "$out" "$work/first.h5"

id=$(submit)
ls_job_wait "$id" 240
ls_job_completed "$id" "$work/job-$id.out"
grep -q "resuming" "$work/job-$id.out" || fail "job $id did not resume"
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" complete "$slow" "$out" || fail "resumed file"
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" subset "$work/first.h5" "$out" || fail "rows changed"
echo "slurm_mpirun_signal: ok ($((SECONDS - t0)) s)"
