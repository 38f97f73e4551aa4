#!/usr/bin/env bash
# plan_search.sh -- the search space flags of `llmsweep plan`: --dtype, --max-num-seqs and
# --max-batched-tokens lists multiply the candidates; --modes adds disaggregated pools; FP4 is searched only on GPUs with FP4
# tensor cores; each candidate's values reach its configuration (checked in /configs, from the
# file, with h5py) and its `vllm serve` line; bad list values are usage errors naming the flag.
. "$(dirname "$0")/sweep_lib.bash"
"$PY" -c "import h5py" 2>/dev/null || { echo "plan_search: no h5py, skipped"; exit 77; }
P0="$LLMSWEEP plan --model llama-3-8b --isl 256 --osl 16 --duration 10 --rate 4 --slo ttft_p99=1s,tpot_p99=50ms -q"
P="$P0 --gpus 1" # plan refuses a flag given twice: the disagg case below adds its own --gpus
$P --hardware h100-sxm --hardware b200 --dtype bf16,fp4 --max-num-seqs 32,256 --max-batched-tokens auto,2048 \
    -o "$T/s.h5" >"$T/out.txt" 2>"$T/err.txt" || { cat "$T/err.txt"; fail "plan with lists"; }
# 2 GPU types x 2 dtypes x 2 x 2 scheduler values x 1 split = 16 candidates; FP4 on H100 is not one
grep -q "^plan: 16 candidate deployments on 2 GPU types .* 4 invalid splits, 12 simulated" "$T/err.txt" ||
    { cat "$T/err.txt"; fail "candidate count"; }
grep -q "invalid h100-sxm tp1pp1dp1: fp4 weights: h100-sxm has no FP4 tensor cores" "$T/err.txt" || fail "fp4 on h100"
"$PY" - "$T/s.h5" <<'PY' || fail "configurations"
import sys, h5py
c = h5py.File(sys.argv[1], "r")["/configs"][:]
seen = {(x["hardware"].decode(), x["dtype_weights"].decode(), x["dtype_kv"].decode(), int(x["max_num_seqs"]),
         x["max_batched_tokens"].decode()) for x in c}
want = {(h, w, kv, s, b) for h, w, kv in [("h100-sxm", "bf16", "bf16"), ("b200", "bf16", "bf16"), ("b200", "nvfp4", "fp8")]
        for s in (32, 256) for b in ("auto", "2048")}
assert seen == want, sorted(seen ^ want)
assert len(c) == 12 * 4, len(c)
PY
grep -q -- "--quantization modelopt_fp4 --kv-cache-dtype fp8" "$T/out.txt" || fail "no FP4 vllm line"
grep -Eq "^ +[0-9]+ +[0-9]+ b200 +tp1 nvfp4" "$T/out.txt" || fail "no nvfp4 label in the top table"
grep -q -- "--max-num-batched-tokens 2048" "$T/out.txt" || fail "fixed budget not in a vllm line"

# cost and energy: $/Mtok and J/token of each top row, recomputed here from /results and /configs
$P --hardware h100-sxm --cost-per-gpu-hour h100-sxm=2.5 --power h100-sxm=700 -o "$T/c.h5" >"$T/c.txt" 2>"$T/c.err" ||
    { cat "$T/c.err"; fail "plan with cost and power"; }
grep -A2 "^cost and energy per output token" "$T/c.txt" | tail -1 >"$T/c.row"
top=$(awk '/^ *1 +[0-9]+ /{print $2; exit}' "$T/c.txt")
"$PY" - "$T/c.h5" "$top" "$T/c.row" <<'PY' || { cat "$T/c.txt"; fail "cost figures"; }
import sys, h5py, math
f = h5py.File(sys.argv[1], "r")
i = int(sys.argv[2])
r = [x for x in f["/results"][:] if int(x["config_id"]) == i][0]
n = [int(x["n_gpus"]) for x in f["/configs"][:] if int(x["config_id"]) == i][0]
tps = float(r["output_tps"])
usd, j = n * 2.5 / (tps * 3600) * 1e6, n * 700 / tps
row = open(sys.argv[3]).read().split()
got_usd, got_j = float(row[3]), float(row[5])
assert math.isclose(got_usd, usd, rel_tol=1e-3) and math.isclose(got_j, j, rel_tol=1e-3), (row, usd, j)
PY
$P --hardware h100-sxm --power tdp -o "$T/t.h5" --force >"$T/t.txt" 2>/dev/null || fail "plan --power tdp"
grep -q "^cost and energy per output token" "$T/t.txt" || fail "--power tdp: no energy table"

# --modes agg,disagg: the 4 aggregated splits of 2 GPUs and one prefill/decode pair (1P-tp1+1D-tp1)
$P0 --hardware h100-sxm --gpus 2 --modes agg,disagg -o "$T/d.h5" >"$T/d.txt" 2>"$T/d.err" ||
    { cat "$T/d.err"; fail "plan --modes agg,disagg"; }
grep -q "^plan: 5 candidate deployments .* 5 simulated" "$T/d.err" || { cat "$T/d.err"; fail "disagg: candidate count"; }
"$PY" - "$T/d.h5" <<'PY' || fail "disagg: configurations"
import sys, h5py
c = h5py.File(sys.argv[1], "r")["/configs"][:]
par = sorted({x["parallelism"].decode() for x in c})
assert par == sorted(["tp1", "dp2", "pp2", "tp2", "1P-tp1+1D-tp1"]), par
d = [x for x in c if x["parallelism"] == b"1P-tp1+1D-tp1"][0]
assert int(d["n_gpus"]) == 2, d
PY
grep -q "prefill x1: vllm serve llama-3-8b --tensor-parallel-size 1 .*--kv-transfer-config '{\"kv_connector\":\"NixlConnector\",\"kv_role\":\"kv_both\"}'  |  decode x1: vllm serve" "$T/d.txt" ||
    fail "disagg: no launch commands per role"

check_usage() { # WORDS-EXPECTED ARGS...
    local want=$1; shift
    rc=0; $P --hardware h100-sxm "$@" -o "$T/u.h5" 2>"$T/u.err" >/dev/null || rc=$?
    [ "$rc" = 2 ] || fail "plan $*: exit $rc, expected 2"
    grep -q -- "$want" "$T/u.err" || { cat "$T/u.err"; fail "plan $*: message lacks '$want'"; }
}
check_usage "--dtype fp3: expected bf16, fp8, fp4" --dtype bf16,fp3
check_usage "--dtype: bad value" --dtype bf16,,fp8
check_usage "--max-num-seqs: bad value" --max-num-seqs 64,0
check_usage "--max-batched-tokens: bad value" --max-batched-tokens auto,lots
check_usage "--cost-per-gpu-hour: b200 is not one of the --hardware searched" --cost-per-gpu-hour b200=4
check_usage "--power: expected GPU=W" --power h100-sxm=lots
check_usage "--modes: bad value" --modes agg,split
echo "plan_search: ok"
