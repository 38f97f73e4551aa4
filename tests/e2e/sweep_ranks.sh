#!/usr/bin/env bash
# sweep_ranks.sh -- the same specification on 1, 2 and 3 ranks gives identical /results and
# /requests (wall times aside); h5ls, h5dump, h5py and pandas.read_hdf read the file; an
# existing output is refused without --resume/--force.
SWEEP_FULL_LEAK_CHECK=1
. "$(dirname "$0")/sweep_lib.bash"
"$LLMSWEEP" sweep "$SMALL" -o "$T/np1.h5" --requests all -q || fail "1 rank (no mpirun)"
"$MPIEXEC" -n 2 "$LLMSWEEP" sweep "$SMALL" -o "$T/np2.h5" --requests all -q || fail "2 ranks"
"$MPIEXEC" -n 3 "$LLMSWEEP" sweep "$SMALL" -o "$T/np3.h5" --requests all -q || fail "3 ranks"
"$PY" "$COMPARE" "$T/np1.h5" "$T/np2.h5" "$T/np3.h5" || fail "results depend on the number of ranks"

# readers
h5ls -r "$T/np2.h5" | grep -q '^/results' || fail "h5ls"
h5dump -H "$T/np2.h5" | grep -q 'ttft_p99_s' || fail "h5dump header"
h5dump -a /spec_name "$T/np2.h5" | grep -q 'small-sweep' || fail "h5dump attribute"
"$PY" - "$T/np2.h5" <<'PY' || fail "h5py/pandas"
import sys, h5py, pandas as pd, numpy as np
p = sys.argv[1]
f = h5py.File(p, "r")
for a in ["tool_version", "git_revision", "spec_text", "spec_name", "seed", "created", "ranks",
          "hdf5_version", "mpi_version", "n_configs"]:
    assert a in f.attrs, a
assert f.attrs["ranks"] == 2 and f.attrs["n_configs"] == 17 and f.attrs["seed"] == 7
cols = [c.decode() if isinstance(c, bytes) else c for c in f["/results"].attrs["columns"]]
names = [c.split("|")[0] for c in cols]
assert names == list(f["/results"].dtype.names), "columns attribute does not match the members"
assert len(f["/config_yaml"]) == 17
txt = lambda col: set(x.decode() if isinstance(x, bytes) else x for x in col)
r = pd.read_hdf(p, "/results")
assert len(r) == 17 and txt(r["status"]) == {"ok"}, r["status"]
assert (r["n_completed"] > 0).all() and np.isfinite(r["ttft_p99_s"]).all()
c = pd.read_hdf(p, "/configs")
assert list(c["config_id"]) == list(range(17))
assert txt(c["parallelism"]) == {"tp1", "tp2", "dp2"} and set(c["dp"]) == {1, 2}
q = pd.read_hdf(p, "/requests")
assert len(q) == r["n_requests"].sum(), (len(q), r["n_requests"].sum())
PY
"$LLMSWEEP" sweep "$SMALL" -o "$T/np1.h5" -q 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "existing output: exit $rc"
grep -q -- "--resume" "$T/err" || fail "existing output: message"
"$LLMSWEEP" sweep "$SMALL" -o "$T/np1.h5" -q --force || fail "--force"
echo "sweep_ranks: ok"
