#!/usr/bin/env bash
# run_request_classes.sh -- the request class in the per-request output of `llmsweep run`
# (`--requests-out`, the `class` column of common/schema.h's per-request table):
# - a synthetic 2-class workload (classes drawn by their shares): the CSV's class names and the HDF5
#   /requests class indices count, per class, exactly the class<k>_n_requests of the run's metrics;
# (a native trace's class per request: run_classes.sh);
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
