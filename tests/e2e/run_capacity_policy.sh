#!/usr/bin/env bash
# run_capacity_policy.sh -- scheduler.capacity_policy through `llmsweep run`: on a replica with a small
# KV pool, max_utilization (the default) preempts, guaranteed_no_evict never does and still completes
# every request; written-out max_utilization equals the default; bad values name FILE:LINE.
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
base() {
    cat <<YAML
model: llama-3-8b
hardware: h100-sxm
scheduler:
$1
  num_kv_blocks: 200
  max_num_seqs: 64
  max_batched_tokens: 2048
workload:
  arrival: {process: poisson, rate: 20}
  prompt_tokens: {dist: uniform, low: 64, high: 512}
  output_tokens: {dist: uniform, low: 64, high: 512}
  max_requests: 300
seed: 7
YAML
}
base "  policy: vllm-v1" >"$T/default.yaml"
base "  capacity_policy: max_utilization" >"$T/maxutil.yaml"
base "  capacity_policy: guaranteed_no_evict" >"$T/noevict.yaml"
for c in default maxutil noevict; do
    "$LLMSWEEP" run --config "$T/$c.yaml" --json >"$T/$c.json" 2>"$T/err" || fail "$c: $(cat "$T/err")"
done
"$LS_PYTHON" - "$T" <<'PY' || fail "content"
import json, sys
T = sys.argv[1]
d = {c: json.load(open(f"{T}/{c}.json")) for c in ("default", "maxutil", "noevict")}
skip = {"wall_time_s"}
def metrics(x): return {k: v for k, v in x.items() if k not in skip}
assert metrics(d["default"]) == metrics(d["maxutil"]), "max_utilization written out differs from the default"
m, n = d["maxutil"], d["noevict"]
print("preemptions max_utilization %d guaranteed_no_evict %d" % (m["n_preemptions"], n["n_preemptions"]))
assert m["n_preemptions"] > 0, "the small pool should make max_utilization preempt"
assert n["n_preemptions"] == 0, "guaranteed_no_evict preempted"
assert n["n_completed"] == m["n_completed"] == 300, (n["n_completed"], m["n_completed"])
PY
sed 's/capacity_policy: guaranteed_no_evict/capacity_policy: never/' "$T/noevict.yaml" >"$T/bad.yaml"
"$LLMSWEEP" run --config "$T/bad.yaml" >/dev/null 2>"$T/err" && fail "an unknown capacity_policy was accepted"
grep -q "bad.yaml:4.*capacity_policy: unknown policy 'never'" "$T/err" || fail "message: $(cat "$T/err")"
sed 's/  capacity_policy: guaranteed_no_evict/  policy: vllm-v0\n  capacity_policy: guaranteed_no_evict/' "$T/noevict.yaml" >"$T/v0.yaml"
"$LLMSWEEP" run --config "$T/v0.yaml" >/dev/null 2>"$T/err" && fail "guaranteed_no_evict with vllm-v0 was accepted"
grep -q "v0.yaml:5.*guaranteed_no_evict needs scheduler.policy vllm-v1" "$T/err" || fail "message: $(cat "$T/err")"
echo OK
