#!/usr/bin/env bash
# preempt_swap.sh -- preemption by swap (scheduler.preemption_mode: swap, vllm-v0; replay/kvswap.h)
# through the real command line, on a case computed by hand, then bad settings with FILE:LINE.
#
# Llama-3.1-8B in BF16 keeps 32 layers x 2 (K, V) x 8 KV heads x 128 x 2 bytes = 131,072 bytes per
# token, 2,097,152 per 16-token block; PCIe Gen5 moves 63 GB/s each way, so one block swaps in
# s = 2,097,152 / 63e9 s. Every step costs T = 10 ms (cost model constant). The KV cache has 4
# blocks, no watermark. A (32 prompt tokens, 33 output) and B (16, 40) arrive at 0:
# - step 1 [0, T]: both prefill (2 + 1 blocks): first tokens at T;
# - step 2: A needs its 3rd block, none is free, so B (the newest) is preempted: by swap its one
#   block goes to the host, charged on this step: it ends at 2T + s;
# - steps 3..33: A decodes alone (no prefill while B is swapped out; B needs 2 blocks to come back
#   and A holds 3, then 4): A finishes at 33T + s;
# - step 34: B swaps back in (one block, charged on this step) and decodes: 34T + 2s; it finishes
#   at step 72: 72T + 2s.
# By recompute B re-prefills its 16 + 1 tokens at step 34 instead (free under a constant cost): A at
# 33T, B at 72T, 16 tokens recomputed. A swap space too small for one block falls back to that.
. "$(dirname "$0")/config_lib.bash"
printf 'arrival_s,prompt_tokens,output_tokens\n0,32,33\n0,16,40\n' >"$T/two.csv"
cfg() {  # NAME HARDWARE-LINES... -- scheduler lines after --
    local name=$1
    shift
    {
        while [ "$1" != -- ]; do echo "$1"; shift; done
        shift
        echo "cost: {model: constant, time_s: 0.01}"
        echo "scheduler:"
        echo "  policy: vllm-v0"
        echo "  num_kv_blocks: 4"
        echo "  watermark: 0"
        echo "  max_num_seqs: 2"
        printf '  %s\n' "$@"
        echo "workload: {trace: $T/two.csv}"
        echo "drain: true"
    } >"$T/$name.yaml"
    "$LLMSWEEP" run --config "$T/$name.yaml" --json >"$T/$name.json" 2>"$T/err" || fail "$name: $(cat "$T/err")"
    "$LLMSWEEP" run --config "$T/$name.yaml" --requests-out "$T/$name.csv" >/dev/null 2>"$T/err" ||
        fail "$name: $(cat "$T/err")"
}
H100=("model: llama-3.1-8b" "hardware: h100-sxm")
cfg swap "${H100[@]}" -- "preemption_mode: swap" "swap_space_gb: 4" "swap_link: pcie5"
cfg recompute "${H100[@]}" -- "preemption_mode: recompute"
cfg small "${H100[@]}" -- "preemption_mode: swap" "swap_space_gb: 0.001" "swap_link: pcie5"
cfg gh200 "model: llama-3.1-8b" "hardware: gh200-96gb" "cluster: gh200-single" -- \
    "preemption_mode: swap" "swap_space_gb: 4" "swap_link: c2c"
"$LS_PYTHON" - "$T" <<'PY' || fail "content"
import csv, json, sys
T = sys.argv[1]
block = 32 * 2 * 8 * 128 * 2 * 16
Tstep = 0.01
def load(name):
    m = json.load(open(f"{T}/{name}.json"))
    rows = list(csv.DictReader(open(f"{T}/{name}.csv")))
    fin = [float(r["finish_s"]) for r in rows]
    ttft = [float(r["first_token_s"]) for r in rows]
    return m, fin, ttft
def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))
for name, bw in (("swap", 63e9), ("gh200", 450e9)):
    m, fin, ttft = load(name)
    s = block / bw
    assert m["n_completed"] == 2 and m["n_preemptions"] == 1 and m["recomputed_tokens"] == 0, m
    assert (m["n_swap_outs"], m["n_swap_ins"], m["n_swap_fallbacks"]) == (1, 1, 0), m
    assert close(m["swap_out_gb"], block / 1e9) and close(m["swap_in_gb"], block / 1e9), m
    assert close(m["swap_link_s"], 2 * s), (m["swap_link_s"], 2 * s)
    assert all(close(t, Tstep) for t in ttft), ttft
    assert close(fin[0], 33 * Tstep + s) and close(fin[1], 72 * Tstep + 2 * s), (name, fin, s)
    assert m["iterations"] == 72, m["iterations"]
    print(f"{name}: swap {s * 1e6:.3f} us a block; A done {fin[0]:.9f} s, B {fin[1]:.9f} s")
for name in ("recompute", "small"):
    m, fin, ttft = load(name)
    assert m["n_preemptions"] == 1 and m["recomputed_tokens"] == 16, m
    assert close(fin[0], 33 * Tstep) and close(fin[1], 72 * Tstep), (name, fin)
    if name == "recompute":
        assert m["n_swap_outs"] is None and m["swap_link_s"] is None, m
    else:
        assert (m["n_swap_outs"], m["n_swap_ins"], m["n_swap_fallbacks"]) == (0, 0, 1), m
        assert m["swap_link_s"] == 0, m
PY
W="workload: {trace: $T/two.csv}"
bad v1 "v1.yaml:4: scheduler.preemption_mode: swap needs scheduler.policy vllm-v0 (got vllm-v1): vLLM V1 preempts by recompute only" \
    "${H100[@]}" "scheduler:" "  preemption_mode: swap" "  swap_space_gb: 4" "  swap_link: pcie5" "$W"
