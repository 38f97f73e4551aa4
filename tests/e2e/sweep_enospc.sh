#!/usr/bin/env bash
# sweep_enospc.sh -- a disk that fills mid-sweep (issues 18.4, 17.3), in small tmpfs mounts (root only:
# skipped otherwise): the sweep exits 1 with a message naming the path and ENOSPC, on one rank and on
# two (no crash, no hang: every run is bounded by timeout), leaves no journal behind, and the file it leaves is readable and resumes, on a
# roomy disk, to exactly the rows of a clean run (/results and /requests, tests/e2e/sweep_compare.py).
. "$(dirname "$0")/sweep_lib.bash"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: mounting a small tmpfs needs root (uid $(id -u))"; exit 77; }
mounts=()
cleanup() { local m; for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
# tmpfs_dir SIZE: a fresh tmpfs of SIZE under $T
tmpfs_dir() {
    local m=$T/fs$1.$RANDOM
    mkdir -p "$m"
    mount -t tmpfs -o size="$1" tmpfs "$m" 2>"$T/mount.err" ||
        { echo "SKIP: cannot mount a tmpfs here: $(cat "$T/mount.err")"; exit 77; }
    mounts+=("$m")
    echo "$m"
}

# 12 configurations with 100 request rows each: the results outgrow 64 KB and 120 KB part way
stop_spec "$T/spec.yaml" enospc-test 1600
# 160 tiny configurations without request rows: the metadata and /results grow instead
cat > "$T/many.yaml" <<'YAML'
name: enospc-many
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
    duration_s: 20
grid:
  parallelism: [tp1, tp2, dp2, tp4]
  workload.arrival.rate: [10, 20, 30, 40, 50]
  scheduler.max_num_seqs: [16, 32, 64, 128, 256, 512, 1024, 2048]
YAML
"$LLMSWEEP" sweep "$T/spec.yaml" -o "$T/ref.h5" --requests sample:100 -q || fail "reference run"
"$LLMSWEEP" sweep "$T/many.yaml" -o "$T/ref_many.h5" -q || fail "reference run (many)"

# full LABEL SIZE SPEC REF FLAGS LAUNCH...: the sweep fills a tmpfs of SIZE, then resumes elsewhere
full() {
    local label=$1 size=$2 spec=$3 ref=$4 flags=$5 m rc n
    shift 5
    m=$(tmpfs_dir "$size")
    # shellcheck disable=SC2086
    timeout 120 "$@" "$LLMSWEEP" sweep "$spec" -o "$m/out.h5" $flags -q 2>"$T/$label.err"; rc=$?
    [ $rc -eq 1 ] || fail "$label: exit $rc, expected 1: $(cat "$T/$label.err")"
    grep -q "No space left on device" "$T/$label.err" || fail "$label: no ENOSPC in: $(cat "$T/$label.err")"
    grep -q "$m/out.h5" "$T/$label.err" || fail "$label: the message does not name $m/out.h5"
    grep -qiE "segmentation|signal 11|core dumped" "$T/$label.err" && fail "$label: crashed: $(cat "$T/$label.err")"
    [ -e "$m/out.h5.journal" ] && fail "$label: journal left behind"
    [ -f "$m/out.h5" ] || fail "$label: the file is gone"
    n=$(rows "$m/out.h5") || fail "$label: file unreadable after ENOSPC"
    echo "$label: exit 1 after $n rows: $(head -1 "$T/$label.err")"
    cp "$m/out.h5" "$T/$label.h5"
    timeout 120 "$@" "$LLMSWEEP" sweep "$spec" -o "$T/$label.h5" --resume -q 2>"$T/$label.resume.err" ||
        fail "$label: resume on a roomy disk: $(cat "$T/$label.resume.err")"
    "$PY" "$COMPARE" "$ref" "$T/$label.h5" || fail "$label: resumed file differs from the clean run"
    # /history: the run the full disk stopped never recorded its end (the file was rolled back): aborted
    "$PY" - "$T/$label.h5" <<'PY' || fail "$label: /history after ENOSPC and resume"
import sys, h5py
h = h5py.File(sys.argv[1], "r")["/history"][:]
o = [v.decode() for v in h["outcome"]]
assert o[-1] == "complete" and all(x == "aborted" for x in o[:-1]), o
PY
}
R="--requests sample:100"
full req120k 120k "$T/spec.yaml" "$T/ref.h5" "$R"
full req64k 64k "$T/spec.yaml" "$T/ref.h5" "$R"
# (140k: the schema-4 swap columns made the first flush of this file outgrow 120k)
full many140k 140k "$T/many.yaml" "$T/ref_many.h5" ""
full mpi120k 120k "$T/spec.yaml" "$T/ref.h5" "$R" "$MPIEXEC" -n 2

# a disk too small for even the new file: exit 1, ENOSPC named, nothing left behind
m=$(tmpfs_dir 16k)
timeout 120 "$LLMSWEEP" sweep "$T/many.yaml" -o "$m/out.h5" -q 2>"$T/tiny.err"; rc=$?
[ $rc -eq 1 ] || fail "16k: exit $rc: $(cat "$T/tiny.err")"
grep -q "No space left on device" "$T/tiny.err" || fail "16k: message: $(cat "$T/tiny.err")"
[ -e "$m/out.h5" ] && fail "16k: a torn new file was left"
echo "sweep_enospc: ok"
