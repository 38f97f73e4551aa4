#!/usr/bin/env bash
# sweep_inputs.sh -- the file records the content hash of every input (the trace here) and the
# build's revision; a --resume or merge whose trace content changed is refused naming the trace,
# and leaves the file untouched; the same content resumes to a clean run's rows; a file from
# another build is refused unless --accept-revision, and /history keeps both revisions.
. "$(dirname "$0")/sweep_lib.bash"
cd "$T"
cp "$LS_SOURCE_DIR/traces/azure-code-excerpt.csv.gz" trace.csv.gz
cp "$LS_SOURCE_DIR/traces/azure-conv-excerpt.csv.gz" other.csv.gz
cat > spec.yaml <<'YAML'
name: inputs-test
seed: 3
base:
  model: llama-3-8b
  hardware: h100-sxm
  cluster: dgx-h100
  parallelism: tp1
  scheduler: {policy: vllm-v1, max_num_seqs: 64}
  workload: {trace: trace.csv.gz, max_requests: 200}
grid:
  parallelism: [tp1, tp2]
  scheduler.max_num_seqs: [16, 64]
YAML
"$LLMSWEEP" sweep spec.yaml -o ref.h5 -q || fail "reference run"
# the recorded hash is FNV-1a 64 of the file's bytes, computed here independently
"$PY" - ref.h5 trace.csv.gz <<'PY' || fail "/inputs does not hold the trace's content hash"
import sys, h5py, os
f = h5py.File(sys.argv[1], "r")
rows = f["/inputs"][:]
assert len(rows) == 1, rows
r = rows[0]
h = 0xcbf29ce484222325
data = open(sys.argv[2], "rb").read()
for b in data:
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
assert r["kind"] == b"trace" and r["name"] == b"trace.csv.gz" and r["key"] == b"workload.trace", r
assert r["bytes"] == len(data) and r["content_hash"].decode() == "%016x" % h, (r, "%016x" % h)
assert f.attrs["git_revision"] and f.attrs["n_runs"] == 1
PY
# 1. a sweep that did not finish (configurations 1 and 2 fail: an incomplete file), then the
#    trace is replaced: --resume is refused naming the trace, and the file is not touched
LS_SWEEP_FAIL_IDS=1,2 "$LLMSWEEP" sweep spec.yaml -o x.h5 -q || fail "first run"
cp x.h5 before.h5
cp other.csv.gz trace.csv.gz
"$LLMSWEEP" sweep spec.yaml -o x.h5 --resume 2>err1; rc=$?
[ $rc -eq 1 ] || fail "changed trace: exit $rc: $(cat err1)"
grep -q "cannot resume x.h5: the trace 'trace.csv.gz' (workload.trace, first read by configuration 0) changed" err1 ||
    fail "changed trace: message: $(cat err1)"
cmp -s x.h5 before.h5 || fail "a refused resume changed the file"
# under mpiexec the same
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep spec.yaml -o x.h5 --resume 2>err1b; rc=$?
[ $rc -eq 1 ] && grep -q "the trace 'trace.csv.gz'" err1b || fail "changed trace, 2 ranks: exit $rc: $(cat err1b)"
cmp -s x.h5 before.h5 || fail "a refused resume (2 ranks) changed the file"
# 2. the original content back (a new copy: only the content counts): resumed, equal to the clean run
cp "$LS_SOURCE_DIR/traces/azure-code-excerpt.csv.gz" trace.csv.gz
"$LLMSWEEP" sweep spec.yaml -o x.h5 --resume 2>err2 || fail "resume with the same content: $(cat err2)"
grep -q "2 configurations already done" err2 || fail "resume: $(cat err2)"
"$PY" "$COMPARE" ref.h5 x.h5 || fail "resumed file differs from a clean run"
# 3. merge: two shards, the trace replaced between them: refused naming the trace and both parts
"$LLMSWEEP" sweep spec.yaml -o p0.h5 --shard 0/2 -q || fail "shard 0"
cp other.csv.gz trace.csv.gz
"$LLMSWEEP" sweep spec.yaml -o p1.h5 --shard 1/2 -q || fail "shard 1"
"$LLMSWEEP" merge p0.h5 p1.h5 -o m.h5 2>err3; rc=$?
[ $rc -eq 1 ] || fail "merge of different traces: exit $rc: $(cat err3)"
grep -q "the trace 'trace.csv.gz' (workload.trace) differs between the parts: p0.h5 read content hash" err3 &&
    grep -q "p1.h5 read" err3 || fail "merge of different traces: message: $(cat err3)"
