#!/usr/bin/python3
"""fake_llmsweep.py -- a stand-in for `llmsweep sweep|merge|report` with the same interface, used to test
the Slurm scripts before (or without) the real sweep. Rank 0 of an MPI launch (PMIX_RANK or
OMPI_COMM_WORLD_RANK) does all the work; other ranks exit 0. Each configuration sleeps FAKE_SLEEP_S."""
import hashlib, itertools, json, os, signal, sys, time
import h5py, numpy as np, yaml

DT = np.dtype([("config_id", "<i8"), ("config_hash", "S16"), ("status", "S12"), ("value", "<f8"),
               ("wall_time_s", "<f8")])
stop = False

def on_signal(signum, frame):
    global stop
    stop = True

def configs(spec_path):
    spec = yaml.safe_load(open(spec_path))
    grid = spec.get("grid", {})
    keys = sorted(grid)
    out = []
    for i, vals in enumerate(itertools.product(*(grid[k] for k in keys))):
        c = dict(zip(keys, vals))
        h = hashlib.sha256(json.dumps(c, sort_keys=True).encode()).hexdigest()[:16]
        out.append((i, h.encode(), c))
    return out

def sweep(argv):
    spec, out, resume, shard = argv[0], None, False, None
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "-o": out = argv[i + 1]; i += 1
        elif a == "--resume": resume = True
        elif a == "--shard": shard = tuple(int(x) for x in argv[i + 1].split("/")); i += 1
        i += 1
    rank = int(os.environ.get("PMIX_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")))
    if rank != 0:
        return 0
    signal.signal(signal.SIGTERM, on_signal); signal.signal(signal.SIGINT, on_signal)
    todo = configs(spec)
    if shard: todo = [c for c in todo if c[0] % shard[1] == shard[0]]
    if os.path.exists(out) and not resume:
        print(f"fake: {out} exists", file=sys.stderr); return 1
    f = h5py.File(out, "a")
    if "results" not in f:
        f.create_dataset("results", shape=(0,), maxshape=(None,), dtype=DT, chunks=(64,))
    d = f["results"]
    done = set(d["config_hash"]) if d.shape[0] else set()
    for cid, h, c in todo:
        if stop: break
        if h in done: continue
        t0 = time.time()
        time.sleep(float(os.environ.get("FAKE_SLEEP_S", "0.05")))
        n = d.shape[0]; d.resize((n + 1,))
        d[n] = (cid, h, b"ok", float(cid) * 1.5, time.time() - t0)
        f.flush()
    f.close()
    if stop:
        print("fake: interrupted, resume with --resume", file=sys.stderr); return 4
    return 0

def merge(argv):
    out = argv[argv.index("-o") + 1]
    parts = [a for j, a in enumerate(argv) if a != "-o" and (j == 0 or argv[j - 1] != "-o")]
    rows = np.concatenate([h5py.File(p, "r")["results"][:] for p in parts])
    if len(set(rows["config_hash"])) != len(rows):
        print("fake: duplicate hashes", file=sys.stderr); return 1
    rows = np.sort(rows, order="config_id")
    with h5py.File(out, "w") as f:
        f.create_dataset("results", data=rows, maxshape=(None,), chunks=(64,))
    return 0

def report(argv):
    with h5py.File(argv[0], "r") as f:
        print(f"{f['results'].shape[0]} results")
    return 0

if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    sys.exit({"sweep": sweep, "merge": merge, "report": report}[cmd](rest))
