#!/usr/bin/env bash
# report_capacity_by.sh -- `report --by model` and `--by cluster` give each configuration its own
# capacity (issue 18.1). A sweep over {llama-3.1-8b, llama-3.1-70b} x {dgx-h100, dgx-h200} x
# tp1..8, and the default study (examples/gh200-strategies.yaml) with `--by cluster`; and the default
# study's speculative family: every EAGLE row paired with its baseline, a sentence per strategy.
#
# Expected values come from the file, read by h5py (not by the report's code): for every
# configuration, its capacity_rps in /results (on the one listing the sweep searched). Checked against the CSV (every row), and against the
# text capacity table: one row per configuration, labelled by every column that varies (model
# included), each showing that configuration's /results capacity, or why it has none; a capacity of
# 0 as "<R", R its capacity_fail_rps (the rate the search missed the SLO at).
set -euo pipefail
source "$(dirname "$0")/h5py_lib.bash"

mpirun -np 2 "$LLMSWEEP" sweep "$here/by-model-sweep.yaml" -o "$tmp/m.h5" --no-progress --quiet
mpirun -np 2 "$LLMSWEEP" sweep "$here/../../examples/gh200-strategies.yaml" -o "$tmp/gh.h5" \
  --no-progress --quiet
for by in model cluster model,cluster; do
  "$LLMSWEEP" report "$tmp/m.h5" --by "$by" > "$tmp/m-$by.txt"
  "$LLMSWEEP" report "$tmp/m.h5" --by "$by" --format csv > "$tmp/m-$by.csv"
done
"$LLMSWEEP" report "$tmp/m.h5" > "$tmp/m-none.txt"
"$LLMSWEEP" report "$tmp/m.h5" --format csv > "$tmp/m-none.csv"
"$LLMSWEEP" sweep "$here/../../examples/gh200-strategies.yaml" --dry-run > "$tmp/gh-dry.txt"
"$LLMSWEEP" report "$tmp/gh.h5" --by cluster > "$tmp/gh-cluster.txt"
"$LLMSWEEP" report "$tmp/gh.h5" --by cluster --format csv > "$tmp/gh-cluster.csv"

"$PY" - "$tmp" <<'PYEOF'
import csv, math, sys, h5py
tmp = sys.argv[1]

def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)

def fmt_rate(r):  # the report's printed precision (docs/REPORT.md: 3 significant digits)
    return f"{r:.2f}" if r < 10 else f"{r:.1f}" if r < 100 else f"{r:.0f}"

def fmt_cap(c, fail):  # a capacity of 0: "<R", R in the fewest of 3..6 digits not below it, else rounded up
    if not (c == 0 and math.isfinite(fail)):
        return fmt_rate(c)
    for p in range(3, 7):
        t = "%.*g" % (p, fail)
        if float(t) >= fail:
            return "<" + t
    step = 10 ** (math.floor(math.log10(fail)) - 2)
    return "<%.3g" % (math.ceil(fail / step) * step)

def truth(path):
    """configs by id, and each id's capacity: the one /results value of its configuration (every
    /configs column but arrival_rate equal); a sweep searches one listing per configuration, so
    exactly one listing of each has a value (NaN for all when infeasible). Also each id's
    capacity_fail_rps, from the same listing (the table's "<R" for a capacity of 0)"""
    f = h5py.File(path, "r")
    c = f["configs"][...]
    cfg = {int(x["config_id"]): x for x in c}
    own = {int(x["config_id"]): (float(x["capacity_rps"]), float(x["capacity_fail_rps"])) for x in f["results"][...]}
    cols = [n for n in c.dtype.names if n not in ("config_id", "config_hash", "arrival_rate")]
    ident = {i: tuple(s(x[n]) for n in cols) for i, x in cfg.items()}
    vals = {}
    for i, v in own.items():
        if not math.isnan(v[0]):
            vals.setdefault(ident[i], []).append(v)
    assert all(len(v) == 1 for v in vals.values()), f"{path}: a configuration was searched twice"
    cap = {i: vals[ident[i]][0][0] if ident[i] in vals else math.nan for i in cfg}
    fail = {i: vals[ident[i]][0][1] if ident[i] in vals else math.nan for i in cfg}
    return cfg, cap, fail

