#!/usr/bin/env bash
# run_outputs.sh -- `llmsweep run` outputs: --json is one flat object with every
# schema metric, identical bytes across runs (but wall_time_s); --requests-out
# has one row per request whose statuses add up to the counts; --timeline-out
# is valid trace-event JSON with PP stages; a YAML file and flags agree.
set -u
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/run.yaml" <<'YAML'
model: llama-3-70b
dtype: {weights: bf16, kv: bf16}
hardware: gh200-96gb
cluster: gh200-quad
parallelism: tp4pp2
scheduler:
  policy: vllm-v1
  enable_chunked_prefill: true
  prefill_chunk_size: 4096
  max_batched_tokens: auto
  max_num_seqs: 256
  max_model_len: 8192
  gpu_memory_utilization: 0.9
router: least-outstanding
workload:
  arrival: {process: poisson, rate: 2.0}
  prompt_tokens: {dist: lognormal, mu: 8.7, sigma: 0.17}
  output_tokens: {dist: lognormal, mean: 256, stddev: 128}
  duration_s: 120
seed: 42
slo: {ttft_s: 2.0, tpot_s: 0.2}
YAML
"$LLMSWEEP" run --config "$T/run.yaml" --json --requests-out "$T/req.csv" --timeline-out "$T/tl.json" \
    --timeline-iterations 50 >"$T/a.json" 2>"$T/err" || fail "run: $(cat "$T/err")"
"$LLMSWEEP" run --config "$T/run.yaml" --json >"$T/b.json" 2>"$T/err" || fail "second run: $(cat "$T/err")"
"$LLMSWEEP" run --config "$T/run.yaml" >"$T/summary.txt" 2>"$T/err" || fail "summary: $(cat "$T/err")"
grep -q "TTFT" "$T/summary.txt" && grep -q "(auto)" "$T/summary.txt" || fail "summary content"
"$LLMSWEEP" schema --format json >"$T/schema.json" 2>/dev/null || fail "llmsweep schema --format json"
"$LS_PYTHON" - "$T" <<'PY' || fail "content"
import csv, json, sys
T = sys.argv[1]
a = json.load(open(T + "/a.json"))
b = json.load(open(T + "/b.json"))
# flat object: every value a number, a string or null
assert all(not isinstance(v, (dict, list)) for v in a.values())
for k in ("status", "message", "ttft_p99_s", "tpot_mean_s", "itl_p50_s", "output_tpS".lower(), "throughput_rps",
          "success_rate", "n_completed", "goodput_rps", "max_num_batched_tokens", "kv_blocks", "wall_time_s",
          "capacity_rps", "iterations", "events"):
    assert k in a, k
assert a["status"] == "ok", a["message"]
# exactly the schema's metric names (the /results columns but config_id, config_hash), status and message
schema = json.load(open(T + "/schema.json"))["/results"]
names = [c["name"] for c in schema if c["name"] not in ("config_id", "config_hash")]
assert sorted(a) == sorted(names), set(a) ^ set(names)
assert a["capacity_rps"] is None
assert a["n_gpus"] == 8
# determinism: identical except wall time
a2 = dict(a); b2 = dict(b)
a2.pop("wall_time_s"); b2.pop("wall_time_s")
assert json.dumps(a2) == json.dumps(b2), "runs differ"
# lognormal mu 8.7 sigma 0.17: 3.37% of prompts exceed 8192 -> rejected too long (max_model_len 8192)
frac = a["n_rejected_too_long"] / a["n_requests"]
assert 0.005 < frac < 0.09, frac
# per-request table
rows = list(csv.DictReader(open(T + "/req.csv")))
assert len(rows) == a["n_requests"], (len(rows), a["n_requests"])
assert sorted(int(r["index"]) for r in rows) == list(range(len(rows)))
st = {}
for r in rows:
    st[r["status"]] = st.get(r["status"], 0) + 1
