# lib.sh -- helpers for the Slurm tests (sourced). Needs LS_SLURM_STATE (the file cluster.sh start wrote).
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

# Load the cluster's environment, or skip when the fixture could not start one.
ls_use_cluster() {
  [ -n "${LS_SLURM_STATE:-}" ] || fail "LS_SLURM_STATE not set"
  [ -f "$LS_SLURM_STATE" ] || skip "no Slurm cluster (slurm_cluster_start skipped: see its output)"
  # shellcheck disable=SC1090
  . "$LS_SLURM_STATE"
  export SLURM_CONF
  sinfo -h >/dev/null 2>&1 || fail "cluster recorded in $LS_SLURM_STATE does not answer"
  SLURM_DIR=${LS_SOURCE_DIR:?}/slurm
  PY=${LS_PYTHON:-/usr/bin/python3}
  # the executable the jobs run: the real one by default; LS_SLURM_LLMSWEEP overrides
  export LLMSWEEP=${LS_SLURM_LLMSWEEP:-${LLMSWEEP:?}}
  # Open MPI as root inside the jobs (sbatch exports the environment by default)
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  # Sanitized builds: Open MPI's own allocations would count as leaks at exit (tests/e2e/sweep_lib.bash
  # explains); the jobs inherit this. Ignored by binaries built without sanitizers.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
}

# sbatch that prints only the job id.
ls_submit() { local id; id=$(sbatch --parsable "$@") || fail "sbatch $*"; echo "${id%%;*}"; }

# The JobState of every job (or array task) of ID, one a line.
ls_job_states() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }

# Wait until every task of job ID has ended (polls: sbatch --wait backs off to 32 s between polls).
ls_job_wait() {
  local id=$1 limit=${2:-300} t0=$SECONDS s
  while [ $((SECONDS - t0)) -lt "$limit" ]; do
    s=$(ls_job_states "$id")
    [ -n "$s" ] || fail "job $id unknown to scontrol"
    grep -qvE '^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|DEADLINE|BOOT_FAIL)$' \
      <<<"$s" || return 0
    sleep 0.5
  done
  scontrol show job "$id" >&2
  fail "job $id still running after ${limit}s"
}

# Fail unless every task of job ID is COMPLETED; print the job and its log on failure.
ls_job_completed() {
  local id=$1 log=${2:-}
  if ls_job_states "$id" | grep -qvx COMPLETED; then
    scontrol show job "$id" >&2
    [ -n "$log" ] && cat $log >&2
    ls_job_daemon_log "$id" >&2
    fail "job $id did not complete"
  fi
}

# What slurmctld and slurmd logged about job ID (the last 20 lines of each that name it): why a
# job failed before its script wrote a line.
ls_job_daemon_log() {
  local f
  for f in "${LS_SLURM_SCRATCH:-}"/log/slurmctld.log "${LS_SLURM_SCRATCH:-}"/log/slurmd.log; do
    [ -f "$f" ] || continue
    echo "--- $f (job $1):"
    grep -E "(JobId=|job[ _]?|StepId=)$1([^0-9]|$)" "$f" | tail -n 20
  done
}

# ls_srun_retry ERRFILE ARGS...: srun ARGS (under timeout 120), retried up to 3 times when Slurm itself
# failed to launch the step ("task N launch failed", "aborted before step completely launched"): on this
# one-node throwaway cluster a step started while the previous one is torn down sometimes fails that way,
# and srun then exits 0 with nothing run. Any other failure is returned as is (what the tests check).
ls_srun_retry() {
  local err=$1 rc; shift
  for _ in 1 2 3; do
    timeout 120 srun "$@" 2>"$err"; rc=$?
    grep -q "launch failed\|aborted before step completely launched" "$err" || return $rc
    echo "note: Slurm failed to launch the step, retrying: $(head -1 "$err")" >&2
    sleep 2
  done
  return 1
}