def res_of(path):
    return {int(x["config_id"]): x for x in h5py.File(path, "r")["results"][...]}

def check_csv(path, cap):
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    assert len(rows) == len(cap), (path, len(rows), len(cap))
    for d in rows:
        want = cap[int(d["config_id"])]
        got = float(d["capacity_rps"]) if d["capacity_rps"] else math.nan
        assert (math.isnan(want) and math.isnan(got)) or got == want, \
            f"{path}: config {d['config_id']} ({d['model']}, {d['cluster']}, {d['parallelism']}): " \
            f"capacity {got}, /results holds {want}"

def cap_table(path, words=()):
    """the capacity table's rows; `words`: cell values with spaces ("eagle k3 a0.7"), read as one"""
    text = open(path, encoding="utf-8").read()
    for w in words:
        text = text.replace(w, w.replace(" ", "_"))
    lines = text.split("\n")
    i = next(k for k, l in enumerate(lines) if l.startswith("Capacity (bisection"))
    i = next(k for k in range(i, len(lines)) if lines[k].startswith("strategy")) - 1
    head = lines[i + 1].split()
    rows = []
    for l in lines[i + 3:]:
        if not l.strip():
            break
        if l[0] == " ":  # a wrapped reason
            continue
        rows.append(dict(zip(head, l.split())))
    return head, rows

# the two-model sweep: every grouping
cfg, cap, fail = truth(f"{tmp}/m.h5")
for by in ("model", "cluster", "model,cluster", "none"):
    check_csv(f"{tmp}/m-{by}.csv", cap)
    head, rows = cap_table(f"{tmp}/m-{by}.txt")
    for col in ("strategy", "model", "cluster"):
        assert col in head, f"--by {by}: the capacity table has no {col} column: {head}"
    # one row per configuration (no rate axis here: one per config id), none lost: those
    # without a capacity say why (their /results status)
    assert len(rows) == len(cfg), \
        f"--by {by}: {len(rows)} capacity rows for {len(cfg)} configurations"
    seen = set()
    for r in rows:
        ids = [i for i in cfg if s(cfg[i]["model"]) == r["model"] and
               s(cfg[i]["cluster"]) == r["cluster"] and s(cfg[i]["parallelism"]) == r["strategy"]]
        assert len(ids) == 1, f"--by {by}: row {r} matches configurations {ids}"
        seen.add(ids[0])
        if math.isnan(cap[ids[0]]):
            st = s(res_of(f"{tmp}/m.h5")[ids[0]]["status"])
            assert r["capacity"] == f"{st}:", f"--by {by}: {r}: no capacity, status {st}"
        else:
            assert r["capacity"] == fmt_cap(cap[ids[0]], fail[ids[0]]), \
                f"--by {by}: {r}: /results holds capacity {cap[ids[0]]} for config {ids[0]}"
    assert seen == set(cfg)
    assert any(math.isnan(v) for v in cap.values()), "fixture: an infeasible configuration"
# the issue's example: 70B TP8 on H200 has its own capacity, not the 8B one
i70 = [i for i in cfg if s(cfg[i]["model"]) == "llama-3.1-70b" and s(cfg[i]["cluster"]) == "dgx-h200"
       and s(cfg[i]["parallelism"]) == "tp8"][0]
i8 = [i for i in cfg if s(cfg[i]["model"]) == "llama-3.1-8b" and s(cfg[i]["cluster"]) == "dgx-h200"
      and s(cfg[i]["parallelism"]) == "tp8"][0]
assert cap[i70] < cap[i8], (cap[i70], cap[i8])

