#!/usr/bin/env bash
# cost_kernels_cli.sh -- `cost: {model: kernels}` through the real command line: the measured vLLM
# kernel tables change the H100's times (prefill-bound TTFT and decode-bound TPOT of one request),
# a GPU without tables (GH200) runs the roofline unchanged, light-load TPOT falls from TP2 to TP8, and bad
# values fail with file:line.
set -u
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {  # run GPU COST -> "ttft_p50_s tpot_p50_s" of one 2048/64 request
    "$LLMSWEEP" run --model llama-3.1-8b --hardware "$1" --cluster "${3:-dgx-h100}" --dtype fp8 --kv-dtype fp8 \
        --max-model-len 4096 --rate 0.5 --prompt fixed:2048 --output fixed:64 --duration 2 --set cost.model="$2" --json |
        "$LS_PYTHON" -c 'import json, sys; r = json.load(sys.stdin); assert r["status"] == "ok", r; print(r["ttft_p50_s"], r["tpot_p50_s"])'
}
read -r rt rp < <(run h100-sxm roofline) || fail "roofline run"
read -r kt kp < <(run h100-sxm kernels) || fail "kernels run"
echo "h100 roofline: ttft $rt tpot $rp; kernels: ttft $kt tpot $kp"
[ "$rt" != "$kt" ] && [ "$rp" != "$kp" ] || fail "the kernel tables changed nothing on h100-sxm"
# both within a factor 2 of each other (the same physics, measured instead of modelled)
awk -v a="$rt" -v b="$kt" -v c="$rp" -v d="$kp" 'BEGIN { exit !(b > a / 2 && b < 2 * a && d > c / 2 && d < 2 * c) }' \
    || fail "kernels far from the roofline"
read -r gt gp < <(run gh200-96gb roofline gh200-single) || fail "gh200 roofline"
read -r ht hp < <(run gh200-96gb kernels gh200-single) || fail "gh200 kernels"
[ "$gt $gp" = "$ht $hp" ] || fail "gh200 has no tables but kernels differ: $gt $gp vs $ht $hp"
# TP ordering with the tables (Llama-3.1-70B FP8, vLLM on dgx-h100): light-load TPOT falls from TP2 to TP4 to TP8
tpot70() {
    "$LLMSWEEP" run --model llama-3.1-70b --hardware h100-sxm --cluster dgx-h100 --tp "$1" --dtype fp8 --kv-dtype fp8 \
        --max-model-len 8192 --rate 2 --prompt fixed:512 --output fixed:256 --duration 10 --set cost.model=kernels --json |
        "$LS_PYTHON" -c 'import json, sys; r = json.load(sys.stdin); assert r["status"] == "ok", r; print(r["tpot_p50_s"])'
}
l2=$(tpot70 2) && l4=$(tpot70 4) && l8=$(tpot70 8) || fail "70b runs"
echo "kernels, light-load TPOT p50 (s): tp2 $l2, tp4 $l4, tp8 $l8"
awk -v a="$l2" -v b="$l4" -v c="$l8" 'BEGIN { exit !(a > b && b > c) }' || fail "TPOT order tp2 $l2 tp4 $l4 tp8 $l8"
# bad values
printf 'model: llama-3.1-8b\nhardware: h100-sxm\ncost: {model: kernel}\n' >"$tmp/bad.yaml"
"$LLMSWEEP" run --config "$tmp/bad.yaml" --rate 1 --duration 1 >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] || fail "unknown cost model accepted"
grep -q "bad.yaml:3.*unknown cost model 'kernel' (expected roofline, kernels," "$tmp/err" || { cat "$tmp/err"; fail "cost.model message"; }
printf 'gpus:\n  x:\n    base: h100-sxm\n    kernel_tables: h100\n' >"$tmp/cat.yaml"
"$LLMSWEEP" run --catalog "$tmp/cat.yaml" --model llama-3.1-8b --hardware x --rate 1 --duration 1 >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] || fail "unknown kernel_tables accepted"
grep -q "cat.yaml:[0-9]*.*kernel_tables names no measured tables" "$tmp/err" || { cat "$tmp/err"; fail "kernel_tables message"; }
echo ok
