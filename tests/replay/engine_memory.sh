#!/usr/bin/env bash
# engine_memory.sh -- `llmsweep run` with the engines' memory rules: vLLM V1's block count for
# Llama-3.1-8B on a 24 GB GPU (2,847 blocks, computed by hand in test_engine_profile.c from
# vllm-internals.md s1), the memory breakdown in the summary and the JSON row, the engine
# choice, and an unknown engine named with the known ones.
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/cat.yaml" <<'YAML'
gpus:
  rtx-4090:
    memory_gb: 24
    device_memory_gib: 23.99   # cudaMemGetInfo total
    hbm_tbps: 1.008
    bf16_tflops: 165
    mfu_max: 0.5
    mbu: 0.8
    attn_eff: 0.7
clusters:
  one-4090:
    gpus_per_node: 1
    inter_gbps: 3
    allreduce_eff: 0.7
    default_gpu: rtx-4090
YAML
args=(--catalog "$T/cat.yaml" --model llama-3.1-8b --cluster one-4090 --max-model-len 32768
      --rate 1 --prompt fixed:100 --output fixed:10 --duration 5)
"$LLMSWEEP" run "${args[@]}" >"$T/out" 2>"$T/err" || fail "run: $(cat "$T/err")"
grep -q "engine vllm-v1" "$T/out" || fail "engine not shown: $(head -1 "$T/out")"
grep -q "2847 KV blocks per replica" "$T/out" || fail "block count: $(grep deployment "$T/out")"
grep -Eq "^memory +per GPU \(vllm-v1 rule\): 16\.06 GB weights, 0\.67 GB activation, 0\.16 GB non-torch, 0\.32 GB CUDA graphs, 5\.97 GB KV cache" \
    "$T/out" || fail "breakdown: $(grep memory "$T/out")"
"$LLMSWEEP" run "${args[@]}" --json >"$T/json" || fail "run --json"
python3 - "$T/json" <<'PY' || fail "json row"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["kv_blocks"] == 2847, r["kv_blocks"]
assert abs(r["activation_gb_per_gpu"] - 0.673) < 0.001, r
assert abs(r["kv_cache_gb_per_gpu"] - 5.971) < 0.001, r
PY
# the budget enters the profile run: a larger one leaves fewer blocks
"$LLMSWEEP" run "${args[@]}" --max-batched-tokens 8192 >"$T/out2" || fail "run 8192"
b2=$(sed -n 's/.* \([0-9]*\) KV blocks per replica.*/\1/p' "$T/out2")
[ "$b2" -lt 2847 ] || fail "8192-token profile run: $b2 blocks"
# TRT-LLM's rule: a share of what is free after weights and buffers
"$LLMSWEEP" run "${args[@]}" --set engine=trtllm --gpu-memory-utilization 0.9 >"$T/out3" || fail "trtllm"
grep -q "engine trtllm" "$T/out3" && grep -q "(trtllm rule)" "$T/out3" || fail "trtllm: $(head -4 "$T/out3")"
"$LLMSWEEP" run "${args[@]}" --set engine=tgi >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "unknown engine: exit $rc"
grep -q "unknown engine 'tgi' (expected vllm-v1, vllm-v0, trtllm, sglang)" "$T/err" || fail "unknown engine: $(cat "$T/err")"
echo ok
