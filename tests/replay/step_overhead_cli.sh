#!/usr/bin/env bash
# step_overhead_cli.sh -- the per-sequence host time of a step (GPU key seq_overhead_us, step_overhead.h)
# through the real command line: an engine without async scheduling (trtllm, vllm-v0) pays it on every
# step, vLLM V1 hides it behind the GPU step while it is shorter; a negative value fails with file:line.
set -u
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for v in 0 5 200; do printf 'gpus:\n  h100-sxm:\n    base: h100-sxm\n    seq_overhead_us: %s\n' "$v" >"$tmp/s$v.yaml"; done
tpot() {  # ENGINE SEQ_US -> tpot_p50_s of Llama-3.1-8B at 40 req/s, 512/128
    "$LLMSWEEP" run --catalog "$tmp/s$2.yaml" --model llama-3.1-8b --hardware h100-sxm --cluster dgx-h100 --dtype fp8 \
        --kv-dtype fp8 --max-model-len 4096 --rate 40 --prompt fixed:512 --output fixed:128 --duration 10 \
        --set engine="$1" --json |
        "$LS_PYTHON" -c 'import json, sys; r = json.load(sys.stdin); assert r["status"] == "ok", r; print(r["tpot_p50_s"])'
}
t0=$(tpot trtllm 0) || fail "trtllm 0"
t200=$(tpot trtllm 200) || fail "trtllm 200"
v0=$(tpot vllm-v1 0) || fail "vllm-v1 0"
v5=$(tpot vllm-v1 5) || fail "vllm-v1 5"
v200=$(tpot vllm-v1 200) || fail "vllm-v1 200"
echo "tpot p50: trtllm 0 us $t0, 200 us $t200; vllm-v1 0 us $v0, 5 us $v5, 200 us $v200"
awk -v a="$t0" -v b="$t200" 'BEGIN { exit !(b > 1.2 * a) }' || fail "trtllm does not pay the host time"
[ "$v0" = "$v5" ] || fail "vllm-v1: 5 us per sequence is not hidden behind the GPU step ($v0 vs $v5)"
awk -v a="$v0" -v b="$v200" -v c="$t200" 'BEGIN { exit !(b > a && b < c) }' || fail "vllm-v1 200 us: neither hidden nor summed"
printf 'gpus:\n  x:\n    base: h100-sxm\n    seq_overhead_us: -1\n' >"$tmp/bad.yaml"
"$LLMSWEEP" run --catalog "$tmp/bad.yaml" --model llama-3.1-8b --hardware x --rate 1 --duration 1 >/dev/null 2>"$tmp/err" &&
    fail "negative seq_overhead_us accepted"
grep -q "bad.yaml:4.*seq_overhead_us" "$tmp/err" || { cat "$tmp/err"; fail "message"; }
echo ok
