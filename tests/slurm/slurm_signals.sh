#!/usr/bin/env bash
# slurm_signals.sh -- exit statuses of a stopped sweep under srun (issue 17.1; plain and mpiexec:
# tests/e2e/sweep_signals.sh). SIGTERM or SIGINT delivered to the job's tasks (`scancel --signal`, what a
# Slurm time limit with --signal does), SIGUSR1 to srun (which passes it on) and SIGTERM or SIGHUP to
# scripts/llmsweep-launch around srun stop the 2-task sweep with exit 4, every time, with a resume hint repeating "srun --mpi=pmix -n 2"; the resumed file holds exactly
# the rows of a clean run. SIGKILL of one task aborts the step, and the file resumes likewise.
. "$(dirname "$0")/lib.sh"
ls_use_cluster
work=$LS_SLURM_WORK/signals
rm -rf "$work"; mkdir -p "$work"
COMPARE=$LS_SOURCE_DIR/tests/e2e/sweep_compare.py
MPI=${LS_MPI_PLUGIN:-pmix}
cat > "$work/spec.yaml" <<'YAML'
name: slurm-signal-test
seed: 11
base:
  model: llama-3-8b
  hardware: h100-sxm
  cluster: dgx-h100
  parallelism: tp1
  scheduler: {policy: vllm-v1, max_num_seqs: 64}
  workload:
    arrival: {process: poisson, rate: 20}
    prompt_tokens: {dist: lognormal, mean: 512, stddev: 256}
    output_tokens: {dist: lognormal, mean: 64, stddev: 32}
    duration_s: 4000
grid:
  parallelism: [tp1, tp2, dp2]
  workload.arrival.rate: [10, 20, 30, 40]
YAML
S=$work/spec.yaml
"$LLMSWEEP" sweep "$S" -o "$work/ref.h5" -q || fail "reference run"
# wait_done FILE N: until a progress line reports >= N done (60 s at most)
wait_done() {
  for _ in $(seq 1200); do
    grep -o 'sweep: [0-9]*/' "$1" 2>/dev/null | tr -dc '0-9\n' | awk -v n="$2" '$1 >= n {f=1} END {exit !f}' && return 0
    sleep 0.05
  done
  return 1
}
step_job() { squeue -h -n "$1" -o %i | head -1; }

# stop LABEL HOW SIG: srun -n 2 the sweep, signal it once 2 configurations are done, expect exit 4
stop() {
  local label=$1 how=$2 sig=$3 out=$work/$1.h5 err=$work/$1.err pid rc job
  if [ "$how" = wrap ]; then   # scripts/llmsweep-launch srun ...: the signal goes to the wrapper
    "$LS_SOURCE_DIR/scripts/llmsweep-launch" srun --mpi="$MPI" -J "ls-$label" -n 2 "$LLMSWEEP" sweep "$S" -o "$out" 2>"$err" &
  else
    srun --mpi="$MPI" -J "ls-$label" -n 2 "$LLMSWEEP" sweep "$S" -o "$out" 2>"$err" &
  fi
  pid=$!
  wait_done "$err" 2 || fail "$label: no progress: $(cat "$err")"
  if [ "$how" = scancel ]; then
    job=$(step_job "ls-$label")
    [ -n "$job" ] || fail "$label: no job named ls-$label"
    scancel --signal="$sig" "$job" || fail "$label: scancel --signal=$sig $job"
  else
    kill -"$sig" "$pid"
  fi
  timeout 60 tail --pid="$pid" -f /dev/null || fail "$label: srun still running 60 s after SIG$sig"
  wait "$pid"; rc=$?
  if grep -q "configurations in" "$err"; then echo "note: $label: finished before SIG$sig"; return; fi
  [ $rc -eq 4 ] || fail "$label: exit $rc after SIG$sig ($how), expected 4: $(tail -5 "$err")"
  grep -q "resume with: srun --mpi=$MPI -n 2 llmsweep sweep $S -o $out --resume" "$err" ||
    fail "$label: hint: $(grep 'resume with' "$err")"
  echo "$label: exit 4 after SIG$sig ($how)"
}
stop scancel_term scancel TERM
stop scancel_int scancel INT
stop srun_usr1 kill USR1
stop wrap_term wrap TERM
stop wrap_hup wrap HUP
# the stopped jobs gone from the node first: a step launched while the last one is torn down failed
# once on the loaded machine ("task 0 launch failed: Unspecified error")
for _ in $(seq 300); do squeue -h -o %j | grep -q '^ls-' || break; sleep 0.1; done
ls_srun_retry "$work/scancel_term.resume.err" --mpi="$MPI" -n 2 "$LLMSWEEP" sweep "$S" -o "$work/scancel_term.h5" --resume -q ||
  fail "resume under srun: $(cat "$work/scancel_term.resume.err")"
