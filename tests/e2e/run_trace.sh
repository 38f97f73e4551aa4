#!/usr/bin/env bash
# run_trace.sh -- replay the Azure conversation trace (19,366 requests) on
# Llama-3-70B TP4 and with the three policies; skips when the traces are absent.
set -u
fail() { echo "FAIL: $*"; exit 1; }
TR="${LS_SHARED_TRACES:-}/AzureLLMInferenceTrace_conv.csv.gz"
[ -f "$TR" ] || { echo "run_trace: skipped (no $TR)"; exit 0; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for pol in vllm-v1 vllm-v0 sarathi; do
    "$LLMSWEEP" run --model llama-3-70b --hardware h100-sxm --cluster dgx-h100 --tp 4 --policy $pol \
        --trace "$TR" --json >"$T/$pol.json" 2>"$T/err" || fail "$pol: $(cat "$T/err")"
done
"$LS_PYTHON" - "$T" <<'PY' || fail "content"
import json, sys
T = sys.argv[1]
for pol in ("vllm-v1", "vllm-v0", "sarathi"):
    d = json.load(open(f"{T}/{pol}.json"))
    assert d["status"] == "ok"
    assert d["n_requests"] == 19366, d["n_requests"]
    # the trace's longest prompt (14,050 tokens) exceeds Llama-3-70B's 8K context
    assert d["n_rejected_too_long"] >= 1
    assert d["success_rate"] > 0.99, (pol, d["success_rate"])
    # the trace spans 3,502 s at 5.53 req/s; a 4-GPU replica keeps up
    assert 5.0 < d["throughput_rps"] < 6.0, (pol, d["throughput_rps"])
    assert d["ttft_p50_s"] <= d["ttft_p90_s"] <= d["ttft_p99_s"]
    assert 0 < d["tpot_p50_s"] < 0.2, d["tpot_p50_s"]
PY
echo "run_trace: ok"