bad v1tier "v1tier.yaml:5: scheduler.preemption_mode: swap needs scheduler.policy vllm-v0 (got vllm-v1): vLLM V1 preempts by recompute only; with kv_offload a preempted request's prompt blocks already come back from the host tier as prefix hits" \
    "${H100[@]}" "scheduler:" "  enable_prefix_caching: true" "  preemption_mode: swap" "  swap_space_gb: 4" \
    "  swap_link: pcie5" "$W" "kv_offload: {tier: cpu, capacity_gb: 100, link: pcie5}"
bad sarathi "sarathi.yaml:5: scheduler.preemption_mode: swap needs scheduler.policy vllm-v0 (got sarathi)" \
    "${H100[@]}" "scheduler:" "  policy: sarathi" "  preemption_mode: swap" "  swap_space_gb: 4" "  swap_link: pcie5" "$W"
bad nospace "nospace.yaml:5: scheduler.preemption_mode: swap needs scheduler.swap_space_gb" \
    "${H100[@]}" "scheduler:" "  policy: vllm-v0" "  preemption_mode: swap" "  swap_link: pcie5" "$W"
bad nolink "nolink.yaml:5: scheduler.preemption_mode: swap needs scheduler.swap_link: the link from h100-sxm to its host (expected pcie4 or pcie5)" \
    "${H100[@]}" "scheduler:" "  policy: vllm-v0" "  preemption_mode: swap" "  swap_space_gb: 4" "$W"
bad wronglink "wronglink.yaml:7: scheduler.swap_link: c2c does not reach the x86 host of h100-sxm (expected pcie4 or pcie5)" \
    "${H100[@]}" "scheduler:" "  policy: vllm-v0" "  preemption_mode: swap" "  swap_space_gb: 4" "  swap_link: c2c" "$W"
bad badlink "badlink.yaml:7: scheduler.swap_link: expected pcie4, pcie5 or c2c" \
    "${H100[@]}" "scheduler:" "  policy: vllm-v0" "  preemption_mode: swap" "  swap_space_gb: 4" "  swap_link: nvme" "$W"
bad zero "zero.yaml:6: scheduler.swap_space_gb: expected GB per GPU > 0" \
    "${H100[@]}" "scheduler:" "  policy: vllm-v0" "  preemption_mode: swap" "  swap_space_gb: 0" "  swap_link: pcie5" "$W"
bad big "big.yaml:6: scheduler.swap_space_gb: 300 GB per GPU is more than the host memory of the chosen node: dgx-h100 has 2048 GB per node of 8 GPUs, so a replica of 1 GPU gets 256 GB" \
    "${H100[@]}" "scheduler:" "  policy: vllm-v0" "  preemption_mode: swap" "  swap_space_gb: 300" "  swap_link: pcie5" "$W"
bad mode "mode.yaml:4: scheduler.preemption_mode: expected recompute or swap" \
    "${H100[@]}" "scheduler:" "  preemption_mode: evict" "$W"
bad orphan "orphan.yaml:4: scheduler.swap_space_gb: given without scheduler.preemption_mode: swap" \
    "${H100[@]}" "scheduler:" "  swap_space_gb: 4" "$W"
# The command line: --preemption-mode, --swap-space and --swap-link write the same keys, so the
# recompute case's file plus the flags is the swap case (the same JSON but the host's wall time); a bad value is refused naming
# the flag's key and where it came from.
"$LLMSWEEP" run --config "$T/recompute.yaml" --preemption-mode swap --swap-space 4 --swap-link pcie5 --json \
    >"$T/flags.json" 2>"$T/err" || fail "flags: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "flags: JSON differs from the YAML keys"
import json, sys
T = sys.argv[1]
a, b = (json.load(open(f"{T}/{n}.json")) for n in ("swap", "flags"))
for m in (a, b):
    del m["wall_time_s"]  # the host's clock, not a result
assert a == b, {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}
assert b["n_swap_outs"] == 1, b
PY
"$LLMSWEEP" run --config "$T/swap.yaml" --preemption-mode recompute --json >/dev/null 2>"$T/err" &&
    fail "flag recompute with swap_space_gb: accepted"
grep -q "scheduler.swap_space_gb: given without scheduler.preemption_mode: swap" "$T/err" ||
    fail "flag recompute: message: $(cat "$T/err")"
"$LLMSWEEP" run --config "$T/recompute.yaml" --preemption-mode evict --json >/dev/null 2>"$T/err" &&
    fail "--preemption-mode evict: accepted"
grep -q "<command line>:1: scheduler.preemption_mode: expected recompute or swap" "$T/err" ||
    fail "--preemption-mode evict: message: $(cat "$T/err")"
"$LLMSWEEP" run --config "$T/recompute.yaml" --preemption-mode swap --swap-space lots --swap-link pcie5 --json \
    >/dev/null 2>"$T/err" && fail "--swap-space lots: accepted"
grep -q "<command line>:1: scheduler.swap_space_gb: expected a finite number, got 'lots'" "$T/err" ||
    fail "--swap-space lots: message: $(cat "$T/err")"
"$LLMSWEEP" run --config "$T/recompute.yaml" --preemption-mode swap --swap-space 0 --swap-link pcie5 --json \
    >/dev/null 2>"$T/err" && fail "--swap-space 0: accepted"
grep -q "<command line>:1: scheduler.swap_space_gb: expected GB per GPU > 0" "$T/err" ||
    fail "--swap-space 0: message: $(cat "$T/err")"
"$LLMSWEEP" run --help | grep -q -- "--preemption-mode M" || fail "--help lacks --preemption-mode"
echo "preempt_swap: ok"
