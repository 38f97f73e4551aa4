# sweep_lib.bash -- shared by the sweep_*.sh end-to-end tests (sourced, not a test itself).
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d /tmp/ls_sweep_test.XXXXXX)
trap 'rm -rf "$T"' EXIT
PY=${LS_PYTHON:-/usr/bin/python3}
MPIEXEC=${MPIEXEC:-$(command -v mpiexec || command -v mpirun)}
SMALL=$LS_SOURCE_DIR/examples/small-sweep.yaml
COMPARE=$LS_SOURCE_DIR/tests/e2e/sweep_compare.py

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
