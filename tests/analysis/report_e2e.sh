#!/usr/bin/env bash
# report_e2e.sh -- the real sweep on a tiny grid, then `llmsweep report` and `llmsweep plot` on it.
#
# Checks, from the numbers in the file (read back by Python, independently of the C report):
# - the rank-1 configuration of each table is the one with the highest goodput among those that
#   meet the SLO (TTFT p99 <= 2 s, TPOT p99 <= 200 ms, >= 99% completed), goodputs within 1%
#   being a tie decided by the lower TTFT p99; and the recommendation names it;
# - the infeasible configuration (Llama-3.1-70B BF16 on one 80 GB H100) says why;
# - every finished configuration has a capacity, and its own run agrees with it: a row whose
#   arrival rate is at most its capacity meets the SLO, one above the failing side does not;
# - text fits in 100 columns, CSV rows have as many fields as the header and every metric column,
#   Markdown tables have a separator row as wide as the header;
set -euo pipefail
: "${LLMSWEEP:?set by ctest}"
PY=${LS_PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp "$(dirname "$0")/tiny-sweep.yaml" "$tmp/spec.yaml"

mpirun -np 2 "$LLMSWEEP" sweep "$tmp/spec.yaml" -o "$tmp/r.h5" --no-progress --quiet

"$LLMSWEEP" report "$tmp/r.h5" > "$tmp/r.txt"
"$LLMSWEEP" report "$tmp/r.h5" --format md > "$tmp/r.md"
"$LLMSWEEP" report "$tmp/r.h5" --format csv -o "$tmp/r.csv"
"$LLMSWEEP" report "$tmp/r.h5" --by parallelism --slo ttft_p99=500ms > "$tmp/by.txt"

# infeasible rows give their reason
grep -q 'tp1 .*infeasible: weights 141.1 GB' "$tmp/r.txt" || { echo "no infeasible reason"; cat "$tmp/r.txt"; exit 1; }
grep -q 'TP=1 is infeasible: weights 141.1 GB' "$tmp/r.txt" || { echo "no infeasible sentence"; exit 1; }

# usage errors
if "$LLMSWEEP" report "$tmp/r.h5" --by colour 2>"$tmp/err"; then echo "--by colour accepted"; exit 1; fi
grep -q "colour" "$tmp/err"
set +e
"$LLMSWEEP" report "$tmp/r.h5" --slo ttft_p99=fast 2>/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "bad --slo: exit $rc, expected 2"; exit 1; }
if "$LLMSWEEP" report "$tmp/missing.h5" 2>/dev/null; then echo "missing file accepted"; exit 1; fi

"$PY" - "$tmp" <<'EOF'
import csv, math, re, sys
tmp = sys.argv[1]

# text: 100 columns
for line in open(f"{tmp}/r.txt", encoding="utf-8"):
    assert len(line.rstrip("\n")) <= 100, f"text line longer than 100: {line!r}"

# CSV: consistent, every metric there
rows = list(csv.reader(open(f"{tmp}/r.csv", encoding="utf-8")))
head, body = rows[0], rows[1:]
assert all(len(r) == len(head) for r in body), "ragged CSV"
for col in ("config_id", "parallelism", "status", "goodput_rps", "ttft_p99_s", "tpot_p99_s",
            "success_rate", "capacity_rps", "slo_met", "rank_goodput", "rank_goodput_per_gpu"):
    assert col in head, f"CSV lacks {col}"
d = [dict(zip(head, r)) for r in body]
assert len(d) == 10, len(d)

def num(r, k):
    return float(r[k]) if r[k] != "" else math.nan

def meets(r):
    return (r["status"] == "ok" and num(r, "ttft_p99_s") <= 2.0
            and (math.isnan(num(r, "tpot_p99_s")) or num(r, "tpot_p99_s") <= 0.2)
            and num(r, "success_rate") >= 0.99)

text = open(f"{tmp}/r.txt", encoding="utf-8").read()
for g in sorted({r["group"] for r in d}):
    grp = [r for r in d if r["group"] == g]
    for r in grp:
        assert (r["slo_met"] == "1") == meets(r), f"slo_met wrong for config {r['config_id']}"
    ok = [r for r in grp if meets(r)]
    assert ok, f"group {g}: nothing meets the SLO; the fixture should have a winner"
    top = max(num(r, "goodput_rps") for r in ok)
    tied = [r for r in ok if num(r, "goodput_rps") >= top * 0.99]
    want = min(tied, key=lambda r: num(r, "ttft_p99_s"))
    best = [r for r in grp if r["rank_goodput"] == "1"]
    assert len(best) == 1 and best[0]["config_id"] == want["config_id"], \
        f"group {g}: rank 1 is {[b['config_id'] for b in best]}, the numbers say {want['config_id']}"
    rate = float(want["arrival_rate"])
    name = want["parallelism"]
    parts = [(k.upper(), v) for k, v in re.findall(r"([a-z]+)(\d+)", name)]
    keep = [p for p in parts if p[1] != "1"] or parts   # "tp1pp8" -> "PP=8", "tp1" -> "TP=1"
    pretty = "\u00d7".join(f"{k}={v}" for k, v in keep)
    sentence = f"At {rate:g} req/s, {pretty} is the best configuration"
    assert sentence in text, f"recommendation missing: {sentence!r}"
    # per GPU ranking: rank 1 has the highest goodput per GPU (within 1%)
    gg = max(num(r, "goodput_per_gpu_rps") for r in ok)
    b1 = [r for r in grp if r["rank_goodput_per_gpu"] == "1"][0]
    assert num(b1, "goodput_per_gpu_rps") >= gg * 0.99

# capacity: finite for every configuration that ran, and consistent with the swept rates
for r in d:
    if r["status"] != "ok":
        assert r["capacity_rps"] == "", "infeasible row with a capacity"
        continue
    cap = num(r, "capacity_rps")
    assert cap >= 0, f"config {r['config_id']}: capacity {cap}"
    rate = num(r, "arrival_rate")
    if rate <= cap * 0.9:       # well inside the capacity: the run at that rate meets the SLO
        assert meets(r), f"config {r['config_id']} at {rate} <= capacity {cap} misses the SLO"
    if rate >= cap * 1.3:       # well past the bracket (10% tolerance): it misses
        assert not meets(r), f"config {r['config_id']} at {rate} > capacity {cap} meets the SLO"

# Markdown: each table's separator row has as many cells as its header
lines = open(f"{tmp}/r.md", encoding="utf-8").read().splitlines()
n_tables = 0
for i, line in enumerate(lines):
    if line.startswith("|---") or line.startswith("| ---") or re.match(r"^\|(-+:?\|)+$", line):
        cells = lambda s: len(re.findall(r"(?<!\\)\|", s))
        assert cells(line) == cells(lines[i - 1]), f"md separator width differs at line {i}"
        n_tables += 1
        j = i + 1
        while j < len(lines) and lines[j].startswith("|"):
            assert cells(lines[j]) == cells(line), f"md row width differs at line {j}"
            j += 1
assert n_tables >= 5, f"only {n_tables} Markdown tables"
print("report checks passed")
EOF

# --by makes a table per strategy; a tighter SLO leaves fewer winners
[ "$(grep -c '^== ' "$tmp/by.txt")" -eq 10 ] || { echo "--by parallelism: expected 10 tables"; exit 1; }
grep -q 'TTFT p99 <= 500ms' "$tmp/by.txt"

echo "ok"
