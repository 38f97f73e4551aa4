# sweep_lib.bash -- shared by the sweep_*.sh end-to-end tests (sourced, not a test itself).
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d /tmp/ls_sweep_test.XXXXXX)
trap 'rm -rf "$T"' EXIT
PY=${LS_PYTHON:-/usr/bin/python3}
MPIEXEC=${MPIEXEC:-$(command -v mpiexec || command -v mpirun)}
SMALL=$LS_SOURCE_DIR/examples/small-sweep.yaml
COMPARE=$LS_SOURCE_DIR/tests/e2e/sweep_compare.py
# Sanitizer builds: Open MPI's allocations that outlive MPI_Finalize are not ours. Telling them
# apart needs full-stack unwinding on every malloc (tests/mpi/lsan.supp), which makes a sanitized
# run ~5x slower; sweep_ranks.sh (the main command-line paths) does it, the other sweep tests
# skip leak checks. (Options are ignored by binaries built without sanitizers.)
if [ "${SWEEP_FULL_LEAK_CHECK:-0}" = 1 ]; then
    export LSAN_OPTIONS="suppressions=$LS_SOURCE_DIR/tests/mpi/lsan.supp:fast_unwind_on_malloc=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
    export OMPI_MCA_mca_base_component_disable_dlclose=1
else
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi

# wait_done FILE N: wait (up to 60 s) until a progress line of stderr FILE reports >= N done
wait_done() {
    local i
    for i in $(seq 1 1200); do
        if grep -o 'sweep: [0-9]*/' "$1" 2>/dev/null | tr -dc '0-9\n' | awk -v n="$2" '$1 >= n {f=1} END {exit !f}'; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# rows FILE: number of /results rows
rows() { "$PY" -c "import h5py,sys; print(len(h5py.File(sys.argv[1],'r')['/results']))" "$1"; }

# wait_bounded PID LABEL [SECONDS]: wait for background job PID (default 120 s); on a hang kill it
# and its children and fail, so a hung launcher fails the test in bounded time. Sets $rc.
wait_bounded() {
    if ! timeout "${3:-120}" tail --pid="$1" -f /dev/null; then
        pkill -KILL -P "$1" 2>/dev/null
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        fail "$2: still running after ${3:-120} s (hang)"
    fi
    wait "$1"; rc=$?
}

# stop_spec FILE NAME DURATION_S: the 12-configuration spec (3 strategies x 4 rates, llama-3-8b on
# H100) that the interruption tests stop part way; DURATION_S sets how long each configuration runs.
stop_spec() {
    cat >"$1" <<YAML
name: $2
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
    duration_s: $3
grid:
  parallelism: [tp1, tp2, dp2]
  workload.arrival.rate: [10, 20, 30, 40]
YAML
}
