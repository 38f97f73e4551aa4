#!/usr/bin/env bash
# run_step_options.sh -- engine step options through `llmsweep run` (replay/step_options.h), on
# requests that arrive one at a time (constant 0.5/s, each done before the next), so every gap is
# known by hand from the GPU's iter_overhead_ms (1.5 ms on h100-sxm):
# - V1 async scheduling hides the overhead behind back-to-back decode steps: TPOT drops by exactly
#   1.5 ms, and TTFT (a prefill after an idle gap: nothing to hide behind) is unchanged;
# - V0 multi-step (num_scheduler_steps 8) pays the overhead once per window: of a request's 63
#   decode steps, 7 open a window (steps 8, 16, ..., 56 after the prefill), so TPOT drops by
#   1.5 ms x 56/63;
# - bad combinations are refused with FILE:LINE.
. "$(dirname "$0")/config_lib.bash"
one() {
    cat <<YAML
model: llama-3-8b
hardware: h100-sxm
scheduler:
$1
workload:
  arrival: {process: constant, rate: 0.5}
  prompt_tokens: {dist: uniform, low: 64, high: 2048}
  output_tokens: {dist: fixed, value: 64}
  duration_s: 20
seed: 7
YAML
}
one "  async_scheduling: false" >"$T/sync.yaml"
one "  async_scheduling: true" >"$T/async.yaml"
one "  policy: vllm-v0" >"$T/v0.yaml"
one "  policy: vllm-v0
  num_scheduler_steps: 8" >"$T/multi.yaml"
for c in sync async v0 multi; do
    "$LLMSWEEP" run --config "$T/$c.yaml" --json >"$T/$c.json" 2>"$T/err" || fail "$c: $(cat "$T/err")"
done
"$LS_PYTHON" - "$T" <<'PY' || fail "content"
import json, sys
T = sys.argv[1]
s, a, v, m = (json.load(open(f"{T}/{c}.json")) for c in ("sync", "async", "v0", "multi"))
for x in (s, a, v, m):
    assert x["n_completed"] == x["n_requests"] == 10, x["n_completed"]
print("tpot p50: sync %.6f async %.6f; v0 %.6f multi-step 8 %.6f" % (s["tpot_p50_s"], a["tpot_p50_s"],
                                                                    v["tpot_p50_s"], m["tpot_p50_s"]))
for k in ("tpot_p50_s", "tpot_p99_s", "tpot_mean_s"):
    assert abs((s[k] - a[k]) - 1.5e-3) < 1e-9, (k, s[k] - a[k])
    assert abs((v[k] - m[k]) - 1.5e-3 * 56 / 63) < 1e-9, (k, v[k] - m[k])
assert s["ttft_p50_s"] == a["ttft_p50_s"] and v["ttft_p50_s"] == m["ttft_p50_s"]
PY
W=("workload:" "  arrival: {process: poisson, rate: 1}" "  prompt_tokens: {dist: fixed, value: 10}"
   "  output_tokens: {dist: fixed, value: 5}" "  duration_s: 5")
bad async_v0 "async_v0.yaml:4: scheduler.async_scheduling: vLLM V1's async scheduler needs policy vllm-v1 (got vllm-v0)" \
    "model: llama-3-8b" "scheduler:" "  policy: vllm-v0" "  async_scheduling: true" "${W[@]}"
bad multi_v1 "multi_v1.yaml:3: scheduler.num_scheduler_steps: multi-step scheduling was vLLM V0's" \
    "model: llama-3-8b" "scheduler:" "  num_scheduler_steps: 4" "${W[@]}"
bad multi_zero "multi_zero.yaml:4: scheduler.num_scheduler_steps" \
    "model: llama-3-8b" "scheduler:" "  policy: vllm-v0" "  num_scheduler_steps: 0" "${W[@]}"
bad multi_big "multi_big.yaml:4: scheduler.num_scheduler_steps" \
    "model: llama-3-8b" "scheduler:" "  policy: vllm-v0" "  num_scheduler_steps: 65" "${W[@]}"
echo "run_step_options: ok"
