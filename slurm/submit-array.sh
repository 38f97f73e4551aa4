#!/bin/bash
# submit-array.sh -- submit a sweep as a job array of N shards plus the dependent merge job.
#
#   slurm/submit-array.sh SPEC.yaml OUT.h5 N [sbatch options for the shards...]
#   e.g. slurm/submit-array.sh sweep.yaml results.h5 16 --time=2:00:00 -p short -A myproj
#
# The shards write OUT's name + .parts/part-I-of-N.h5; the merge job (afterany: it runs however the
# shards end) writes OUT and OUT's name + .report.txt. Prints the two job ids. Running the same command
# again resumes unfinished shards and merges again. $LLMSWEEP, $LS_SWEEP_ARGS, $LS_MAX_PARALLEL (array
# throttle, e.g. 4 for --array=0-N%4) and $LS_MERGE_SBATCH_ARGS (options for the merge job) are honoured.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
spec=$1 out=$2 n=$3
shift 3
case $n in ''|*[!0-9]*|0) echo "submit-array.sh: N must be a positive integer, not '$n'" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
parts=${out%.h5}.parts
range=0-$((n - 1))${LS_MAX_PARALLEL:+%$LS_MAX_PARALLEL}

array_id=$(sbatch --parsable --array="$range" "$@" "$here/array.sbatch" "$spec" "$parts")
array_id=${array_id%%;*}
# shellcheck disable=SC2086
merge_id=$(sbatch --parsable --dependency=afterany:"$array_id" ${LS_MERGE_SBATCH_ARGS:-} \
  "$here/merge.sbatch" "$parts" "$n" "$out")
merge_id=${merge_id%%;*}
echo "array job $array_id ($n shards into $parts), merge job $merge_id (into $out)"
