#!/usr/bin/python3
"""check_results.py -- checks on llmsweep result files for the Slurm tests (h5py, /usr/bin/python3).

  complete SPEC FILE    /results has one row per configuration of SPEC's grid (the cartesian product,
                        counted here from the YAML, not by llmsweep), no config_hash twice, no error rows
  partial SPEC FILE     FILE opens, /results has at least one row and fewer than the grid, no duplicates
  same A B              A's and B's /results hold the same rows (matched by config_hash), equal in every
                        column but wall_time_s
  subset A B            every row of A is in B, equal in every column but wall_time_s
Exit 0 when the check holds, 1 with a message otherwise."""
import sys
import h5py
import numpy as np
import yaml

IGNORED = {"wall_time_s"}   # the only column allowed to differ between runs


def grid_size(spec_path):
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    n = 1
    for values in (spec.get("grid") or {}).values():
        n *= len(values)
    for group in (spec.get("zip") or []):
        n *= len(next(iter(group.values())))   # the axes of a zip group vary together
    return n


def results(path):
    with h5py.File(path, "r") as f:
        if "results" not in f:
            sys.exit(f"{path}: no /results")
        rows = f["results"][:]
        status_enum = h5py.check_enum_dtype(f["results"].dtype["status"]) \
            if "status" in f["results"].dtype.names else None
    return rows, status_enum


def hashes(rows):
    return [bytes(h) if not isinstance(h, bytes) else h for h in rows["config_hash"]]


def statuses(rows, enum):
    out = []
    for s in rows["status"]:
        if enum:
            s = {v: k for k, v in enum.items()}[int(s)]
        elif isinstance(s, (bytes, np.bytes_)):
            s = s.decode()
        out.append(str(s).strip())
    return out


def no_duplicates(path, rows):
    h = hashes(rows)
    if len(set(h)) != len(h):
        sys.exit(f"{path}: {len(h) - len(set(h))} duplicate config_hash rows")


def by_hash(rows):
    return dict(zip(hashes(rows), rows))


def equal_rows(a, b, path_a, path_b):
    ra, rb = by_hash(a), by_hash(b)
    names = [n for n in a.dtype.names if n not in IGNORED]
    if set(names) - set(b.dtype.names):
        sys.exit(f"{path_b}: columns missing: {sorted(set(names) - set(b.dtype.names))}")
    for h, row in ra.items():
        if h not in rb:
            sys.exit(f"{path_b}: no row for config_hash {h!r}")
        for n in names:
            x, y = row[n], rb[h][n]
            same = np.array_equal(x, y, equal_nan=True) if np.issubdtype(np.asarray(x).dtype, np.floating) \
                else np.array_equal(x, y)
            if not same:
                sys.exit(f"config_hash {h!r}: {n} = {x!r} in {path_a} but {y!r} in {path_b}")


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    what, a, b = argv
    if what in ("complete", "partial"):
        n = grid_size(a)
        rows, enum = results(b)
        no_duplicates(b, rows)
        if what == "complete":
            if len(rows) != n:
                sys.exit(f"{b}: {len(rows)} rows in /results, the grid has {n}")
            bad = [s for s in statuses(rows, enum) if s not in ("ok", "infeasible")]
            if bad:
                sys.exit(f"{b}: {len(bad)} rows with status {sorted(set(bad))}")
        elif not 0 < len(rows) < n:
            sys.exit(f"{b}: {len(rows)} rows, expected a part of the {n} configurations")
        print(f"{b}: {len(rows)} of {n} configurations, no duplicates")
    elif what in ("same", "subset"):
        ra, _ = results(a)
        rb, _ = results(b)
        no_duplicates(a, ra)
        no_duplicates(b, rb)
        if what == "same" and len(ra) != len(rb):
            sys.exit(f"{a} has {len(ra)} rows, {b} has {len(rb)}")
        equal_rows(ra, rb, a, b)
        print(f"{a} and {b}: {len(ra)} rows {'equal' if what == 'same' else 'kept'}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
