#!/usr/bin/env bash
# cli_lean.sh -- the executable split (cli/main.c): the lean llmsweep loads neither MPI nor HDF5,
# runs run/trace/catalog itself and execs its sibling llmsweep-mpi for the other commands (also
# under mpirun, and through a symbolic link from elsewhere); without the sibling it says so.
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dir=$(dirname "$LLMSWEEP")
[ -x "$dir/llmsweep-mpi" ] || fail "no llmsweep-mpi beside $LLMSWEEP"

# 1. nothing of MPI or HDF5 is loaded by the lean executable (static, or dynamic without them)
if ldd "$LLMSWEEP" >"$work/ldd" 2>&1; then
  ! grep -Eq 'libmpi|libhdf5' "$work/ldd" || fail "lean llmsweep loads MPI/HDF5: $(cat "$work/ldd")"
fi
grep -Eq 'libmpi|libhdf5' <(ldd "$dir/llmsweep-mpi") || fail "llmsweep-mpi does not load MPI/HDF5"

tiny=(--model llama-3-8b --hardware h100-sxm --cluster dgx-h100 --rate 2 --duration 5 --prompt fixed:100
      --output fixed:10 --json)
# 2. run in the lean one and in llmsweep-mpi: identical metrics (wall time aside)
strip() { sed -E 's/"wall_time_s": [^,}]*//'; }
"$LLMSWEEP" run "${tiny[@]}" | strip >"$work/lean.json" || fail "lean run"
"$dir/llmsweep-mpi" run "${tiny[@]}" | strip >"$work/mpi.json" || fail "llmsweep-mpi run"
cmp -s "$work/lean.json" "$work/mpi.json" || fail "lean and full runs differ"

# 3. a run writing HDF5 (also with an abbreviated flag) is handed over and its file is readable
"$LLMSWEEP" run "${tiny[@]}" --requests-o "$work/r.h5" >/dev/null || fail "run --requests-out .h5"
"$LLMSWEEP" report "$work/r.h5" | grep -q "1 of 1 configurations" || fail "report of the run's file"
"$LLMSWEEP" schema | grep -q "ttft_p99_s" || fail "schema through the lean executable"

# 4. mpirun of the lean executable: the exec comes before MPI_Init
cat >"$work/s.yaml" <<'YAML'
name: lean
seed: 1
base:
  model: llama-3-8b
  hardware: h100-sxm
  cluster: dgx-h100
  workload:
    arrival: {process: poisson, rate: 2}
    prompt_tokens: {dist: fixed, value: 100}
    output_tokens: {dist: fixed, value: 10}
    duration_s: 5
grid:
  parallelism: [tp1, tp2, tp4]
YAML
mpirun -n 2 "$LLMSWEEP" sweep "$work/s.yaml" -o "$work/s.h5" -q || fail "mpirun -n 2 llmsweep sweep"
"$LLMSWEEP" report "$work/s.h5" | grep -q "3 of 3 configurations" || fail "report of the mpirun sweep"

# 5. through a symbolic link elsewhere, the sibling is found beside the real file
ln -s "$(readlink -f "$LLMSWEEP")" "$work/llmsweep"
"$work/llmsweep" schema >/dev/null || fail "sweep-side command through a symlink"

# 6. a lean executable alone: its own commands work, the others fail clearly (exit 1)
mkdir "$work/alone"
cp "$LLMSWEEP" "$work/alone/llmsweep"
"$work/alone/llmsweep" catalog >/dev/null || fail "catalog without the sibling"
"$work/alone/llmsweep" schema >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 1 ] || fail "missing sibling: exit $rc, expected 1"
grep -q "cannot run $work/alone/llmsweep-mpi, which the 'schema' command needs" "$work/err" ||
  fail "missing sibling message: $(cat "$work/err")"
echo "cli_lean: ok"
