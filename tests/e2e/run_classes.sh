#!/usr/bin/env bash
# run_classes.sh -- request classes, order priority and the adaptive token
# budget through `llmsweep run`:
# - a native trace with a `class` column: the per-class columns equal the
#   statistics recomputed from the per-request table and the trace's classes
#   (counts, TTFT/TPOT p50/p99 with numpy's interpolation, goodput and
#   attainment against each class's own SLO);
# - synthetic classes drawn by their shares: counts within 4 sigma of the
#   shares, the same draw for the same seed; under overload, order priority
#   gives the priority-0 class a far lower TTFT than fcfs does;
# - adaptive_budget keeps the p99 inter-token gap at the target (within the
#   ITL histogram's 1%) where the fixed budget is 5x over it;
# - bad input is refused with FILE:LINE.
. "$(dirname "$0")/config_lib.bash"

# ---- a trace with classes
"$LS_PYTHON" - "$T/trace.csv" <<'PY' || fail "trace"
import random, sys
random.seed(5)
with open(sys.argv[1], "w") as f:
    f.write("arrival_s,prompt_tokens,output_tokens,class\n")
    t = 0.0
    for i in range(300):
        t += random.expovariate(6.0)
        f.write("%.6f,%d,%d,%d\n" % (t, random.randint(64, 3000), random.randint(2, 200), random.choice([0, 1, 1, 2])))
PY
cat >"$T/trace.yaml" <<YAML
model: llama-3-8b
hardware: h100-sxm
scheduler: {policy: priority, max_num_seqs: 16, max_batched_tokens: 2048}
slo: {ttft_s: 1.0, tpot_s: 0.05}
workload:
  trace: $T/trace.csv
  classes:
    - {name: chat, priority: 0, slo: {ttft_s: 0.3, tpot_s: 0.03}}
    - {name: batch, priority: 2}
    - {name: agent, priority: 1, slo: {ttft_s: 0.6}}
YAML
"$LLMSWEEP" run --config "$T/trace.yaml" --json --requests-out "$T/req.csv" >"$T/trace.json" 2>"$T/err" ||
    fail "trace run: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "per-class metrics against the trace"
import csv, json, math, sys
T = sys.argv[1]
m = json.load(open(f"{T}/trace.json"))
cls = [int(r["class"]) for r in csv.DictReader(open(f"{T}/trace.csv"))]
rows = list(csv.reader(open(f"{T}/req.csv")))
if rows and not rows[0][0].isdigit():
    rows = rows[1:]
assert len(rows) == len(cls) == m["n_requests"], (len(rows), len(cls))
def pct(v, q):  # numpy's default (linear) percentile
    v = sorted(v)
    if not v:
        return None
    h = (len(v) - 1) * q / 100.0
    lo = math.floor(h)
    return v[lo] + (h - lo) * ((v[lo + 1] if lo + 1 < len(v) else v[lo]) - v[lo])
slo = {0: (0.3, 0.03), 1: (1.0, 0.05), 2: (0.6, 0.05)}
t0 = min(float(r[7]) for r in rows)
done = [r for r in rows if r[4] == "completed"]
span = max(float(r[10]) for r in done) - t0
for k in range(3):
    mine = [r for r in rows if cls[int(r[0])] == k]
    # the per-request table names each request's class: the trace's (run_request_classes.sh: counts)
    assert all(r[11] == ("chat", "batch", "agent")[k] for r in mine), (k, [r[11] for r in mine][:5])
    ok = [r for r in mine if r[4] == "completed"]
    ttft = [float(r[9]) - float(r[7]) for r in ok]
    tpot = [(float(r[10]) - float(r[9])) / (int(r[3]) - 1) for r in ok if int(r[3]) > 1]
    good = sum(1 for r in ok if float(r[9]) - float(r[7]) <= slo[k][0] and
               (int(r[3]) <= 1 or (float(r[10]) - float(r[9])) / (int(r[3]) - 1) <= slo[k][1]))
    p = f"class{k}_"
    assert m[p + "n_requests"] == len(mine) == cls.count(k), (k, m[p + "n_requests"], len(mine))
    assert m[p + "n_completed"] == len(ok)
    want = {"ttft_p50_s": pct(ttft, 50), "ttft_p99_s": pct(ttft, 99), "tpot_p50_s": pct(tpot, 50),
            "tpot_p99_s": pct(tpot, 99), "goodput_rps": good / span, "slo_attainment": good / len(mine)}
    for key, w in want.items():
        got = m[p + key]
        # the CSV holds 9 significant digits of each time
        assert abs(got - w) <= 1e-6 * max(1.0, abs(w)), (k, key, got, w)
    print("class %d: %d requests, ttft p99 %.3f s, attainment %.3f" % (k, len(mine), want["ttft_p99_s"],
                                                                      want["slo_attainment"]))
