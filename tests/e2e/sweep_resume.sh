#!/usr/bin/env bash
# sweep_resume.sh -- interrupt a sweep part way and resume it: SIGKILL of the whole job (2 ranks),
# SIGTERM of a one-rank sweep (exit 4, file readable, message saying how to resume) and SIGTERM
# of mpiexec; each resumed file holds exactly the configurations of an uninterrupted run.
. "$(dirname "$0")/sweep_lib.bash"
# 12 configurations of ~0.1-0.4 s each: slow enough to stop part way
stop_spec "$T/spec.yaml" resume-test 1600
S=$T/spec.yaml
"$LLMSWEEP" sweep "$S" -o "$T/ref.h5" -q || fail "reference run"

# 1. SIGKILL of the whole job. Open MPI (4.1) puts each rank in its own process group, so a
#    signal to mpiexec's group reaches mpiexec only and orphaned ranks would go on writing (and
#    holding the HDF5 file lock): kill mpiexec and its children (the ranks) by pid, together, and
#    wait until the ranks are gone before reading the file.
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$S" -o "$T/kill.h5" 2>"$T/kill.err" &
pid=$!
wait_done "$T/kill.err" 2 || fail "kill run made no progress: $(cat "$T/kill.err")"
ranks=$(ps --ppid "$pid" -o pid= | tr -d ' ')
[ -n "$ranks" ] || fail "no rank processes under mpiexec $pid"
# shellcheck disable=SC2086
kill -KILL "$pid" $ranks
wait "$pid" 2>/dev/null
# the ranks are not this shell's children: poll until each is gone (or a zombie: no longer running)
alive() { local p st; for p in $ranks; do st=$(ps -o stat= -p "$p" 2>/dev/null) && [ "${st#Z}" = "$st" ] && return 0; done; return 1; }
for _ in $(seq 1 200); do alive || break; sleep 0.05; done
alive && fail "ranks $ranks still running 10 s after SIGKILL"
n=$(rows "$T/kill.h5") || fail "file unreadable after SIGKILL"
echo "after SIGKILL: $n of 12 rows"
[ "$n" -lt 12 ] || echo "note: the job finished before SIGKILL reached it (machine too fast for this check)"
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$S" -o "$T/kill.h5" --resume -q 2>"$T/resume.err" || fail "resume after SIGKILL: $(cat "$T/resume.err")"
"$PY" "$COMPARE" "$T/ref.h5" "$T/kill.h5" || fail "SIGKILL + resume differs from an uninterrupted run"

# 2. SIGTERM of a one-rank sweep: exit 4, a consistent file, how to resume
"$LLMSWEEP" sweep "$S" -o "$T/term.h5" 2>"$T/term.err" &
pid=$!
wait_done "$T/term.err" 2 || fail "term run made no progress"
kill -TERM "$pid"
wait "$pid"; rc=$?
[ $rc -eq 4 ] || fail "SIGTERM: exit $rc, expected 4: $(tail -3 "$T/term.err")"
grep -q -- "--resume" "$T/term.err" || fail "SIGTERM: no resume hint"
n=$(rows "$T/term.h5") || fail "file unreadable after SIGTERM"
[ "$n" -ge 2 ] && [ "$n" -lt 12 ] || fail "SIGTERM: $n rows"
"$LLMSWEEP" sweep "$S" -o "$T/term.h5" --resume -q || fail "resume after SIGTERM"
"$PY" "$COMPARE" "$T/ref.h5" "$T/term.h5" || fail "SIGTERM + resume differs"

# 3. SIGTERM of mpiexec (it forwards the signal to the ranks): non-zero exit, consistent file,
#    resume; 24 configurations so that the 2-rank job is still running when the signal comes
sed 's/  workload.arrival.rate: \[10, 20, 30, 40\]/&\n  scheduler.max_num_seqs: [32, 64]/' "$S" > "$T/spec24.yaml"
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$T/spec24.yaml" -o "$T/mterm.h5" 2>"$T/mterm.err" &
pid=$!
wait_done "$T/mterm.err" 2 || fail "mpiexec term run made no progress"
kill -TERM "$pid"
wait "$pid"; rc=$?
if grep -q "configurations in" "$T/mterm.err"; then
    echo "note: the 2-rank sweep finished before SIGTERM reached it (machine too fast for this check)"
else
    [ $rc -ne 0 ] || fail "SIGTERM under mpiexec: exit 0"
    grep -q -- "--resume" "$T/mterm.err" || fail "SIGTERM under mpiexec: no resume hint: $(tail -3 "$T/mterm.err")"
    n=$(rows "$T/mterm.h5") || fail "file unreadable after SIGTERM under mpiexec"
    echo "after SIGTERM of mpiexec: $n of 24 rows"
fi
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$T/spec24.yaml" -o "$T/mterm.h5" --resume -q || fail "resume after mpiexec SIGTERM"
"$PY" - "$T/mterm.h5" <<'PY' || fail "mpiexec SIGTERM + resume: wrong rows"
import sys, h5py, numpy as np
r = h5py.File(sys.argv[1], "r")["/results"][:]
assert sorted(r["config_id"]) == list(range(24)), sorted(r["config_id"])
assert set(r["status"]) == {b"ok"}
PY

# resuming a complete file runs nothing; a changed specification is refused
"$LLMSWEEP" sweep "$S" -o "$T/ref.h5" --resume 2>"$T/none.err" || fail "resume of a complete file"
grep -q "nothing to run" "$T/none.err" || fail "complete file: message"
sed 's/rate: \[10, 20, 30, 40\]/rate: [10, 20, 30, 50]/' "$S" > "$T/changed.yaml"
"$LLMSWEEP" sweep "$T/changed.yaml" -o "$T/ref.h5" --resume 2>"$T/changed.err"; rc=$?
[ $rc -eq 1 ] || fail "changed spec: exit $rc"
grep -q "specification changed" "$T/changed.err" || fail "changed spec: message: $(cat "$T/changed.err")"
# /history: the killed run is marked aborted (rows unknown), the interrupted one interrupted
"$PY" - "$T/kill.h5" "$T/term.h5" <<'PY' || fail "history of the interrupted files"
import sys, h5py
k = h5py.File(sys.argv[1], "r")["/history"][:]
o = [v.decode() for v in k["outcome"]]
assert o in (["aborted", "complete"], ["complete", "complete"]), o  # complete: finished before SIGKILL
assert o[0] == "complete" or (k["end_utc"][0] == b"" and k["rows_added"][0] == -1), k[0]
t = h5py.File(sys.argv[2], "r")
h = t["/history"][:]
assert [v.decode() for v in h["outcome"]] == ["interrupted", "complete"], h["outcome"]
assert [v.decode() for v in h["command"]] == ["sweep", "resume"], h["command"]
assert 2 <= h["rows_added"][0] < 12 and sum(h["rows_added"]) == len(t["/results"]) == 12, h["rows_added"]
PY
echo "sweep_resume: ok"
