#!/usr/bin/env bash
# identical.sh OLD_LLMSWEEP NEW_LLMSWEEP [--sweeps] -- the engine gives bit-identical metrics
# before and after a change of its hot path: every configuration below (the 10k bench case and
# one of each feature: policies, PP, DP routers, MoE/MLA, sliding windows, prefix caching and its
# host tier, speculative decoding, P/D pools, timeouts, no-drain, traces, llmsweep plan's vllm-v1
# TP/PP/DP splits) runs through both
# binaries with `run --json`, and every metric must be equal (floats bit for bit through their 12-digit
# JSON form; wall_time_s aside; metrics only the new binary has are not compared).
# --sweeps also sweeps the example studies (examples/*.yaml, capacity searches included) and
# bench/identical-pp.yaml (24 PP configurations, with every request's row) with both and compares
# the HDF5 files with tests/e2e/sweep_compare.py, to the bit (slow: minutes on 2 cores).
# DIFF=1 (environment) also writes each run's --requests-out HDF5 file and bench/identical_diff.py
# prints, per metric, the largest relative difference at full precision over all configurations, and
# whether the per-request tables are the same rows in the same order (a full-precision difference
# alone does not fail the script: the 12-digit comparison above decides).
# Run from the repository root; exit 1 on a difference. Used for docs/ENGINE.md's speed work.
set -u
OLD=$1 NEW=$2
SWEEPS=${3:-}
T=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$T"' EXIT
TR=$PWD/traces/azure-conv-excerpt.csv.gz
SYN='workload: {arrival: {process: poisson, rate: RATE}, prompt_tokens: {dist: lognormal, mean: 1155, stddev: 1000},
           output_tokens: {dist: lognormal, mean: 211, stddev: 180}, max_requests: NREQ}'
syn() { echo "${SYN/RATE/$1}" | sed "s/NREQ/$2/"; }
n=0 bad=0
case_() {  # case_ NAME YAML [FLAGS...]
    local name=$1 yaml=$2
    shift 2
    n=$((n + 1))
    printf '%s\n' "$yaml" >"$T/c$n.yaml"
    for b in old new; do
        local bin=$OLD
        [ $b = new ] && bin=$NEW
        "$bin" run --config "$T/c$n.yaml" "$@" --json >"$T/$b$n.raw" 2>"$T/err" ||
            { echo "$name: $b failed: $(cat "$T/err")"; bad=1; }
        # DIFF=1: also the full-precision /results row and the /requests table (bench/identical_diff.py)
        [ -z "${DIFF:-}" ] || "$bin" run --config "$T/c$n.yaml" "$@" --requests-out "$T/$b$n.h5" >/dev/null 2>"$T/err" ||
            { echo "$name: $b --requests-out failed: $(cat "$T/err")"; bad=1; }
    done
    [ -z "${DIFF:-}" ] || echo "$name" >"$T/name$n"
    # every metric of the old binary equal in the new one (wall_time_s aside; metrics only the new one
    # has are new features, not compared)
    if /usr/bin/python3 -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
d = [(k, a.get(k), b.get(k)) for k in sorted(a) if a.get(k) != b.get(k) and k != "wall_time_s"]
print("  ", d[:6]) if d else None
sys.exit(1 if d else 0)' "$T/old$n.raw" "$T/new$n.raw"; then
        echo "same: $name"
    else
        echo "DIFFER: $name"
        bad=1
    fi
}
BASE70='model: llama-2-70b
hardware: h100-sxm
cluster: dgx-h100'
case_ "bench 10k sarathi 512" "$BASE70
parallelism: tp4
scheduler: {policy: sarathi, max_batched_tokens: 512}
$(syn 5 10000)"
case_ "sarathi overloaded (preemption)" "$BASE70
parallelism: tp4
scheduler: {policy: sarathi, max_batched_tokens: 512, num_kv_blocks: 3000}
$(syn 20 3000)"
case_ "vllm-v1 default" "$BASE70
parallelism: tp4
$(syn 8 3000)"
case_ "vllm-v1 small KV (preemption)" "$BASE70
parallelism: tp4
scheduler: {num_kv_blocks: 2000}
$(syn 12 3000)"
case_ "vllm-v0" "$BASE70
parallelism: tp4
scheduler: {policy: vllm-v0}
$(syn 6 3000)"
case_ "vllm-v0 small KV" "$BASE70
parallelism: tp4
scheduler: {policy: vllm-v0, num_kv_blocks: 1500}
$(syn 10 2000)"
case_ "tp2pp2 vllm-v1" "$BASE70
parallelism: tp2pp2
$(syn 4 2000)"
case_ "tp2pp2 small KV (blocked)" "$BASE70
parallelism: tp2pp2
scheduler: {num_kv_blocks: 250}
$(syn 8 2000)"
case_ "tp4dp2 least-kv" "$BASE70
parallelism: tp4dp2
router: least-kv
$(syn 12 3000)"
case_ "tp2dp4 least-outstanding sarathi" "$BASE70
parallelism: tp2dp4
router: least-outstanding
scheduler: {policy: sarathi, max_batched_tokens: 1024}
$(syn 16 3000)"
case_ "mixtral dp2" "model: mixtral-8x7b
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp2dp2
$(syn 10 2000)"
case_ "deepseek-v3 fp8 tp8pp2 (MLA, MoE)" "model: deepseek-v3
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp8pp2
dtype: fp8
$(syn 2 600)"
case_ "gemma-3 sliding" "model: gemma-3-27b
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp2
$(syn 6 2000)"
case_ "gpt-oss-120b" "model: gpt-oss-120b
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp4
$(syn 6 2000)"
case_ "speculative eagle" "model: llama-3-8b
hardware: h100-sxm
parallelism: tp1
scheduler: {max_num_seqs: 256}
speculative: {method: eagle, num_speculative_tokens: 3, acceptance: 0.7}
$(syn 8 2000)"
case_ "timeout, no drain" "$BASE70
parallelism: tp4
timeout_s: 5
drain: false
$(syn 12 2000)"
case_ "sarathi chunk size, few seqs, timeouts" "$BASE70
parallelism: tp4
scheduler: {policy: sarathi, max_batched_tokens: 768, prefill_chunk_size: 256, max_num_seqs: 24}
timeout_s: 20
$(syn 9 3000)"
case_ "sarathi tp1 8B short outputs, small KV" "model: llama-3-8b
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp1
scheduler: {policy: sarathi, max_batched_tokens: 256, num_kv_blocks: 250}
workload: {arrival: {process: poisson, rate: 30}, prompt_tokens: {dist: lognormal, mean: 300, stddev: 400},
           output_tokens: {dist: uniform, low: 1, high: 40}, max_requests: 3000}"
