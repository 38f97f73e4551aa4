#!/usr/bin/env bash
# quickstart.sh -- install what is missing, build, run the default study on every core with MPI,
# and print its report.
#
#   scripts/quickstart.sh [SPEC]      (default: examples/gh200-strategies.yaml)
#
# The study (Llama-3-70B-class model on eight GH200, seven parallelism strategies, two topologies,
# BF16 and FP8 weights, three arrival rates, capacity search) takes well under a minute on two
# cores. Results: out/<spec name>.h5; the report is also saved as out/<spec name>.md, and plots go
# to out/<spec name>-plots/ when matplotlib is installed. LLMSWEEP_BUILD_DIR picks the build
# directory (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-examples/gh200-strategies.yaml}
name=$(basename "$spec" .yaml)
bld=${LLMSWEEP_BUILD_DIR:-build}

scripts/deps.sh
scripts/build.sh "$bld" >&2   # progress on stderr: stdout is the report

# Open MPI refuses to run as root without both variables; containers without ptrace need the
# vader setting; oversubscription lets the rank count exceed the cores (docs/hpc notes, §3).
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=${OMPI_MCA_rmaps_base_oversubscribe:-1}
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1} OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader,tcp}

ranks=$(nproc)
[ "$ranks" -ge 2 ] || ranks=2   # rank 0 also simulates: two ranks are useful even on one core
mkdir -p out
echo "llmsweep: running $spec on $ranks MPI ranks -> out/$name.h5" >&2
start=$(date +%s.%N)
mpirun -np "$ranks" "$bld"/llmsweep sweep "$spec" -o "out/$name.h5" --force --no-progress \
  --requests all   # per-request rows, for the TTFT CDF plot
end=$(date +%s.%N)
echo "llmsweep: sweep took $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s" >&2
echo >&2

"$bld"/llmsweep report "out/$name.h5"
"$bld"/llmsweep report "out/$name.h5" --format md -o "out/$name.md"
if "$bld"/llmsweep plot "out/$name.h5" -o "out/$name-plots" >/dev/null; then
  echo >&2
  echo "llmsweep: report also in out/$name.md, plots in out/$name-plots/" >&2
else
  echo "llmsweep: report also in out/$name.md (no plots: see the message above)" >&2
fi