assert m["class3_n_requests"] is None  # a class the workload does not define
assert sum(m[f"class{k}_n_completed"] for k in range(3)) == m["n_completed"]
PY

# ---- synthetic classes, drawn by the shares
syn() {
    cat <<YAML
model: llama-3-8b
hardware: h100-sxm
scheduler:
  order: $1
  max_num_seqs: 8
  max_batched_tokens: 2048
workload:
  arrival: {process: poisson, rate: 12}
  prompt_tokens: {dist: uniform, low: 64, high: 2048}
  output_tokens: {dist: fixed, value: 64}
  duration_s: 30
  classes:
    - {name: interactive, share: 0.3, priority: 0, slo: {ttft_s: 0.5, tpot_s: 0.05}}
    - {name: batch, share: 0.7, priority: 1}
seed: 11
YAML
}
syn priority >"$T/prio.yaml"
syn fcfs >"$T/fcfs.yaml"
for c in prio fcfs; do
    "$LLMSWEEP" run --config "$T/$c.yaml" --json >"$T/$c.json" 2>"$T/err" || fail "$c: $(cat "$T/err")"
done
"$LLMSWEEP" run --config "$T/prio.yaml" --json >"$T/prio2.json" 2>"$T/err" || fail "rerun: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "synthetic classes"
import json, math, sys
T = sys.argv[1]
p, f, p2 = (json.load(open(f"{T}/{c}.json")) for c in ("prio", "fcfs", "prio2"))
n = p["n_requests"]
k0 = p["class0_n_requests"]
assert k0 + p["class1_n_requests"] == n
sigma = math.sqrt(n * 0.3 * 0.7)
assert abs(k0 - 0.3 * n) <= 4 * sigma, (k0, n)
assert f["class0_n_requests"] == k0, "the draw depends on the order rule"
skip = {"wall_time_s"}
assert {k: v for k, v in p.items() if k not in skip} == {k: v for k, v in p2.items() if k not in skip}
print("interactive %d of %d; ttft p99 interactive: priority %.3f fcfs %.3f; batch: priority %.3f fcfs %.3f" % (
    k0, n, p["class0_ttft_p99_s"], f["class0_ttft_p99_s"], p["class1_ttft_p99_s"], f["class1_ttft_p99_s"]))
# overloaded (12/s: fcfs queues every class for seconds): priority serves the interactive class first
assert p["class0_ttft_p99_s"] < 0.5 * f["class0_ttft_p99_s"], (p["class0_ttft_p99_s"], f["class0_ttft_p99_s"])
assert p["class0_slo_attainment"] > f["class0_slo_attainment"]
# ... and the batch class pays
assert p["class1_ttft_p50_s"] > f["class1_ttft_p50_s"]
PY

# ---- trace synth keeps the drawn classes in a `class` column; replayed as a trace with the same
# classes (no shares: the column names them) the per-class counts are the same
"$LLMSWEEP" trace synth --config "$T/prio.yaml" --seed 11 -o "$T/drawn.csv" --quiet 2>"$T/err" ||
    fail "synth: $(cat "$T/err")"
head -1 "$T/drawn.csv" | grep -q '^arrival_s,prompt_tokens,output_tokens,class$' || fail "synth header: $(head -1 "$T/drawn.csv")"
cat >"$T/replay.yaml" <<YAML
model: llama-3-8b
hardware: h100-sxm
scheduler: {order: priority, max_num_seqs: 8, max_batched_tokens: 2048}
workload:
  trace: $T/drawn.csv
  classes: [{name: interactive, priority: 0, slo: {ttft_s: 0.5, tpot_s: 0.05}}, {name: batch, priority: 1}]
YAML
"$LLMSWEEP" run --config "$T/replay.yaml" --json >"$T/replay.json" 2>"$T/err" || fail "replay: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "round trip"
import json, sys
T = sys.argv[1]
p, r = (json.load(open(f"{T}/{c}.json")) for c in ("prio", "replay"))
for k in ("class0_n_requests", "class1_n_requests"):
    assert p[k] == r[k], (k, p[k], r[k])
PY

# ---- adaptive token budget
ad() {
    cat <<YAML
model: llama-3-8b
hardware: h100-sxm
scheduler:
  max_batched_tokens: 8192
  target_tbt_s: 0.04
  adaptive_budget: $1
workload:
  arrival: {process: poisson, rate: 4}
  prompt_tokens: {dist: uniform, low: 2000, high: 6000}
  output_tokens: {dist: fixed, value: 128}
  duration_s: 30
seed: 3
YAML
}
ad false >"$T/fixed.yaml"
ad true >"$T/adaptive.yaml"
for c in fixed adaptive; do
    "$LLMSWEEP" run --config "$T/$c.yaml" --json >"$T/$c.json" 2>"$T/err" || fail "$c: $(cat "$T/err")"