case_ "azure trace gh200 tp4pp2" "model: llama-3-70b
hardware: gh200-96gb
cluster: gh200-quad
parallelism: tp4pp2
workload: {trace: $TR}"
case_ "azure trace vllm-v0 tp4" "model: llama-3-70b
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp4
scheduler: {policy: vllm-v0}
workload: {trace: $TR}"
case_ "prefix caching shared prompts" "model: llama-3.1-8b
hardware: h100-sxm
router: prefix-aware
parallelism: tp1dp2
scheduler: {enable_prefix_caching: true, num_kv_blocks: 4000}
workload: {arrival: {process: poisson, rate: 20}, shared_prefix: {prompts: 16, tokens: 2048},
           prompt_tokens: {dist: lognormal, mean: 3000, stddev: 500},
           output_tokens: {dist: lognormal, mean: 128, stddev: 60}, max_requests: 2000}"
case_ "prefix caching + host tier" "model: llama-3.1-8b
hardware: gh200-96gb
cluster: gh200-quad
parallelism: tp1
scheduler: {enable_prefix_caching: true, num_kv_blocks: 2000}
kv_offload: {tier: grace, capacity_gb: 50, link: c2c}
workload: {arrival: {process: poisson, rate: 10}, shared_prefix: {prompts: 64, tokens: 2048},
           prompt_tokens: {dist: lognormal, mean: 3000, stddev: 500},
           output_tokens: {dist: lognormal, mean: 128, stddev: 60}, max_requests: 2000}"
case_ "P/D pools" "model: llama-3.1-70b
hardware: h100-sxm
cluster: dgx-h100
disaggregation: {prefill: {replicas: 1, parallelism: tp4}, decode: {replicas: 1, parallelism: tp4}}
$(syn 4 2000)"
case_ "P/D pools 2:1 network" "model: llama-3.1-8b
hardware: h100-sxm
cluster: dgx-h100
disaggregation: {prefill: {replicas: 2, parallelism: tp1}, decode: {replicas: 1, parallelism: tp2},
                 kv_transfer: {link: network}, router: least-kv}
