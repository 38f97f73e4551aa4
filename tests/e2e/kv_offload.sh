#!/usr/bin/env bash
# kv_offload.sh -- the host KV tier (kv_offload: Grace over NVLink-C2C on GH200, CPU over PCIe)
# through the real command line: bad settings fail with file:line; on the Mooncake conversation
# trace a Grace tier adds hits beyond the GPU's and its link time is the copies' bytes over
# 450 GB/s, computed here from the model's KV size. Skips the trace part when it is absent.
. "$(dirname "$0")/config_lib.bash"
printf 'arrival_s,prompt_tokens,output_tokens,hash_ids\n0,600,5,1 2\n1,600,5,1 3\n' >"$T/tiny.csv"

GH=("model: llama-3.1-8b" "hardware: gh200-96gb" "cluster: gh200-single" "scheduler: {enable_prefix_caching: true}"
    "workload: {trace: $T/tiny.csv}")
bad big "big.yaml:8: kv_offload.capacity_gb: 600 GB is more than the host memory of the chosen node: gh200-single has 480 GB per node of 1 GPU, so a replica of 1 GPU gets 480 GB" \
    "${GH[@]}" "kv_offload:" "  tier: grace" "  capacity_gb: 600" "  link: c2c"
bad nolink "nolink.yaml:7: kv_offload.link: missing: expected the link to the host: c2c (Grace)" \
    "${GH[@]}" "kv_offload:" "  tier: grace" "  capacity_gb: 100"
bad wronglink "wronglink.yaml:9: kv_offload.link: pcie5 does not reach the Grace host of gh200-96gb (expected c2c)" \
    "${GH[@]}" "kv_offload:" "  tier: grace" "  capacity_gb: 100" "  link: pcie5"
bad cpu_on_gh "cpu_on_gh.yaml:8: kv_offload.tier: gh200-96gb has a Grace host: the tier must be grace" \
    "${GH[@]}" "kv_offload:" "  capacity_gb: 100" "  tier: cpu" "  link: pcie5"
bad c2c_on_x86 "c2c_on_x86.yaml:8: kv_offload.link: c2c does not reach the x86 host of h100-sxm (expected pcie4 or pcie5)" \
    "model: llama-3.1-8b" "hardware: h100-sxm" "scheduler: {enable_prefix_caching: true}" "workload: {trace: $T/tiny.csv}" \
    "kv_offload:" "  tier: cpu" "  capacity_gb: 100" "  link: c2c"
# dgx-h100: 2 TB per node of 8 GPUs, so a tp2 replica gets 512 GB
bad x86big "x86big.yaml:8: kv_offload.capacity_gb: 600 GB is more than the host memory of the chosen node: dgx-h100 has 2048 GB per node of 8 GPUs, so a replica of 2 GPUs gets 512 GB" \
    "model: llama-3.1-8b" "hardware: h100-sxm" "parallelism: tp2" "scheduler: {enable_prefix_caching: true}" \
    "workload: {trace: $T/tiny.csv}" "kv_offload:" "  tier: cpu" "  capacity_gb: 600" "  link: pcie5"
bad nocache "nocache.yaml:5: kv_offload: needs scheduler.enable_prefix_caching: true" \
    "model: llama-3.1-8b" "hardware: gh200-96gb" "cluster: gh200-single" "workload: {trace: $T/tiny.csv}" \
    "kv_offload: {tier: grace, capacity_gb: 100, link: c2c}"
bad key "key.yaml:6: unknown key 'kv_offload.speed'" \
    "${GH[@]}" "kv_offload: {tier: grace, capacity_gb: 100, link: c2c, speed: 9}"
# a cpu tier within the host memory is accepted
printf '%s\n' "model: llama-3.1-8b" "hardware: h100-sxm" "scheduler: {enable_prefix_caching: true}" \
    "workload: {trace: $T/tiny.csv}" "kv_offload: {tier: cpu, capacity_gb: 200, link: pcie5}" >"$T/ok.yaml"
"$LLMSWEEP" run --config "$T/ok.yaml" --json >"$T/ok.json" 2>"$T/err" || fail "ok: $(cat "$T/err")"

# CPU weight offload: Llama-3.1-70B in BF16 (141.1 GB) does not fit one GH200 (86.4 GB usable); with 70 GB of
# its weights in Grace memory it runs, and every step reads those 70 GB over NVLink-C2C (>= 70e9 / 450e9 s)
W=("model: llama-3.1-70b" "hardware: gh200-96gb" "cluster: gh200-single"
   "workload: {arrival: {process: poisson, rate: 0.2}, prompt_tokens: {dist: fixed, value: 1000}, output_tokens: {dist: fixed, value: 100}, duration_s: 300}")