"$PY" "$COMPARE" "$work/ref.h5" "$work/scancel_term.h5" || fail "scancel TERM + resume differs from a clean run"

# SIGTERM to srun itself: srun SIGKILLs the step (status 137, docs/SWEEP.md); the file resumes to the
# clean run's rows (this is why the scripts never signal srun with SIGTERM)
srun --mpi="$MPI" -J ls-srunterm -n 2 "$LLMSWEEP" sweep "$S" -o "$work/srun_term.h5" 2>"$work/srun_term.err" &
pid=$!
wait_done "$work/srun_term.err" 2 || fail "srun_term: no progress"
kill -TERM "$pid"
timeout 60 tail --pid="$pid" -f /dev/null || fail "srun_term: srun still running 60 s after SIGTERM"
wait "$pid"; rc=$?
if ! grep -q "configurations in" "$work/srun_term.err"; then
  [ $rc -eq 137 ] || fail "SIGTERM to srun: exit $rc, docs/SWEEP.md says 137"
  for _ in $(seq 300); do [ -z "$(step_job ls-srunterm)" ] && break; sleep 0.1; done
  ls_srun_retry "$work/srun_term.resume.err" --mpi="$MPI" -n 2 "$LLMSWEEP" sweep "$S" -o "$work/srun_term.h5" --resume -q ||
    fail "resume after SIGTERM to srun: $(cat "$work/srun_term.resume.err")"
  "$PY" "$COMPARE" "$work/ref.h5" "$work/srun_term.h5" || fail "SIGTERM to srun + resume differs from a clean run"
  echo "SIGTERM to srun: exit 137 (step killed), resumed to the clean run's rows"
fi

# SIGKILL of one task: the step is aborted; the file resumes to the clean run's rows
out=$work/kill.h5
srun --mpi="$MPI" -J ls-kill -n 2 "$LLMSWEEP" sweep "$S" -o "$out" 2>"$work/kill.err" &
pid=$!
wait_done "$work/kill.err" 2 || fail "kill: no progress"
victim=""
for p in $(pgrep -f "llmsweep sweep $S -o $out"); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'SLURM_PROCID=1' && victim=$p
done
[ -n "$victim" ] || fail "kill: no task with SLURM_PROCID=1"
kill -KILL "$victim"
timeout 90 tail --pid="$pid" -f /dev/null || fail "kill: srun still running 90 s after SIGKILL of a task"
wait "$pid"; rc=$?
grep -q "configurations in" "$work/kill.err" || [ $rc -ne 0 ] || fail "kill: exit 0 after SIGKILL of a task"
for _ in $(seq 300); do [ -z "$(step_job ls-kill)" ] && break; sleep 0.1; done
ls_srun_retry "$work/kill.resume.err" --mpi="$MPI" -n 2 "$LLMSWEEP" sweep "$S" -o "$out" --resume -q ||
  fail "resume after SIGKILL of a task: $(cat "$work/kill.resume.err")"
"$PY" "$COMPARE" "$work/ref.h5" "$out" || fail "SIGKILL of a task + resume differs from a clean run"
echo "SIGKILL of a task: step aborted (exit $rc), resumed to the clean run's rows"
echo "slurm_signals: ok"