[ ! -e m.h5 ] || fail "a refused merge left its output"
cp "$LS_SOURCE_DIR/traces/azure-code-excerpt.csv.gz" trace.csv.gz
"$LLMSWEEP" sweep spec.yaml -o p1.h5 --shard 1/2 --force -q || fail "shard 1 again"
"$LLMSWEEP" merge p0.h5 p1.h5 -o m.h5 2>err4 || fail "merge: $(cat err4)"
"$PY" "$COMPARE" ref.h5 m.h5 || fail "merged file differs from a clean run"
"$PY" - m.h5 <<'PY' || fail "merged provenance"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
h = f["/history"][:]
assert [c.decode() for c in h["command"]] == ["sweep", "sweep", "merge"], h["command"]
assert [s.decode() for s in h["shard"]] == ["0/2", "1/2", "0/1"], h["shard"]
assert list(h["rows_added"]) == [2, 2, 4], h["rows_added"]
assert list(h["run"]) == [0, 1, 2]
assert len(f["/inputs"]) == 1 and len(f["/spec_revisions"]) == 1
assert f.attrs["n_runs"] == 3 and f.attrs["ranks"] == 1
PY
# 4. a file written by another build: refused unless --accept-revision; /history keeps both
LS_SWEEP_FAIL_IDS=3 "$LLMSWEEP" sweep spec.yaml -o r.h5 -q || fail "revision: first run"
"$PY" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f.attrs['git_revision']='0123456789ab'" r.h5
"$LLMSWEEP" sweep spec.yaml -o r.h5 --resume 2>err5; rc=$?
[ $rc -eq 1 ] && grep -q "r.h5 was written by llmsweep .* (revision 0123456789ab), this is llmsweep" err5 &&
    grep -q -- "--accept-revision" err5 || fail "other revision: exit $rc: $(cat err5)"
"$LLMSWEEP" sweep spec.yaml -o r.h5 --resume --accept-revision -q 2>err6 || fail "--accept-revision: $(cat err6)"
"$PY" - r.h5 <<'PY' || fail "history after --accept-revision"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
h = f["/history"][:]
assert [c.decode() for c in h["command"]] == ["sweep", "resume"], h["command"]
assert list(h["rows_added"]) == [4, 1], h["rows_added"]
assert [o.decode() for o in h["outcome"]] == ["complete", "complete"], h["outcome"]
assert f.attrs["git_revision"] != "0123456789ab"
PY
# merge of parts from two builds: refused unless --accept-revision
"$PY" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); f.attrs['git_revision']='0123456789ab'" p1.h5
"$LLMSWEEP" merge p0.h5 p1.h5 -o m2.h5 2>err7; rc=$?
[ $rc -eq 1 ] && grep -q "refusing to mix results of two builds" err7 || fail "merge, two builds: exit $rc: $(cat err7)"
"$LLMSWEEP" merge p0.h5 p1.h5 -o m2.h5 --accept-revision 2>err8 || fail "merge --accept-revision: $(cat err8)"
# 5. a file whose /history lacks a column (written before it existed) and has no /inputs:
#    resumed with the column empty for the old run and a note that inputs were not recorded
"$PY" - r.h5 <<'PY' || fail "rewriting an old-style history"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r+")
h = f["/history"][:]
names = [n for n in h.dtype.names if n != "host"]
old = np.empty(len(h), dtype=np.dtype([(n, h.dtype[n]) for n in names]))
for n in names:
    old[n] = h[n]
del f["/history"], f["/inputs"]
f.create_dataset("/history", data=old, maxshape=(None,), chunks=(16,))
PY
"$LLMSWEEP" sweep spec.yaml -o r.h5 --resume 2>err9 || fail "resume of an old-style file: $(cat err9)"
grep -q "records no input contents" err9 || fail "no note about unrecorded inputs: $(cat err9)"
"$PY" - r.h5 <<'PY' || fail "old-style history after resume"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
h = f["/history"][:]
assert list(h["host"][:2]) == [b"", b""] and h["host"][2] != b"", h["host"]
assert [c.decode() for c in h["command"]] == ["sweep", "resume", "resume"], h["command"]
assert len(f["/inputs"]) == 1
PY
echo "sweep_inputs: ok"