printf '%s\n' "${W[@]}" >"$T/w0.yaml"
printf '%s\n' "${W[@]}" "cpu_offload_gb: 70" "cpu_offload_link: c2c" >"$T/w70.yaml"
"$LLMSWEEP" run --config "$T/w0.yaml" --json >"$T/w0.json" 2>/dev/null
[ $? -eq 3 ] || fail "70B on one GH200 without offload: expected infeasible (exit 3)"
"$LLMSWEEP" run --config "$T/w70.yaml" --json >"$T/w70.json" 2>"$T/err" || fail "w70: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "weight offload content"
import json, sys
T = sys.argv[1]
w0, w70 = (json.load(open(f"{T}/{v}.json")) for v in ("w0", "w70"))
assert w0["status"] == "infeasible" and "141.1 GB" in w0["message"], w0["message"]
assert w70["status"] == "ok" and w70["n_completed"] == w70["n_requests"] > 0
assert abs(w70["weights_gb_per_gpu"] - (w0["weights_gb_per_gpu"] - 70)) < 1e-6
print("70B BF16 on one GH200 with 70 GB offloaded: TPOT %.3f s, %d KV blocks" % (w70["tpot_mean_s"], w70["kv_blocks"]))
assert w70["tpot_mean_s"] > 70e9 / 450e9 and w70["kv_blocks"] > 0
PY
bad wbig "wbig.yaml:5: cpu_offload_gb: 500 GB per GPU is more than the host memory of the chosen node: gh200-single has 480 GB" \
    "${W[@]}" "cpu_offload_gb: 500" "cpu_offload_link: c2c"
bad wnolink "wnolink.yaml:1: cpu_offload_link: missing: expected the link to the host: c2c (Grace)" \
    "${W[@]}" "cpu_offload_gb: 70"
bad wlink "wlink.yaml:6: cpu_offload_link: pcie4 does not reach the Grace host of gh200-96gb" \
    "${W[@]}" "cpu_offload_gb: 70" "cpu_offload_link: pcie4"
# the weights and the KV tier share the host memory: 70 GB of weights leave 410 GB for a tier
bad both "both.yaml:8: kv_offload.capacity_gb: 420 GB is more than the host memory of the chosen node: gh200-single has 480 GB per node of 1 GPU, so a replica of 1 GPU gets 410 GB beside the offloaded weights" \
    "${W[@]}" "cpu_offload_gb: 70" "cpu_offload_link: c2c" "scheduler: {enable_prefix_caching: true}" \
    "kv_offload: {tier: grace, capacity_gb: 420, link: c2c}"

TR="${LS_SHARED_TRACES:-}/mooncake_conversation_trace.jsonl.gz"
[ -f "$TR" ] || { echo "kv_offload: trace part skipped (no $TR)"; exit 0; }
for v in none grace; do
    printf '%s\n' "model: llama-3.1-8b" "hardware: gh200-96gb" "cluster: gh200-single" \
        "scheduler: {enable_prefix_caching: true}" "workload: {trace: $TR, target_rate: 1.0}" "drain: true" >"$T/$v.yaml"
    [ $v = grace ] && echo "kv_offload: {tier: grace, capacity_gb: 400, link: c2c}" >>"$T/$v.yaml"
    "$LLMSWEEP" run --config "$T/$v.yaml" --json >"$T/$v.json" 2>"$T/err" || fail "$v: $(cat "$T/err")"
done
"$LS_PYTHON" - "$T" <<'PY' || fail "content"
import json, sys
T = sys.argv[1]
none, gr = (json.load(open(f"{T}/{v}.json")) for v in ("none", "grace"))
print("hit rates: GPU only %.4f; GPU %.4f + Grace %.4f" %
      (none["prefix_hit_rate"], gr["prefix_hit_rate"], gr["offload_hit_rate"]))
assert none["offload_hit_rate"] is None and none["offload_link_s"] is None
assert gr["n_completed"] == none["n_completed"] == 12031
assert gr["offload_hit_rate"] > 0.05
assert gr["prefix_hit_rate"] + gr["offload_hit_rate"] > none["prefix_hit_rate"] + 0.05
assert gr["ttft_mean_s"] < none["ttft_mean_s"]
# link time: Llama-3.1-8B keeps 2 x 32 layers x 8 KV heads x 128 x 2 bytes = 131072 bytes per token,
# a 16-token block is 2 MiB on the one GPU, and NVLink-C2C moves 450 GB/s each way
per_block = 2 * 32 * 8 * 128 * 2 * 16 / 450e9
want = (gr["offload_blocks_loaded"] + gr["offload_blocks_stored"]) * per_block
assert abs(gr["offload_link_s"] - want) < 1e-6 * want, (gr["offload_link_s"], want)
# every stored block is a whole 512-token hash block: 32 blocks of 16
assert gr["offload_blocks_stored"] % 32 == 0 and gr["offload_blocks_loaded"] > 0
PY
echo "kv_offload: ok"