$(syn 10 2000)"
# PP > 1 (the micro-batch fast formation, sched_decode.c): vllm-v1 with DP, small caches
# (preemption, blocked formations), adaptive budget, guaranteed_no_evict; sarathi, vllm-v0 (and by swap), prefix caching
case_ "tp2pp2dp2 vllm-v1 small KV" "$BASE70
parallelism: tp2pp2dp2
scheduler: {num_kv_blocks: 400}
$(syn 10 2000)"
case_ "8B tp1pp4dp2 vllm-v1 small KV, chunk size" "model: llama-3.1-8b
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp1pp4dp2
scheduler: {num_kv_blocks: 300, prefill_chunk_size: 256}
$(syn 30 3000)"
case_ "8B tp1pp2 vllm-v1 adaptive budget, few seqs, timeouts" "model: llama-3.1-8b
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp1pp2
scheduler: {adaptive_budget: true, target_tbt_s: 0.02, max_num_seqs: 32}
timeout_s: 10
$(syn 40 3000)"
case_ "8B tp1pp2dp2 guaranteed_no_evict" "model: llama-3.1-8b
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp1pp2dp2
scheduler: {capacity_policy: guaranteed_no_evict, num_kv_blocks: 1500}
$(syn 30 3000)"
case_ "tp2pp2 sarathi small KV" "$BASE70
parallelism: tp2pp2
scheduler: {policy: sarathi, max_batched_tokens: 512, num_kv_blocks: 600}
$(syn 8 2000)"
case_ "tp2pp2dp2 vllm-v0" "$BASE70
parallelism: tp2pp2dp2
scheduler: {policy: vllm-v0}
$(syn 10 2000)"
case_ "8B tp1pp2 vllm-v0 swap, small KV" "model: llama-3.1-8b
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp1pp2
scheduler: {policy: vllm-v0, preemption_mode: swap, swap_space_gb: 1, swap_link: pcie5, num_kv_blocks: 500}
$(syn 25 1500)"
case_ "8B tp1pp2 prefix caching, small KV" "model: llama-3.1-8b
hardware: h100-sxm
cluster: dgx-h100
parallelism: tp1pp2
scheduler: {enable_prefix_caching: true, num_kv_blocks: 800}
workload: {arrival: {process: poisson, rate: 20}, shared_prefix: {prompts: 16, tokens: 1024},
           prompt_tokens: {dist: lognormal, mean: 2000, stddev: 500},
           output_tokens: {dist: lognormal, mean: 128, stddev: 60}, max_requests: 1500}"
# llmsweep plan's runs (issue 16): Llama-3.1-70B, vllm-v1 with the auto budget, TP/PP/DP splits
PLANW='workload: {arrival: {process: poisson, rate: RATE}, prompt_tokens: {dist: lognormal, mu: 7, sigma: 0.6},
           output_tokens: {dist: lognormal, mu: 5.2, sigma: 0.5}, max_requests: 10039}
slo: {tpot_s: 0.05, ttft_s: 2}'
plan() {  # plan PARALLELISM HARDWARE DTYPE MAX_NUM_SEQS RATE
    case_ "plan $1 $2 $3 seqs $4 at $5/s" "model: llama-3.1-70b
hardware: $2
dtype: $3
parallelism: $1
scheduler: {policy: vllm-v1, max_batched_tokens: auto, max_num_seqs: $4, gpu_memory_utilization: 0.9}
${PLANW/RATE/$5}"
}
plan tp1pp1dp31 b200 '{kv: fp8, weights: nvfp4}' 128 100
plan tp2pp1dp8 h200 fp8 256 100
plan tp4pp1dp4 b200 bf16 512 50
plan tp1pp2dp8 b200 fp8 128 100
plan tp8pp1dp1 b200 fp8 256 50
plan tp2pp2dp4 h200 fp8 512 200
plan tp1pp4dp2 b200 fp8 128 100
if [ "$SWEEPS" = --sweeps ]; then
    for s in examples/gh200-strategies.yaml examples/gh200-mixed.yaml examples/small-sweep.yaml bench/identical-pp.yaml; do
        r=none  # bench/identical-pp.yaml (PP 2 and 4, small caches): every request's row too
        [ "$s" = bench/identical-pp.yaml ] && r=all
        "$OLD" sweep "$s" -o "$T/old.h5" -q --requests $r 2>"$T/err" || { echo "$s: old failed: $(cat "$T/err")"; bad=1; continue; }
        "$NEW" sweep "$s" -o "$T/new.h5" -q --requests $r 2>"$T/err" || { echo "$s: new failed: $(cat "$T/err")"; bad=1; continue; }
        if /usr/bin/python3 tests/e2e/sweep_compare.py "$T/old.h5" "$T/new.h5"; then echo "same: $s"; else bad=1; fi
        rm -f "$T/old.h5" "$T/new.h5"
    done
fi
[ -z "${DIFF:-}" ] || /usr/bin/python3 "$(dirname "$0")/identical_diff.py" "$T" "$n" || bad=1
[ $bad = 0 ] && echo "identical.sh: all $n configurations identical" || echo "identical.sh: DIFFERENCES"
exit $bad
