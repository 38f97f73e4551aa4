#!/usr/bin/env bash
# run_request_classes.sh -- the request class in the per-request output of `llmsweep run`
# (`--requests-out`, the `class` column of common/schema.h's per-request table):
# - a synthetic 2-class workload (classes drawn by their shares): the CSV's class names and the HDF5
#   /requests class indices count, per class, exactly the class<k>_n_requests of the run's metrics;
# - a native trace with a `class` column: each request's class in the CSV is the trace's;
# - without classes the column is empty (CSV) and -1 (HDF5).
. "$(dirname "$0")/config_lib.bash"
cat >"$T/two.yaml" <<YAML
model: llama-3-8b
hardware: h100-sxm
scheduler: {policy: priority, max_num_seqs: 64}
workload:
  arrival: {process: poisson, rate: 8}
  prompt_tokens: {dist: uniform, low: 64, high: 1024}
  output_tokens: {dist: uniform, low: 2, high: 64}
  duration_s: 20
  classes:
    - {name: chat, share: 0.3, priority: 0}
    - {name: batch, share: 0.7, priority: 1}
seed: 3
YAML
"$LLMSWEEP" run --config "$T/two.yaml" --json --requests-out "$T/two.csv" >"$T/two.json" 2>"$T/err" ||
    fail "csv run: $(cat "$T/err")"
"$LLMSWEEP" run --config "$T/two.yaml" --json --requests-out "$T/two.h5" >"$T/two_h5.json" 2>"$T/err" ||
    fail "h5 run: $(cat "$T/err")"
h5dump -d /requests -y -w 0 "$T/two.h5" >"$T/two.dump" 2>"$T/err" || fail "h5dump: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "class counts"
import collections, csv, json, re, sys
T = sys.argv[1]
m = json.load(open(f"{T}/two.json"))
m5 = json.load(open(f"{T}/two_h5.json"))
assert all(m[k] == m5[k] for k in ("n_requests", "class0_n_requests", "class1_n_requests", "ttft_p99_s")), "the runs differ"
rows = list(csv.DictReader(open(f"{T}/two.csv")))
assert list(rows[0])[-1] == "class", list(rows[0])
by_name = collections.Counter(r["class"] for r in rows)
# HDF5: each compound row's last member is the class index (columns: config_id, then the table)
dump = open(f"{T}/two.dump").read()
hdr = re.findall(r'H5T_\w+ "(\w+)";', dump)
assert hdr[0] == "config_id" and hdr[-1] == "class", hdr
data = dump[dump.index("DATA {") + 6:].split("ATTRIBUTE")[0]
by_index = collections.Counter(int(b.split(",")[-1]) for b in re.findall(r"\{([^{}]*)\}", data))
print("metrics: chat %d, batch %d of %d; csv %s; hdf5 %s" % (m["class0_n_requests"], m["class1_n_requests"],
      m["n_requests"], dict(by_name), dict(by_index)))
assert m["class0_n_requests"] > 0 and m["class1_n_requests"] > 0
assert m["class0_n_requests"] + m["class1_n_requests"] == m["n_requests"] == len(rows)
assert by_name == {"chat": m["class0_n_requests"], "batch": m["class1_n_requests"]}, by_name
assert by_index == {0: m["class0_n_requests"], 1: m["class1_n_requests"]}, by_index
PY

# a trace that names each request's class
"$LS_PYTHON" - "$T/trace.csv" <<'PY' || fail "trace"
import random, sys
random.seed(11)
with open(sys.argv[1], "w") as f:
    f.write("arrival_s,prompt_tokens,output_tokens,class\n")
    t = 0.0
    for i in range(120):
        t += random.expovariate(4.0)
        f.write("%.6f,%d,%d,%d\n" % (t, random.randint(64, 2000), random.randint(2, 100), random.choice([0, 1, 1])))
PY
cat >"$T/trace.yaml" <<YAML
model: llama-3-8b
hardware: h100-sxm
workload:
  trace: $T/trace.csv
  classes: [{name: a}, {name: b}]
YAML
"$LLMSWEEP" run --config "$T/trace.yaml" --json --requests-out "$T/trace_req.csv" >"$T/trace.json" 2>"$T/err" ||
    fail "trace run: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "trace classes"
import csv, json, sys
T = sys.argv[1]
want = [("a", "b")[int(r["class"])] for r in csv.DictReader(open(f"{T}/trace.csv"))]
got = {int(r["index"]): r["class"] for r in csv.DictReader(open(f"{T}/trace_req.csv"))}
assert sorted(got) == list(range(len(want))), "every request once"
bad = [i for i in got if got[i] != want[i]]
assert not bad, bad[:5]
m = json.load(open(f"{T}/trace.json"))
assert m["class0_n_requests"] == want.count("a") and m["class1_n_requests"] == want.count("b")
PY

# no classes: an empty column, -1 in HDF5
sed '/classes:/,$d' "$T/two.yaml" | sed 's/policy: priority/policy: vllm-v1/' >"$T/none.yaml"
"$LLMSWEEP" run --config "$T/none.yaml" --requests-out "$T/none.csv" >/dev/null 2>"$T/err" || fail "none: $(cat "$T/err")"
"$LLMSWEEP" run --config "$T/none.yaml" --requests-out "$T/none.h5" >/dev/null 2>"$T/err" || fail "none h5: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "no classes"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/none.csv")))
assert rows and all(r["class"] == "" for r in rows), rows[0]
PY
h5dump -d /requests -y -w 0 "$T/none.h5" >"$T/none.dump" 2>"$T/err" || fail "h5dump: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "no classes: /requests class is not -1"
import re, sys
dump = open(sys.argv[1] + "/none.dump").read()
data = dump[dump.index("DATA {") + 6:].split("ATTRIBUTE")[0]
cls = {int(b.split(",")[-1]) for b in re.findall(r"\{([^{}]*)\}", data)}
assert cls == {-1}, cls
PY
echo "run_request_classes: ok"
