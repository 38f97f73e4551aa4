#!/usr/bin/env bash
# cli_moe.sh -- issue 14 through the command line: `catalog import` of Hugging Face config.json files
# (each imported entry has the built-in entry's parameter count), `catalog --show`, bad config.json
# files and bad MoE configurations rejected with file:line, FP4 on a GPU without FP4 said, and
# `run` of the deployments the issue names.
set -u
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hf="$LS_SOURCE_DIR/tests/fixtures/hf"

# import: the entry loads and matches the built-in one's derived sizes
for pair in deepseek-v3:deepseek-v3 qwen3-30b-a3b:qwen3-30b-a3b gpt-oss-120b:gpt-oss-120b \
            gemma-3-27b:gemma-3-27b llama-3.2-1b:llama-3.2-1b llama-4-maverick:llama-4-maverick; do
  file=${pair%%:*} ref=${pair##*:}
  "$LLMSWEEP" catalog import "$hf/$file.json" --name "imp-$file" --output "$tmp/$file.yaml" || fail "import $file"
  "$LLMSWEEP" catalog models --json --catalog "$tmp/$file.yaml" >"$tmp/$file.json" || fail "load $file"
  "$LS_PYTHON" - "$tmp/$file.json" "imp-$file" "$ref" <<'PY' || fail "import $file sizes"
import json, sys
m = {x["name"]: x for x in json.load(open(sys.argv[1]))["models"]}
a, b = m[sys.argv[2]], m[sys.argv[3]]
for k in ("params", "active_params", "kv_bytes_per_token_bf16", "sliding_layers", "kv_lora_rank", "moe_layer_step"):
    assert a[k] == b[k], (k, a[k], b[k])
PY
done
"$LLMSWEEP" catalog import "$hf/llama-3.2-1b.json" | grep -q '^  llama-3.2-1b:$' || fail "default name"
# bad config.json files: named field, or file:line for JSON syntax
check_import() {  # file, expected message fragment
  "$LLMSWEEP" catalog import "$hf/$1" >/dev/null 2>"$tmp/err"; rc=$?
  [ $rc -eq 1 ] || fail "$1: exit $rc"
  grep -qF -- "$2" "$tmp/err" || fail "$1: message $(cat "$tmp/err")"
}
check_import bad-mamba.json "field 'model_type': unsupported architecture 'mamba' (supported: llama"
check_import bad-missing-vocab.json "field 'vocab_size': missing"
check_import bad-type.json "field 'num_key_value_heads': expected an integer"
check_import bad-qwen2-moe-shared.json "field 'shared_expert_intermediate_size'"
check_import bad-syntax.json "bad-syntax.json:3:"
"$LLMSWEEP" catalog import >/dev/null 2>&1; [ $? -eq 2 ] || fail "import without a file"

# --show: an entry with its source
"$LLMSWEEP" catalog --show deepseek-v3 >"$tmp/show" || fail "show"
grep -q "^source .*DeepSeek-V3 config.json" "$tmp/show" || fail "show source"
grep -q "^MLA  *kv_lora_rank 512, qk_rope_dim 64" "$tmp/show" || fail "show MLA"
grep -q "^parameters  *671.0" "$tmp/show" || fail "show params"
"$LLMSWEEP" catalog --show mi300x | grep -q "^source .*MI300X data sheet" || fail "show gpu"
"$LLMSWEEP" catalog --show no-such >/dev/null 2>&1; [ $? -eq 2 ] || fail "show unknown"

# runs the issue names (short synthetic load)
cat >"$tmp/run.yaml" <<'Y'
model: deepseek-v3
dtype: {weights: fp8, kv: fp8}
cluster: dgx-h200
parallelism: dp8ep8
scheduler: {max_num_seqs: 128}
workload:
  arrival: {process: poisson, rate: 2}
  prompt_tokens: {dist: lognormal, mean: 1000, stddev: 500}
  output_tokens: {dist: lognormal, mean: 100, stddev: 50}
  duration_s: 20
seed: 3
Y
run() { "$LLMSWEEP" run --config "$tmp/run.yaml" "$@"; }
run >"$tmp/out" || fail "deepseek-v3 dp8ep8 exit $?"
grep -q "dp8ep8, fp8/fp8" "$tmp/out" && grep -q "^deployment .* 98.9 GB weights per GPU" "$tmp/out" \
  || fail "deepseek-v3 dp8ep8: $(cat "$tmp/out")"
grep -q "^lockstep  *DP ranks of an EP group step together: [0-9.]*% of their step time" "$tmp/out" \
  || fail "dp8ep8 lockstep line: $(cat "$tmp/out")"
# DP lockstep (docs/ENGINE.md): the ranks wait for the slowest; a TP replica has no one to wait for
run --json | "$LS_PYTHON" -c 'import json,sys; f=json.load(sys.stdin)["dp_sync_wait_frac"]; assert 0 < f < 1, f' \
  || fail "dp8ep8 dp_sync_wait_frac"
run --parallelism tp8 --json | "$LS_PYTHON" -c 'import json,sys; assert json.load(sys.stdin)["dp_sync_wait_frac"] is None' \
  || fail "tp8 dp_sync_wait_frac"
run --set model=qwen3-235b-a22b --set cluster=dgx-h100 --set hardware=h100-sxm --parallelism tp8 >/dev/null \
  || fail "qwen3-235b tp8"
run --set model=qwen3-235b-a22b --set cluster=dgx-h100 --set hardware=h100-sxm --parallelism dp8ep8 >/dev/null \
  || fail "qwen3-235b dp8ep8"
run --set model=gpt-oss-120b --set dtype.weights=bf16 --set dtype.kv=bf16 --set dtype.experts=mxfp4 \
    --set cluster=dgx-h100 --set hardware=h100-sxm --parallelism tp1 >"$tmp/out" || fail "gpt-oss-120b"
grep -q "^note .*h100-sxm has no FP4 tensor cores: expert mxfp4 weights are stored in mxfp4 and computed in BF16" \
  "$tmp/out" || fail "FP4 note: $(cat "$tmp/out")"
run --set model=qwen3-30b-a3b --set dtype=bf16 --set cluster=pcie-l40s --set hardware=l40s --parallelism dp2ep2 \
  >/dev/null || fail "qwen3-30b pcie pair"
# does not fit: infeasible with the reason (exit 3)
run --set model=gpt-oss-120b --set dtype=bf16 --set cluster=dgx-h100 --set hardware=h100-sxm --parallelism tp1 \
  >"$tmp/out"; rc=$?
[ $rc -eq 3 ] && grep -q "infeasible: weights 233.6 GB need 1 GPU of 80 GB" "$tmp/out" || fail "infeasible rc $rc"

# every built-in model runs on a GPU where it fits, or says why it does not (exit 3, never a crash)
"$LLMSWEEP" catalog models --json | "$LS_PYTHON" -c 'import json,sys; print("\n".join(m["name"] for m in json.load(sys.stdin)["models"]))' >"$tmp/models"
[ "$(wc -l <"$tmp/models")" -ge 21 ] || fail "model list"
while read -r m; do
  fit=0
  for dep in "dgx-h200 h200 tp8" "dgx-b200 b200 tp8" "gb200-nvl72 gb200 tp16"; do
    set -- $dep
    run --set model="$m" --set cluster="$1" --set hardware="$2" --parallelism "$3" --set workload.duration_s=5 \
      >"$tmp/out" 2>&1; rc=$?
    if [ $rc -eq 0 ]; then fit=1; break; fi
    [ $rc -eq 3 ] && grep -q "^status  *infeasible: weights" "$tmp/out" || fail "$m on $dep: rc $rc $(cat "$tmp/out")"
  done
  [ $fit -eq 1 ] || fail "$m fits nowhere"
done <"$tmp/models"
# Kimi K2 (1.03 T, FP8) does not fit 8 x H200 at TP8, and says so in numbers
run --set model=kimi-k2 --parallelism tp8 >"$tmp/out"; rc=$?
[ $rc -eq 3 ] && grep -q "infeasible: weights 129.1 GB per GPU (tp8) exceed 126.9 GB usable on h200" "$tmp/out" \
  || fail "kimi-k2 tp8: rc $rc $(cat "$tmp/out")"

# bad MoE configurations: file:line and what is wrong
check_run() {  # yaml line to append, expected fragment
  { grep -v '^parallelism' "$tmp/run.yaml"; printf '%s\n' "$1"; } >"$tmp/bad.yaml"
  "$LLMSWEEP" run --config "$tmp/bad.yaml" >/dev/null 2>"$tmp/err"; rc=$?
  [ $rc -eq 1 ] || fail "'$1': exit $rc"
  grep -qF -- "$2" "$tmp/err" || fail "'$1': message $(cat "$tmp/err")"
}
check_run "parallelism: dp6ep6" "bad.yaml:11: parallelism: ep 6 does not divide the 256 experts of deepseek-v3"
check_run "parallelism: dp8ep16" "bad.yaml:11: parallelism: ep 16 is larger than dp x tp = 8"
check_run "parallelism: {tp: 2, dp: 4, ep: 3}" "bad.yaml:11: parallelism: ep 3 must be a multiple of tp 2"
check_run "moe: {imbalance: 0.5}" "bad.yaml:11: moe.imbalance: expected"
check_run "moe: {skew: 2}" "bad.yaml:11: unknown key 'moe.skew'"
check_run "moe: {backend: pplx}" "bad.yaml:11: moe.backend: unknown all-to-all backend 'pplx' (expected one of: deepep_ll"
{ sed 's/^model: .*/model: llama-3-8b/' "$tmp/run.yaml"; } >"$tmp/dense.yaml"
"$LLMSWEEP" run --config "$tmp/dense.yaml" >/dev/null 2>"$tmp/err"; [ $? -eq 1 ] || fail "dense ep exit"
grep -q "dense.yaml:4: parallelism: ep 8: model llama-3-8b has no experts" "$tmp/err" || fail "dense ep: $(cat "$tmp/err")"
echo "cli_moe: ok"
