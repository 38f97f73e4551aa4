#!/usr/bin/env bash
# run_step_options.sh -- engine step options through `llmsweep run` (replay/step_options.h), on
# requests that arrive one at a time (constant 0.5/s, each done before the next), so every step
# carries one sequence and every gap is known by hand from the GPU's overheads (h100-sxm:
# iter_overhead_ms 1.5; seq_overhead_us set to 200 here by a catalog overlay):
# - async scheduling (one setting: engine vllm-v1's default, scheduler.async_scheduling overrides it)
#   hides the 200 us of per-sequence host work behind each step's GPU time (several ms for
#   Llama-3-8B): TPOT and TTFT (the first token comes from the prefill step) drop by exactly 0.2 ms;
#   the default is async, `async_scheduling: false` is sync, vllm-v0 is sync; iter_overhead stays;
# - V0 multi-step (num_scheduler_steps 8) pays the overhead once per window: of a request's 63
#   decode steps, 7 open a window (steps 8, 16, ..., 56 after the prefill), so TPOT drops by
#   (1.5 + 0.2) ms x 56/63;
# - bad combinations are refused with FILE:LINE.
. "$(dirname "$0")/config_lib.bash"
printf 'gpus:\n  h100-sxm:\n    base: h100-sxm\n    seq_overhead_us: 200\n' >"$T/cat.yaml"
one() {
    cat <<YAML
model: llama-3-8b
hardware: h100-sxm
${2:-}scheduler:
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
one "  max_num_seqs: 256" >"$T/default.yaml"
one "  max_num_seqs: 256" "engine: vllm-v0
" >"$T/engine_v0.yaml"
one "  policy: vllm-v0" >"$T/v0.yaml"
one "  policy: vllm-v0
  num_scheduler_steps: 8" >"$T/multi.yaml"
for c in sync async default engine_v0 v0 multi; do
    "$LLMSWEEP" run --catalog "$T/cat.yaml" --config "$T/$c.yaml" --json >"$T/$c.json" 2>"$T/err" ||
        fail "$c: $(cat "$T/err")"
done
"$LS_PYTHON" - "$T" <<'PY' || fail "content"
import json, sys
T = sys.argv[1]
s, a, d, e, v, m = (json.load(open(f"{T}/{c}.json")) for c in ("sync", "async", "default", "engine_v0", "v0", "multi"))
for x in (s, a, d, e, v, m):
    assert x["n_completed"] == x["n_requests"] == 10, x["n_completed"]
print("tpot p50: sync %.6f async %.6f default %.6f engine vllm-v0 %.6f; policy v0 %.6f multi-step 8 %.6f" % (
    s["tpot_p50_s"], a["tpot_p50_s"], d["tpot_p50_s"], e["tpot_p50_s"], v["tpot_p50_s"], m["tpot_p50_s"]))
for k in ("tpot_p50_s", "tpot_p99_s", "tpot_mean_s", "ttft_p50_s", "ttft_p99_s", "ttft_mean_s"):
    assert abs((s[k] - a[k]) - 0.2e-3) < 1e-9, (k, s[k] - a[k])
    assert d[k] == a[k], (k, "the default of engine vllm-v1 is async", d[k], a[k])
for k in ("tpot_p50_s", "tpot_p99_s", "tpot_mean_s"):
    assert abs((v[k] - m[k]) - 1.7e-3 * 56 / 63) < 1e-9, (k, v[k] - m[k])
assert v["ttft_p50_s"] == m["ttft_p50_s"]
PY
W=("workload:" "  arrival: {process: poisson, rate: 1}" "  prompt_tokens: {dist: fixed, value: 10}"
   "  output_tokens: {dist: fixed, value: 5}" "  duration_s: 5")
bad async_v0 "async_v0.yaml:4: scheduler.async_scheduling: vLLM V1's async scheduler needs policy vllm-v1 (got vllm-v0)" \
    "model: llama-3-8b" "scheduler:" "  policy: vllm-v0" "  async_scheduling: true" "${W[@]}"
bad async_engine_v0 "async_engine_v0.yaml:5: scheduler.async_scheduling: engine vllm-v0 at .*/async_engine_v0.yaml:2 has no async scheduling" \
    "model: llama-3-8b" "engine: vllm-v0" "scheduler:" "  max_num_seqs: 64" "  async_scheduling: true" "${W[@]}"
bad multi_v1 "multi_v1.yaml:3: scheduler.num_scheduler_steps: multi-step scheduling was vLLM V0's" \
    "model: llama-3-8b" "scheduler:" "  num_scheduler_steps: 4" "${W[@]}"
bad multi_zero "multi_zero.yaml:4: scheduler.num_scheduler_steps" \
    "model: llama-3-8b" "scheduler:" "  policy: vllm-v0" "  num_scheduler_steps: 0" "${W[@]}"
bad multi_big "multi_big.yaml:4: scheduler.num_scheduler_steps" \
    "model: llama-3-8b" "scheduler:" "  policy: vllm-v0" "  num_scheduler_steps: 65" "${W[@]}"
echo "run_step_options: ok"
