#!/usr/bin/env bash
# calibrate_cli.sh -- `llmsweep calibrate` end to end. Four "measured" vLLM benchmark result JSONs
# are built from runs of the tool itself with known GPU parameters (mfu_max 0.5, mbu 0.75,
# iter_overhead_ms 2.5); calibrate starts from perturbed values (0.62, 0.9, 1.0) and must recover the
# known ones within 2%, write an overlay that reproduces the runs, and report in-sample and
# leave-one-out errors. Then the bad inputs: malformed JSON, missing lists, a model or GPU that does not
# match the configuration, too few points for the parameters, an unknown parameter.
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/truth.yaml" <<'YAML'
gpus:
  h100-x: {base: h100-sxm, mfu_max: 0.5, mbu: 0.75, iter_overhead_ms: 2.5}
YAML
cat >"$T/start.yaml" <<'YAML'
gpus:
  h100-x: {base: h100-sxm, mfu_max: 0.62, mbu: 0.9, iter_overhead_ms: 1.0}
YAML
# point: NAME DTYPE N PROMPT OUTPUT
point() {
    cat >"$T/$1.yaml" <<YAML
model: llama-3.1-8b
hardware: h100-x
cluster: dgx-h100
dtype: $2
scheduler: {max_model_len: 8192}
YAML
    { echo "arrival_s,prompt_tokens,output_tokens"; for _ in $(seq "$3"); do echo "0,$4,$5"; done; } >"$T/$1.csv"
    "$LLMSWEEP" run --config "$T/$1.yaml" --catalog "$T/truth.yaml" --trace "$T/$1.csv" \
        --requests-out "$T/$1.req.csv" >/dev/null || fail "truth run $1"
    python3 - "$T/$1.req.csv" "$T/$1.json" <<'PY' || fail "json $1"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
t0 = min(float(r["arrival_s"]) for r in rows)
end = max(float(r["finish_s"]) for r in rows)
itls = []
for r in rows:
    n = int(r["generated_tokens"])
    gap = (float(r["finish_s"]) - float(r["first_token_s"])) / (n - 1) if n > 1 else 0
    itls.append([gap] * (n - 1))
out = sum(int(r["generated_tokens"]) for r in rows)
json.dump({"backend": "vllm", "model_id": "meta-llama/Llama-3.1-8B-Instruct", "request_rate": "inf",
           "num_prompts": len(rows), "completed": len(rows), "duration": end - t0,
           "output_throughput": out / (end - t0),
           "input_lens": [int(r["prompt_tokens"]) for r in rows],
           "output_lens": [int(r["generated_tokens"]) for r in rows],
           "ttfts": [float(r["first_token_s"]) - float(r["arrival_s"]) for r in rows], "itls": itls},
          open(sys.argv[2], "w"))
PY
}
point prefill bf16 48 2048 4       # compute-bound: fixes mfu_max
point decode bf16 32 128 96        # weight-bound decode steps
point decode8 fp8 32 128 96        # half the weight bytes: separates mbu from the fixed overheads
point mixed bf16 8 512 48          # a fourth point, so that leave-one-out has one to spare
P=(--point "$T/prefill.yaml=$T/prefill.json" --point "$T/decode.yaml=$T/decode.json"
   --point "$T/decode8.yaml=$T/decode8.json" --point "$T/mixed.yaml=$T/mixed.json")
"$LLMSWEEP" calibrate --gpu h100-x --catalog "$T/start.yaml" "${P[@]}" --out "$T/overlay.yaml" >"$T/out" 2>"$T/err" ||
    fail "calibrate: $(cat "$T/err")"
grep -q "| before (catalog values) |" "$T/out" || fail "no before errors: $(cat "$T/out")"
grep -q "| in-sample (fitted) |" "$T/out" && grep -q "| leave-one-out (held out) |" "$T/out" || fail "no fit errors"
grep -q "held-out" "$T/out" || fail "no held-out rows"
python3 - "$T/overlay.yaml" <<'PY' || fail "recovery: $(cat "$T/overlay.yaml")"
import re, sys
text = open(sys.argv[1]).read()
want = {"mfu_max": 0.5, "mbu": 0.75, "iter_overhead_ms": 2.5}
for k, v in want.items():
    got = float(re.search(r"^\s+%s: ([0-9.eE+-]+)$" % k, text, re.M).group(1))
    assert abs(got / v - 1) <= 0.02, (k, got, v)
assert "base: h100-x" in text
PY
# the overlay reproduces the truth run
"$LLMSWEEP" run --config "$T/decode.yaml" --catalog "$T/start.yaml" --catalog "$T/overlay.yaml" --trace "$T/decode.csv" \
    --json >"$T/fit.json" || fail "run with overlay"
"$LLMSWEEP" run --config "$T/decode.yaml" --catalog "$T/truth.yaml" --trace "$T/decode.csv" --json >"$T/true.json" || fail "truth"
python3 -c 'import json, sys; a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]));
assert abs(a["output_tps"] / b["output_tps"] - 1) < 0.01, (a["output_tps"], b["output_tps"])' "$T/fit.json" "$T/true.json" ||
    fail "overlay does not reproduce the run"

# ---- bad inputs ----
expect() {  # expect MESSAGE ARGS...: exit 1 and MESSAGE on stderr
    local msg=$1; shift
    "$LLMSWEEP" calibrate --gpu h100-x --catalog "$T/start.yaml" "$@" >/dev/null 2>"$T/err"; local rc=$?
    [ $rc -eq 1 ] || fail "'$msg': exit $rc"
    grep -qF -- "$msg" "$T/err" || fail "expected '$msg', got: $(cat "$T/err")"
}
echo '{"input_lens": [1, 2' >"$T/broken.json"
expect "not a JSON benchmark result: ']' expected" --point "$T/decode.yaml=$T/broken.json"
echo '{"input_lens": [1], "output_lens": [1], "ttfts": [0.1]}' >"$T/nolist.json"
expect "'itls' missing or not a list" --point "$T/decode.yaml=$T/nolist.json"
sed 's#meta-llama/Llama-3.1-8B-Instruct#mistralai/Mixtral-8x7B-v0.1#' "$T/decode.json" >"$T/other.json"
expect "model_id 'mistralai/Mixtral-8x7B-v0.1' does not match the configuration's model 'llama-3.1-8b'" \
    --point "$T/decode.yaml=$T/other.json"
sed 's/hardware: h100-x/hardware: h100-sxm/' "$T/decode.yaml" >"$T/othergpu.yaml"
expect "the configuration runs on gpu 'h100-sxm', but the calibration is of 'h100-x'" --point "$T/othergpu.yaml=$T/decode.json"
expect "too few points to fit mbu, iter_overhead_ms: 3 parameters need at least 3 measured runs, got 1" \
    --point "$T/decode.yaml=$T/decode.json"
expect "--fit: unknown parameter 'mfu'" --fit mfu,mbu --point "$T/decode.yaml=$T/decode.json"
"$LLMSWEEP" calibrate --gpu h100-x --catalog "$T/start.yaml" --point "nonsense" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --point: not a usage error"
"$LLMSWEEP" calibrate --help | grep -q "usage: llmsweep calibrate" || fail "--help"
echo ok
