# sweep_compare.py A.h5 B.h5...: every file's /results equals A's row for row after sorting by
# config_id, in every column but wall_time_s (NaN equals NaN); each config_id at most once;
# /requests equal too (sorted by config_id, index) when A has them. Exit 1 on a difference.
import sys
import h5py
import numpy as np


def load(path, name, keys):
    with h5py.File(path, "r") as f:
        if name not in f:
            return None
        return np.sort(f[name][:], order=keys)


def same_table(a, b, skip):
    if a.shape != b.shape:
        return "%d rows vs %d" % (len(a), len(b))
    for n in a.dtype.names:
        if n in skip:
            continue
        x, y = a[n], b[n]
        ok = np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else np.array_equal(x, y)
        if not ok:
            return "column %s differs" % n
    return None


ref = sys.argv[1]
a = load(ref, "/results", ["config_id"])
if len(np.unique(a["config_id"])) != len(a):
    sys.exit("DIFFER: %s has a configuration twice" % ref)
ra = load(ref, "/requests", ["config_id", "index"])
for p in sys.argv[2:]:
    b = load(p, "/results", ["config_id"])
    why = same_table(a, b, {"wall_time_s"})
    if why:
        sys.exit("DIFFER: /results of %s and %s: %s" % (ref, p, why))
    if ra is not None:
        rb = load(p, "/requests", ["config_id", "index"])
        why = "no /requests" if rb is None else same_table(ra, rb, set())
        if why:
            sys.exit("DIFFER: /requests of %s and %s: %s" % (ref, p, why))
print("identical: %d result rows in %d files" % (len(a), len(sys.argv) - 1))
