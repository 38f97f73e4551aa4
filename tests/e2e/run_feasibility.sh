#!/usr/bin/env bash
# run_feasibility.sh -- the seed study's feasibility through `llmsweep run`:
# Llama-3-70B in BF16 on one GH200 96 GB does not fit (exit 3, with the
# numbers: 141.1 GB of weights, 86.4 GB usable); FP8 fits; TP8 over two
# quad-GH200 nodes runs.
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
W="--rate 1 --prompt lognormal:mu=6.5,sigma=0.5 --output fixed:64 --duration 20 --seed 3"

"$LLMSWEEP" run --model llama-3-70b --hardware gh200-96gb --cluster gh200-quad --tp 1 $W >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "bf16 on one GH200: exit $rc (expected 3)"
grep -q "141.1 GB" "$T/err" || fail "bf16: the message lacks the weight size: $(cat "$T/err")"
grep -q "86.4 GB usable" "$T/err" || fail "bf16: the message lacks the usable memory: $(cat "$T/err")"
grep -q "infeasible" "$T/out" || fail "bf16: the summary does not say infeasible"

"$LLMSWEEP" run --model llama-3-70b --hardware gh200-96gb --cluster gh200-quad --tp 1 $W --json >"$T/j" 2>/dev/null
[ $? -eq 3 ] || fail "bf16 --json: exit status"
"$LS_PYTHON" - "$T/j" <<'PY' || fail "bf16 --json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "infeasible", d["status"]
assert "141.1 GB" in d["message"], d["message"]
assert d["n_gpus"] == 1 and abs(d["weights_gb_per_gpu"] - 141.1) < 0.1, d
assert d["n_completed"] is None and d["ttft_p99_s"] is None
PY

"$LLMSWEEP" run --model llama-3-70b --hardware gh200-96gb --cluster gh200-quad --tp 1 \
    --dtype fp8 --kv-dtype fp8 $W --json >"$T/j" 2>"$T/err"
[ $? -eq 0 ] || fail "fp8 on one GH200: $(cat "$T/err")"
"$LS_PYTHON" - "$T/j" <<'PY' || fail "fp8 --json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "ok" and d["message"] == ""
assert abs(d["weights_gb_per_gpu"] - 70.6) < 0.1, d["weights_gb_per_gpu"]
assert d["n_completed"] == d["n_requests"] > 0, d
assert d["kv_blocks"] > 0
PY

"$LLMSWEEP" run --model llama-3-70b --hardware gh200-96gb --cluster gh200-quad --parallelism tp8 $W --json \
    >"$T/j" 2>"$T/err"
[ $? -eq 0 ] || fail "tp8: $(cat "$T/err")"
"$LS_PYTHON" - "$T/j" <<'PY' || fail "tp8 --json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "ok" and d["n_gpus"] == 8
assert d["n_completed"] == d["n_requests"] > 0
assert abs(d["weights_gb_per_gpu"] - 141.1 / 8) < 0.5, d["weights_gb_per_gpu"]
PY
echo "run_feasibility: ok"
