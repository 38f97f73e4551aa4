#!/usr/bin/env bash
# slurm_array_merge.sh -- the same sweep as a job array of 3 shards (slurm/array.sbatch, no MPI) plus
# the dependent merge job (slurm/merge.sbatch, afterany), submitted by slurm/submit-array.sh: every
# job COMPLETED, the merged /results equals the 2-rank MPI run's (slurm_sweep_mpi) except wall times,
# and the report was written.
. "$(dirname "$0")/lib.sh"
ls_use_cluster
spec=$LS_SOURCE_DIR/tests/slurm/small.yaml
ref=$LS_SLURM_WORK/mpi/results.h5
[ -f "$ref" ] || fail "no reference $ref (slurm_sweep_mpi must pass first)"
work=$LS_SLURM_WORK/array
rm -rf "$work"; mkdir -p "$work"

t0=$SECONDS
out=$(cd "$work" && "$SLURM_DIR/submit-array.sh" "$spec" "$work/merged.h5" 3 --time=5) ||
  fail "submit-array.sh: $out"
echo "$out"
array_id=$(sed -n 's/^array job \([0-9]*\) .*/\1/p' <<<"$out")
merge_id=$(sed -n 's/.*merge job \([0-9]*\) .*/\1/p' <<<"$out")
[ -n "$array_id" ] && [ -n "$merge_id" ] || fail "job ids not found in: $out"
ls_job_wait "$array_id" 240
ls_job_wait "$merge_id" 120
[ "$(ls_job_states "$array_id" | wc -l)" -eq 3 ] || fail "array $array_id does not have 3 tasks"
ls_job_completed "$array_id" "$work/*.out"
ls_job_completed "$merge_id" "$work/*.out"
scontrol -o show job "$merge_id" | grep -q "Dependency=(null)" || true
echo "array of 3 shards + merge: jobs $array_id, $merge_id COMPLETED in $((SECONDS - t0)) s"

for i in 0 1 2; do [ -f "$work/merged.parts/part-$i-of-3.h5" ] || fail "part $i missing"; done
[ -s "$work/merged.report.txt" ] || fail "no report written"
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" complete "$spec" "$work/merged.h5" ||
  fail "merged results"
"$PY" "$LS_SOURCE_DIR/tests/slurm/check_results.py" same "$ref" "$work/merged.h5" ||
  fail "merged results differ from the MPI run's"
echo "slurm_array_merge: ok"
