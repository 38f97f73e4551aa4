#!/usr/bin/env bash
# sweep_shards.sh -- three shards (--shard I/3) merged equal the unsharded run, /requests included;
# merge refuses duplicates, other specifications and an existing output; --shard refuses mpiexec.
. "$(dirname "$0")/sweep_lib.bash"
"$LLMSWEEP" sweep "$SMALL" -o "$T/full.h5" --requests all -q || fail "full run"
for i in 0 1 2; do
    "$LLMSWEEP" sweep "$SMALL" -o "$T/part$i.h5" --shard $i/3 --requests all -q || fail "shard $i"
done
n0=$(rows "$T/part0.h5"); n1=$(rows "$T/part1.h5"); n2=$(rows "$T/part2.h5")
[ $((n0 + n1 + n2)) -eq 17 ] && [ "$n0" -eq 6 ] && [ "$n2" -eq 5 ] || fail "shard sizes $n0 $n1 $n2"
"$LLMSWEEP" merge "$T/part0.h5" "$T/part1.h5" "$T/part2.h5" -o "$T/merged.h5" 2>"$T/merge.err" ||
    fail "merge: $(cat "$T/merge.err")"
grep -q "17 of 17" "$T/merge.err" || fail "merge summary: $(cat "$T/merge.err")"
"$PY" "$COMPARE" "$T/full.h5" "$T/merged.h5" || fail "merged shards differ from the full run"
"$PY" - "$T/merged.h5" <<'PY' || fail "merged attributes"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert f.attrs["merged_from"] == 3 and f.attrs["n_configs"] == 17 and f.attrs["shard_count"] == 1
assert len(f["/configs"]) == 17 and len(f["/config_yaml"]) == 17
PY
# a resumed shard has nothing left to do
"$LLMSWEEP" sweep "$SMALL" -o "$T/part1.h5" --shard 1/3 --resume 2>"$T/r.err" || fail "shard resume"
grep -q "nothing to run" "$T/r.err" || fail "shard resume message"
# ... and a shard file cannot be resumed as another shard
"$LLMSWEEP" sweep "$SMALL" -o "$T/part1.h5" --shard 2/3 --resume 2>"$T/r2.err"; rc=$?
[ $rc -eq 1 ] && grep -q "shard 1/3" "$T/r2.err" || fail "wrong shard resumed: $rc $(cat "$T/r2.err")"

# refusals
"$LLMSWEEP" merge "$T/part0.h5" "$T/part0.h5" -o "$T/dup.h5" 2>"$T/dup.err"; rc=$?
[ $rc -eq 1 ] && grep -q "duplicates" "$T/dup.err" || fail "duplicate parts: exit $rc $(cat "$T/dup.err")"
[ ! -e "$T/dup.h5" ] || fail "a refused merge left its output"
sed 's/seed: 7/seed: 8/' "$SMALL" > "$T/other.yaml"
"$LLMSWEEP" sweep "$T/other.yaml" -o "$T/other.h5" --shard 0/3 -q || fail "other spec"
"$LLMSWEEP" merge "$T/part1.h5" "$T/other.h5" -o "$T/mix.h5" 2>"$T/mix.err"; rc=$?
[ $rc -eq 1 ] && grep -q "different specifications" "$T/mix.err" || fail "mixed specs: exit $rc $(cat "$T/mix.err")"
"$LLMSWEEP" merge "$T/part0.h5" -o "$T/merged.h5" 2>"$T/ex.err"; rc=$?
[ $rc -eq 1 ] && grep -q -- "--force" "$T/ex.err" || fail "existing merge output: exit $rc"
"$LLMSWEEP" merge "$T/part0.h5" -o "$T/merged.h5" --force 2>/dev/null || fail "merge --force"
[ "$(rows "$T/merged.h5")" -eq 6 ] || fail "partial merge rows"
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$SMALL" -o "$T/x.h5" --shard 0/2 -q 2>"$T/mpi.err"; rc=$?
[ $rc -ne 0 ] && grep -q "without mpirun" "$T/mpi.err" || fail "--shard under mpiexec: exit $rc"
echo "sweep_shards: ok"
