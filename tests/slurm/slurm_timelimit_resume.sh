#!/usr/bin/env bash
# slurm_timelimit_resume.sh -- slurm/sweep.sbatch with a time limit too short for the sweep:
# `--time=1 --signal=B:TERM@50` makes Slurm send SIGTERM to the batch shell 50 s before the 1 minute
# limit (slurmctld checks limits every 30 s, so it comes 10 to 40 s into the job); the script passes it
# to the ranks and the sweep closes its file and exits 4. The first job must end that way: exit code 4
# (not TIMEOUT, not killed), a readable file with part of the configurations, no duplicates. Then the
# same command is submitted again until a job COMPLETES (each rerun resumes): the file ends with every
# configuration exactly once, and the rows of the first job kept unchanged.
. "$(dirname "$0")/lib.sh"
ls_use_cluster
spec=${LS_SLURM_SLOW_SPEC:-$LS_SOURCE_DIR/tests/slurm/slow.yaml}
work=$LS_SLURM_WORK/timelimit
rm -rf "$work"; mkdir -p "$work"
out=$work/results.h5

t0=$SECONDS
submit() {
  ls_submit --ntasks=2 --time=1 --signal=B:TERM@50 --chdir="$work" --output="$work/job-%j.out" \
    "$SLURM_DIR/sweep.sbatch" "$spec" "$out"
}
id=$(submit)
ls_job_wait "$id" 150
log=$work/job-$id.out
info=$(scontrol -o show job "$id")
state=$(grep -o 'JobState=[A-Z_]*' <<<"$info" | cut -d= -f2)
code=$(grep -o ' ExitCode=[0-9:]*' <<<"$info" | cut -d= -f2)
echo "first job $id: JobState=$state ExitCode=$code after $((SECONDS - t0)) s"
if [ "$state" = COMPLETED ]; then
  cat "$log" >&2
  fail "the sweep finished before Slurm's signal: make $spec slower"
fi
[ "$code" = "4:0" ] || { cat "$log" >&2; fail "first job: ExitCode=$code, expected 4:0 (clean stop)"; }
grep -q "got SIGTERM" "$log" || { cat "$log" >&2; fail "the batch shell did not get SIGTERM"; }
grep -q "file closed cleanly" "$log" || { cat "$log" >&2; fail "no clean stop in the log"; }
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" partial "$spec" "$out" || fail "partial file"
cp "$out" "$work/first.h5"

# Resubmit the very same command until a job completes: each resumes where the last stopped.
jobs=1
while :; do
  id=$(submit)
  jobs=$((jobs + 1))
  ls_job_wait "$id" 150
  state=$(ls_job_states "$id")
  echo "job $id (resume): JobState=$state after $((SECONDS - t0)) s"
  grep -q "resuming" "$work/job-$id.out" || { cat "$work/job-$id.out" >&2; fail "job $id did not resume"; }
  [ "$state" = COMPLETED ] && break
  code=$(scontrol -o show job "$id" | grep -o ' ExitCode=[0-9:]*' | cut -d= -f2)
  [ "$code" = "4:0" ] || { cat "$work/job-$id.out" >&2; fail "job $id: ExitCode=$code"; }
  [ $jobs -lt 5 ] || fail "still not complete after $jobs jobs"
done
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" complete "$spec" "$out" || fail "resumed file"
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" subset "$work/first.h5" "$out" ||
  fail "the resumed run changed the rows of the first job"
echo "slurm_timelimit_resume: ok ($jobs jobs, $((SECONDS - t0)) s)"
