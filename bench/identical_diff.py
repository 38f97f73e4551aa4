# identical_diff.py DIR N -- for bench/identical.sh DIFF=1: DIR/{old,new}K.h5 (K = 1..N) are the two
# binaries' `run --requests-out` files of configuration K (DIR/nameK its name). Prints, per metric of
# /results, the largest relative difference |new - old| / |old| over all configurations (and which),
# the metrics that differ at all, and whether each /requests table has the same rows in the same order
# (then: the same rows in another order; or different rows). Exit 1 when a /requests table has
# different rows or an integer column of /results differs; float differences are reported, not judged.
import sys
import h5py
import numpy as np

d, n = sys.argv[1], int(sys.argv[2])
worst = {}  # metric -> (rel, config name)
bad = False
order_changed = []
for k in range(1, n + 1):
    name = open("%s/name%d" % (d, k)).read().strip()
    try:
        fa, fb = h5py.File("%s/old%d.h5" % (d, k), "r"), h5py.File("%s/new%d.h5" % (d, k), "r")
    except OSError as e:
        print("%s: %s" % (name, e))
        bad = True
        continue
    a, b = fa["/results"][:], fb["/results"][:]
    for col in a.dtype.names:
        if col == "wall_time_s" or col not in b.dtype.names:
            continue
        x, y = a[col], b[col]
        if x.dtype.kind != "f":
            if not np.array_equal(x, y):
                print("%s: %s differs (%s vs %s)" % (name, col, x, y))
                bad = True
            continue
        if np.array_equal(x, y, equal_nan=True):
            worst.setdefault(col, (0.0, ""))
            continue
        rel = float(np.nanmax(np.abs(y - x) / np.where(x == 0, 1.0, np.abs(x))))
        if np.isnan(x).any() != np.isnan(y).any():
            rel = float("inf")
        if rel > worst.get(col, (0.0, ""))[0]:
            worst[col] = (rel, name)
    ra, rb = fa["/requests"][:] if "/requests" in fa else None, fb["/requests"][:] if "/requests" in fb else None
    if ra is None or rb is None:
        continue
    same = ra.shape == rb.shape and all(np.array_equal(ra[c], rb[c], equal_nan=ra[c].dtype.kind == "f")
                                        for c in ra.dtype.names)
    if not same:
        sa, sb = np.sort(ra, order=["index"]), np.sort(rb, order=["index"])
        rows = sa.shape == sb.shape and all(np.array_equal(sa[c], sb[c], equal_nan=sa[c].dtype.kind == "f")
                                            for c in sa.dtype.names)
        if rows:
            order_changed.append(name)
        else:
            print("%s: /requests rows differ" % name)
            bad = True
print("largest relative difference per metric over %d configurations (0: equal to the bit everywhere):" % n)
for col in sorted(worst):
    rel, where = worst[col]
    if rel > 0:
        print("  %-28s %.3g  (%s)" % (col, rel, where))
print("  equal to the bit: %s" % ", ".join(c for c in sorted(worst) if worst[c][0] == 0))
print("/requests: same rows in the same order in all but %d: %s" % (len(order_changed), "; ".join(order_changed)))
sys.exit(1 if bad else 0)