assert st.get("completed", 0) == a["n_completed"]
assert st.get("rejected_too_long", 0) == a["n_rejected_too_long"]
done = [r for r in rows if r["status"] == "completed"]
ttft = sorted(float(r["first_token_s"]) - float(r["arrival_s"]) for r in done)
mean = sum(ttft) / len(ttft)
assert abs(mean - a["ttft_mean_s"]) < 1e-6 * max(1, mean), (mean, a["ttft_mean_s"])
# timeline: trace events, 2 PP stages, at most 50 iterations per stage
tl = json.load(open(T + "/tl.json"))
ev = tl["traceEvents"]
assert ev and all(e["ph"] == "X" for e in ev)
assert {e["tid"] for e in ev} == {0, 1}
assert len(ev) == 2 * 50, len(ev)
PY
# flags instead of a file: the same synthetic workload gives the same result
"$LLMSWEEP" run --model llama-3-70b --hardware gh200-96gb --cluster gh200-quad --tp 4 --pp 2 \
    --prefill-chunk-size 4096 --max-batched-tokens auto --max-num-seqs 256 --max-model-len 8192 \
    --router least-outstanding --rate 2.0 --prompt lognormal:mu=8.7,sigma=0.17 \
    --output lognormal:mean=256,stddev=128 --duration 120 --seed 42 --slo-ttft 2.0 --slo-tpot 0.2 --json \
    >"$T/c.json" 2>"$T/err" || fail "flags: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "flags and file differ"
import json, sys
T = sys.argv[1]
a = json.load(open(T + "/a.json")); c = json.load(open(T + "/c.json"))
a.pop("wall_time_s"); c.pop("wall_time_s")
assert a == c, {k: (a[k], c[k]) for k in a if a[k] != c[k]}
PY
# --set reaches any key
"$LLMSWEEP" run --config "$T/run.yaml" --set scheduler.max_batched_tokens=2048 --set workload.duration_s=30 --json \
    >"$T/d.json" 2>"$T/err" || fail "--set: $(cat "$T/err")"
"$LS_PYTHON" -c "import json,sys; d=json.load(open('$T/d.json')); assert d['max_num_batched_tokens']==2048, d" \
    || fail "--set value not used"
# --requests-out FILE.h5: the sweep's /requests layout plus the run's /results row
"$LLMSWEEP" run --config "$T/run.yaml" --set workload.duration_s=30 --requests-out "$T/req.h5" --json \
    >"$T/e.json" 2>"$T/err" || fail "--requests-out .h5: $(cat "$T/err")"
if "$LS_PYTHON" -c "import h5py" 2>/dev/null; then
    "$LS_PYTHON" - "$T" <<'PY' || fail "HDF5 request table"
import json, sys, h5py
T = sys.argv[1]
d = json.load(open(T + "/e.json"))
f = h5py.File(T + "/req.h5", "r")
r = f["/requests"][:]
assert len(r) == d["n_requests"], (len(r), d["n_requests"])
assert (r["status"] == 0).sum() == d["n_completed"]
res = f["/results"][:]
assert len(res) == 1 and res["n_completed"][0] == d["n_completed"]
PY
fi
# --requests-out output_tokens is the request's own output length, not the capped target:
# with max_model_len 300, a 100-token prompt asking for 500 tokens completes after 200
# (prompt + output <= max_model_len), one asking for 50 gets its 50
printf 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,100,500\n0.5,100,50\n' >"$T/cap.csv"
"$LLMSWEEP" run --model llama-3-8b --hardware h100-sxm --max-model-len 300 --trace "$T/cap.csv" \
    --requests-out "$T/cap_req.csv" --json >"$T/cap.json" 2>"$T/err" || fail "capped run: $(cat "$T/err")"
"$LS_PYTHON" - "$T" <<'PY' || fail "requested vs generated output"
import csv, sys
T = sys.argv[1]
rows = sorted(csv.DictReader(open(T + "/cap_req.csv")), key=lambda r: int(r["index"]))
got = [(r["status"], int(r["output_tokens"]), int(r["generated_tokens"])) for r in rows]
assert got == [("completed", 500, 200), ("completed", 50, 50)], got
PY
echo "run_outputs: ok"
