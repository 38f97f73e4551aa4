# h5py_lib.bash -- sourced by the analysis tests that read result files with h5py (expected values
# from the file, not from the report's code). Sets PY and `here` (this folder), skips the test
# (exit 0, saying why) when a Python module it needs is missing (the modules in NEED_PY, default
# "h5py numpy"), and makes a scratch folder $tmp removed at exit.
: "${LLMSWEEP:?set by ctest}"
PY=${LS_PYTHON:-/usr/bin/python3}
for m in ${NEED_PY:-h5py numpy}; do
  if ! "$PY" -c "import $m" 2>/dev/null; then
    echo "SKIP: $m missing for $PY (apt-get install python3-$m)"
    exit 0
  fi
done
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
