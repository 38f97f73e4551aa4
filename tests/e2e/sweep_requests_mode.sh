#!/usr/bin/env bash
# sweep_requests_mode.sh -- the --requests mode is a root attribute (requests_mode): --resume
# inherits it when the flag is absent and refuses a conflicting one; merge refuses parts written
# with different modes.
. "$(dirname "$0")/sweep_lib.bash"
"$LLMSWEEP" sweep "$SMALL" -o "$T/s.h5" --shard 0/3 --requests sample:2 -q || fail "sample run"
cp "$T/s.h5" "$T/ref.h5"
# cut the file back to its first 2 results (as a killed job leaves it); resume drops the
# /requests rows of the lost configurations itself
"$PY" - "$T/s.h5" <<'PY' || fail "attribute / truncation"
import sys, h5py
f = h5py.File(sys.argv[1], "r+")
assert f.attrs["requests_mode"] == "sample:2", f.attrs["requests_mode"]
assert len(f["/results"]) == 6
f["/results"].resize((2,))
PY
# a conflicting flag is refused, naming both modes
"$LLMSWEEP" sweep "$SMALL" -o "$T/s.h5" --shard 0/3 --resume --requests all 2>"$T/c.err"; rc=$?
[ $rc -eq 1 ] || fail "conflicting --requests: exit $rc"
grep -q -- "--requests sample:2" "$T/c.err" && grep -q -- "--requests all" "$T/c.err" ||
    fail "conflicting --requests: message: $(cat "$T/c.err")"
# no flag: the file's mode is used (not the default none): 2 rows for every configuration
"$LLMSWEEP" sweep "$SMALL" -o "$T/s.h5" --shard 0/3 --resume -q 2>"$T/r.err" || fail "resume: $(cat "$T/r.err")"
"$PY" - "$T/s.h5" <<'PY' || fail "resumed /requests"
import sys, h5py, collections
f = h5py.File(sys.argv[1], "r")
assert f.attrs["requests_mode"] == "sample:2"
ids = sorted(f["/results"]["config_id"])
assert ids == [0, 3, 6, 9, 12, 15], ids
c = collections.Counter(f["/requests"]["config_id"])
assert sorted(c) == ids and set(c.values()) == {2}, c
PY
"$PY" "$COMPARE" "$T/ref.h5" "$T/s.h5" || fail "resumed file differs from the uninterrupted one"
# the same flag is accepted
"$LLMSWEEP" sweep "$SMALL" -o "$T/s.h5" --shard 0/3 --resume --requests sample:2 2>"$T/same.err" ||
    fail "same --requests refused: $(cat "$T/same.err")"
grep -q "nothing to run" "$T/same.err" || fail "same --requests: message"

# merge: parts of different modes are refused; equal modes merge and keep the mode
"$LLMSWEEP" sweep "$SMALL" -o "$T/p1.h5" --shard 1/3 --requests all -q || fail "shard 1 all"
"$LLMSWEEP" merge "$T/s.h5" "$T/p1.h5" -o "$T/m.h5" 2>"$T/m.err"; rc=$?
[ $rc -eq 1 ] && grep -q "sample:2" "$T/m.err" && grep -q "all" "$T/m.err" ||
    fail "merge of mixed modes: exit $rc $(cat "$T/m.err")"
[ ! -e "$T/m.h5" ] || fail "a refused merge left its output"
"$LLMSWEEP" sweep "$SMALL" -o "$T/p2.h5" --shard 1/3 --requests sample:2 -q || fail "shard 1 sample"
"$LLMSWEEP" merge "$T/s.h5" "$T/p2.h5" -o "$T/m.h5" 2>/dev/null || fail "merge of equal modes"
"$PY" -c "import h5py,sys; assert h5py.File(sys.argv[1],'r').attrs['requests_mode'] == 'sample:2'" "$T/m.h5" ||
    fail "merged requests_mode"
# under mpiexec every rank uses the inherited mode (rank 0 reads it and broadcasts it)
"$LLMSWEEP" sweep "$SMALL" -o "$T/mpi.h5" --requests sample:3 -q || fail "mpi: first run"
"$PY" -c "import h5py,sys; h5py.File(sys.argv[1],'r+')['/results'].resize((3,))" "$T/mpi.h5" || fail "mpi: truncation"
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$SMALL" -o "$T/mpi.h5" --resume -q || fail "mpi: resume"
"$PY" - "$T/mpi.h5" <<'PY' || fail "mpi: resumed /requests"
import sys, h5py, collections
f = h5py.File(sys.argv[1], "r")
c = collections.Counter(f["/requests"]["config_id"])
assert len(f["/results"]) == 17 and len(c) == 17 and set(c.values()) == {3}, (len(f["/results"]), c)
PY
echo "sweep_requests_mode: ok"
