#!/usr/bin/env bash
# slurm_timelimit_resume.sh -- slurm/sweep.sbatch with a time limit too short for the sweep:
# `--time=1 --signal=B:TERM@50` makes Slurm send SIGTERM to the batch shell 50 s before the 1 minute
# limit; the script passes it to the 2 ranks and the sweep closes its file and exits 4. The job must end
# that way: exit code 4 (not TIMEOUT, not killed), a readable file with part of the configurations, no
# duplicates. Then the same script is submitted again with a limit that suffices: it resumes and
# COMPLETES, and the file holds every configuration exactly once, the first job's rows unchanged.
. "$(dirname "$0")/lib.sh"
ls_use_cluster
work=$LS_SLURM_WORK/timelimit
rm -rf "$work"; mkdir -p "$work"
out=$work/results.h5

# slurmctld sends --signal warnings from its time-limit check, which runs every 30 s from its start
# (LS_SLURMCTLD_T0, recorded by cluster.sh): with --time=1 --signal=B:TERM@50 the signal comes at the
# first check at least 10 s into the job, i.e. 10 to 40 s in. To keep the test short the job is
# submitted 16 s before a check, so the signal comes about 13 s in (jobs start 0.3 to 3.5 s after
# sbatch here). The sweep is sized to ~30 s on 2 ranks from the measured time of one configuration,
# so it is still running then, even on a faster machine. If the job still finishes before the signal
# (a start later than 6 s), the test tries once more on the next cycle.
spec=$work/slow.yaml
"$PY" "$LS_SOURCE_DIR/tests/slurm/slow_spec.py" "$work/calibration.yaml" 0 || fail "calibration spec"
"$LLMSWEEP" sweep "$work/calibration.yaml" -o "$work/calibration.h5" -q || fail "calibration sweep"
"$PY" "$LS_SOURCE_DIR/tests/slurm/slow_spec.py" "$spec" "${LS_SLURM_SLOW_S:-60}" "$work/calibration.h5" ||
  fail "slow spec"

t0=$SECONDS
submit() {   # submit [sbatch options]: the same script and arguments every time
  ls_submit --ntasks=2 --chdir="$work" --output="$work/job-%j.out" "$@" \
    "$SLURM_DIR/sweep.sbatch" "$spec" "$out"
}
wait_for_phase() {   # sleep until 16 s before the next time-limit check
  local d
  d=$(awk -v t0="$LS_SLURMCTLD_T0" -v now="$(date +%s.%N)" 'BEGIN {
        k = int((now + 16 - t0) / 30) + 1; printf "%.2f", t0 + 30 * k - 16 - now }')
  sleep "$d"
}
for attempt in 1 2; do
  rm -f "$out"
  wait_for_phase
  id=$(submit --time=1 --signal=B:TERM@50)
  ls_job_wait "$id" 150
  log=$work/job-$id.out
  info=$(scontrol -o show job "$id")
  state=$(grep -o 'JobState=[A-Z_]*' <<<"$info" | cut -d= -f2)
  code=$(grep -o ' ExitCode=[0-9:]*' <<<"$info" | cut -d= -f2)
  run=$(grep -o ' RunTime=[0-9:]*' <<<"$info" | cut -d= -f2)
  echo "job $id (--time=1): JobState=$state ExitCode=$code RunTime=$run, test at $((SECONDS - t0)) s"
  [ "$state" = COMPLETED ] || break
  echo "the sweep finished before the signal (the job started late for its cycle): once more"
done
[ "$state" != COMPLETED ] || fail "the sweep finished before Slurm's signal twice: raise LS_SLURM_SLOW_S"
[ "$code" = "4:0" ] || { cat "$log" >&2; fail "job $id: ExitCode=$code, expected 4:0 (clean stop)"; }
grep -q "got SIGTERM" "$log" || { cat "$log" >&2; fail "the batch shell did not get SIGTERM"; }
grep -q "file closed cleanly" "$log" || { cat "$log" >&2; fail "no clean stop in the log"; }
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" partial "$spec" "$out" || fail "partial file"
cp "$out" "$work/first.h5"

# The same script and arguments again, with a limit that suffices: it resumes and completes.
id=$(submit --time=10 --signal=B:TERM@50)
ls_job_wait "$id" 280
ls_job_completed "$id" "$work/job-$id.out"
grep -q "resuming" "$work/job-$id.out" || { cat "$work/job-$id.out" >&2; fail "job $id did not resume"; }
echo "job $id (resume): COMPLETED, test at $((SECONDS - t0)) s"
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" complete "$spec" "$out" || fail "resumed file"
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" subset "$work/first.h5" "$out" ||
  fail "the resumed run changed the rows of the first job"
echo "slurm_timelimit_resume: ok ($((SECONDS - t0)) s)"