done
"$LS_PYTHON" - "$T" <<'PY' || fail "adaptive budget"
import json, sys
T = sys.argv[1]
f, a = (json.load(open(f"{T}/{c}.json")) for c in ("fixed", "adaptive"))
print("itl p99: fixed %.4f s, adaptive %.4f s (target 0.04); completed %d / %d" % (
    f["itl_p99_s"], a["itl_p99_s"], f["n_completed"], a["n_completed"]))
assert f["itl_p99_s"] > 5 * 0.04, f["itl_p99_s"]
assert a["itl_p99_s"] <= 0.04 * 1.01, a["itl_p99_s"]  # the ITL histogram reads within 1%
assert a["n_completed"] == f["n_completed"] == a["n_requests"]
PY

# ---- bad input
printf 'arrival_s,prompt_tokens,output_tokens,class\n0.0,10,5,0\n0.5,10,5,2\n' >"$T/bad.csv"
bad unknown_class "bad.csv:3: class 2: the workload defines 2 classes (a, b)" \
    "model: llama-3-8b" "workload:" "  trace: $T/bad.csv" "  classes: [{name: a}, {name: b}]"
printf 'arrival_s,prompt_tokens,output_tokens,class\n0.0,10,5,x\n' >"$T/badcol.csv"
bad class_column "badcol.csv:2: column 4 (class)" "model: llama-3-8b" "workload:" "  trace: $T/badcol.csv"
bad no_classes "class 2: the workload defines no classes" "model: llama-3-8b" "workload:" "  trace: $T/bad.csv"
W=("  arrival: {process: poisson, rate: 1}" "  prompt_tokens: {dist: fixed, value: 10}"
   "  output_tokens: {dist: fixed, value: 5}" "  duration_s: 5")
bad shares_sum "shares_sum.yaml:7: workload.classes: the shares sum to 0.9" "model: llama-3-8b" "workload:" "${W[@]}" \
    "  classes: [{name: a, share: 0.3}, {name: b, share: 0.6}]"
bad share_missing "share_missing.yaml:7: workload.classes\[1\]: missing 'share'" "model: llama-3-8b" "workload:" "${W[@]}" \
    "  classes: [{name: a, share: 0.3}, {name: b}]"
bad share_range "share_range.yaml:7: workload.classes\[0\].share" "model: llama-3-8b" "workload:" "${W[@]}" \
    "  classes: [{name: a, share: 1.5}]"
bad dup_name "dup_name.yaml:7: workload.classes\[1\].name: duplicate class name 'a'" "model: llama-3-8b" "workload:" \
    "${W[@]}" "  classes: [{name: a, share: 0.5}, {name: a, share: 0.5}]"
bad too_many "too_many.yaml:7: workload.classes: 5 classes: expected at most 4" "model: llama-3-8b" "workload:" "${W[@]}" \
    "  classes: [{name: a, share: 0.2}, {name: b, share: 0.2}, {name: c, share: 0.2}, {name: d, share: 0.2}, {name: e, share: 0.2}]"
bad class_key "class_key.yaml:7: unknown key 'workload.classes\[0\].prio'" "model: llama-3-8b" "workload:" "${W[@]}" \
    "  classes: [{name: a, share: 1, prio: 0}]"
bad prio_v0 "prio_v0.yaml:4: scheduler.order: priority is vLLM V1's rule and needs policy vllm-v1 (got vllm-v0" \
    "model: llama-3-8b" "scheduler:" "  policy: vllm-v0" "  order: priority" "workload:" "${W[@]}"
bad prio_sarathi "prio_sarathi.yaml:3: scheduler.order: priority is vLLM V1's rule" \
    "model: llama-3-8b" "scheduler:" "  order: priority" "  policy: sarathi" "workload:" "${W[@]}"
bad adaptive_v0 "adaptive_v0.yaml:4: scheduler.adaptive_budget: sizes prefill chunks" \
    "model: llama-3-8b" "scheduler:" "  policy: vllm-v0" "  adaptive_budget: true" "workload:" "${W[@]}"
bad adaptive_bool "adaptive_bool.yaml:3: scheduler.adaptive_budget" \
    "model: llama-3-8b" "scheduler:" "  adaptive_budget: maybe" "workload:" "${W[@]}"
echo "run_classes: ok"