# the default study by cluster (issue 18.1: 27 of 78 capacities were wrong): the main grid's 78
# configurations plus its row families (examples/gh200-strategies.yaml, `families:`)
cfg, cap, fail = truth(f"{tmp}/gh.h5")
# every configuration of the main grid and its families (examples/gh200-strategies.yaml)
import re
n_dry = int(re.search(r"validated: all (\d+) configurations", open(f"{tmp}/gh-dry.txt").read()).group(1))
assert len(cap) == n_dry, (len(cap), n_dry)
check_csv(f"{tmp}/gh-cluster.csv", cap)
words = sorted(({s(c["speculative"]) for c in cfg.values()} | {s(c["kv_offload"]) for c in cfg.values()}) - {"none"},
               key=len, reverse=True)
head, rows = cap_table(f"{tmp}/gh-cluster.txt", words)
assert "cluster" in head, head
# one row per configuration: the listings at the three rates share one capacity. The table's label
# columns (strategy, cluster, weights, and those the families vary) name it.
col_of = {"strategy": "parallelism", "weights": "dtype_weights", "kv": "dtype_kv", "gpu": "hardware"}
labels = head[:head.index("GPUs")]
ident = {}
for i, c in cfg.items():
    ident.setdefault(tuple(s(c[col_of.get(h, h)]).replace(" ", "_") for h in labels), set()).add((cap[i], fail[i]))
assert len(rows) == len(ident) >= 26, (len(rows), len(ident))
for r in rows:
    want, want_fail = next(iter(ident[tuple(r[h] for h in labels)]))
    assert r["capacity"] == ("infeasible:" if math.isnan(want) else fmt_cap(want, want_fail)), (r, want)
print("ok")
PYEOF
# the speculative family (issue 15.1): each EAGLE row against its main-grid baseline, per strategy
"$LLMSWEEP" report "$tmp/gh.h5" > "$tmp/gh.txt"
# (other families' columns label it too: the mixed family's router, the prefix family's enable_prefix_caching and
# kv_offload)
for who in 'TP=2×DP=4 \(gh200-nvl32, fp8, [^)]*eagle k3 a0.7\): TPOT gain' 'TP=8 \(gh200-nvl32, fp8, [^)]*eagle k3 a0.7\): TPOT gain'; do
  tr -s ' \n' ' ' < "$tmp/gh.txt" | grep -qE "$who" || { echo "default study: no speculative sentence '$who'"; exit 1; }
done
[ "$(grep -c '^tp[28].* eagle k3 a0.7 .*x$' "$tmp/gh.txt")" -eq 6 ] || { echo "default study: expected 6 speculative pairs"; exit 1; }
# the prefix family (issue 12): its own groups, and the cache rule's sentences (analysis/recommend_cache.c)
flat=$(tr -s ' \n' ' ' < "$tmp/gh.txt")
grep -qF "prompts shared(64x4096)+lognormal(mu=7.5,sigma=0.5)" <<<"$flat" || { echo "default study: no prefix family group"; exit 1; }
for rate in 2.5 4; do
  grep -qE "Prefix caching (does not change|changes|makes the difference)[^.]* at $rate req/s" <<<"$flat" ||
    { echo "default study: no prefix caching sentence at $rate req/s"; exit 1; }
done
grep -qF "A host KV tier (kv_offload grace 100 c2c) on top of prefix caching" <<<"$flat" ||
  { echo "default study: no KV tier sentence"; exit 1; }
# the capacity lead compares only configurations serving the same prompts: one sentence per traffic
for p in 'lognormal(mu=8.7,sigma=0.17)' 'shared(64x4096)+lognormal(mu=7.5,sigma=0.5)'; do
  grep -qF "llama-3.1-70b, prompts $p: the most capacity per GPU is" <<<"$flat" ||
    { echo "default study: no capacity lead for prompts $p"; exit 1; }
done
