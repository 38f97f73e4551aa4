#!/usr/bin/env bash
# plan_launch.sh -- the launch commands of `llmsweep plan` (analysis/plan_launch.c) against the
# flags vLLM and SGLang document. Two plans between them make every kind of line plan writes:
# dense and MoE (expert parallelism), aggregated and disaggregated (one line per role), FP4 weights
# with an FP8 KV cache, and speculative decoding by EAGLE, a draft model, MTP and n-gram lookup.
# Every flag of every line must be in the engine's documented list below, every flag of the list
# must occur (so a flag the generator stops writing fails too), the JSON of --speculative-config and
# --kv-transfer-config must parse with documented keys and values, and each line must say what its
# /configs row says (sizes, speculative method and k, draft model), read back from the file.
. "$(dirname "$0")/sweep_lib.bash"
"$PY" -c "import h5py" 2>/dev/null || { echo "plan_launch: no h5py, skipped"; exit 77; }
P="$LLMSWEEP plan --hardware b200 --gpus 2 --isl 256 --osl 16 --duration 5 --rate 4 --slo ttft_p99=2s,tpot_p99=100ms --top 20 -q"
$P --model llama-3-8b --dtype fp4 --modes agg,disagg --speculative off --speculative eagle:k=3,acceptance=0.7 \
    --speculative draft:model=llama-3.2-1b,k=4,acceptance=0.8/0.7/0.6/0.5 -o "$T/a.h5" >"$T/a.txt" 2>"$T/a.err" ||
    { cat "$T/a.err"; fail "plan (dense, disagg, speculative)"; }
$P --model qwen3-30b-a3b --speculative off --speculative mtp:k=1,acceptance=0.8 --speculative ngram:k=3,acceptance=0.4 \
    -o "$T/b.h5" >"$T/b.txt" 2>"$T/b.err" || { cat "$T/b.err"; fail "plan (MoE, speculative)"; }

"$PY" - "$T/a.h5" "$T/a.txt" "$T/b.h5" "$T/b.txt" <<'PY' || fail "launch commands"
import sys, re, json, shlex, h5py

# vLLM's `vllm serve` engine arguments that plan may write. Source: vLLM documentation, "Engine
# Arguments" (https://docs.vllm.ai/en/stable/configuration/engine_args.html) and
# vllm/engine/arg_utils.py (EngineArgs.add_cli_args), vLLM 0.10-0.11; the speculative_config keys
# and methods from vllm/config/speculative.py (SpeculativeConfig, SpeculativeMethod), the
# kv_transfer_config keys from vllm/config/kv_transfer.py (KVTransferConfig). Transcribed from
# those pages and sources as remembered, not fetched (this machine has no network).
VLLM = {"--tensor-parallel-size", "--pipeline-parallel-size", "--data-parallel-size",
        "--enable-expert-parallel", "--max-num-batched-tokens", "--max-num-seqs",
        "--gpu-memory-utilization", "--max-model-len", "--quantization", "--kv-cache-dtype",
        "--kv-transfer-config", "--speculative-config"}
VLLM_QUANT = {"fp8", "modelopt_fp4", "mxfp4", "awq"}          # of QuantizationMethods
VLLM_KV_DTYPE = {"auto", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2"}
VLLM_SPEC_KEYS = {"method", "model", "num_speculative_tokens"}  # of SpeculativeConfig's fields
VLLM_SPEC_METHODS = {"ngram", "eagle", "eagle3", "medusa", "mlp_speculator", "draft_model",
                     "deepseek_mtp", "mtp"}
VLLM_KV_ROLES = {"kv_producer", "kv_consumer", "kv_both"}

# SGLang's `python -m sglang.launch_server` server arguments that plan may write. Source: SGLang
# documentation, "Server Arguments" (https://docs.sglang.ai/advanced_features/server_arguments.html)
# and python/sglang/srt/server_args.py (ServerArgs.add_cli_args), SGLang 0.5. Transcribed as
# remembered, not fetched (no network here).
SGLANG = {"--model-path", "--tp-size", "--pp-size", "--dp-size", "--ep-size", "--enable-dp-attention",
          "--chunked-prefill-size", "--max-running-requests", "--mem-fraction-static", "--context-length",
          "--quantization", "--kv-cache-dtype", "--disaggregation-mode", "--disaggregation-transfer-backend",
          "--speculative-algorithm", "--speculative-draft-model-path", "--speculative-num-steps",
          "--speculative-eagle-topk", "--speculative-num-draft-tokens"}
SGLANG_QUANT = {"fp8", "modelopt_fp4", "mxfp4", "awq"}
SGLANG_KV_DTYPE = {"auto", "fp8_e5m2", "fp8_e4m3"}
SGLANG_DISAGG = {"null", "prefill", "decode"}
SGLANG_BACKENDS = {"mooncake", "nixl"}
SGLANG_ALGOS = {"EAGLE", "EAGLE3", "NEXTN", "STANDALONE", "NGRAM"}

VLLM_METHOD = {"eagle": "eagle", "draft": "draft_model", "mtp": "mtp", "ngram": "ngram"}
SGLANG_ALGO = {"eagle": "EAGLE", "draft": "STANDALONE", "mtp": "EAGLE", "ngram": "NGRAM"}

def flags(tokens):
    """{flag: value or None} of one command's tokens after the program."""
    out, i = {}, 0
    while i < len(tokens):
        t = tokens[i]
        assert t.startswith("--"), ("not a flag", t, tokens)
        if i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
            out[t] = tokens[i + 1]; i += 2
        else:
            out[t] = None; i += 1
    return out

seen_v, seen_s, kinds = set(), set(), set()
for h5, txt in zip(sys.argv[1::2], sys.argv[2::2]):
    cfg = {int(x["config_id"]): x for x in h5py.File(h5, "r")["/configs"][:]}
    lines = open(txt).read().splitlines()
    ids = [int(m.group(1)) for l in lines if (m := re.match(r"^ +\d+ +(\d+) ", l))]
    vl = [l.split(". ", 1)[1] for l in lines if re.match(r"^  \d+\. ", l)]
    sl = [l.split("sglang: ", 1)[1] for l in lines if l.startswith("     sglang: ")]
    assert ids and len(ids) == len(vl) == len(sl), (len(ids), len(vl), len(sl))
    for cid, v, s in zip(ids, vl, sl):
        c = cfg[cid]
        par, spec = c["parallelism"].decode(), c["speculative"].decode()
        m = re.fullmatch(r"(\d+)P-tp(\d+)\+(\d+)D-tp(\d+)", par)
        roles = [("prefill", int(m.group(2))), ("decode", int(m.group(4)))] if m else [(None, int(c["tp"]))]
        vparts, sparts = v.split("  |  "), s.split("  |  ")
        assert len(vparts) == len(sparts) == len(roles), (par, v, s)
        sm = re.match(r"(\w+) k(\d+)", spec)
        method, k = (sm.group(1), int(sm.group(2))) if sm else (None, 0)
        ep = int(re.search(r"ep(\d+)", par).group(1)) if "ep" in par else 1
        kinds.add((bool(m), method, ep > 1))
        for (role, tp), vp, sp in zip(roles, vparts, sparts):
            if role:
                assert vp.startswith(f"{role} x") and sp.startswith(f"{role} x"), (vp, sp)
                vp, sp = vp.split(": ", 1)[1], sp.split(": ", 1)[1]
            # vLLM
            t = shlex.split(vp)
            assert t[:3] == ["vllm", "serve", c["model"].decode()], t[:3]
            f = flags(t[3:])
            bad = set(f) - VLLM
            assert not bad, ("not documented vLLM flags", bad, vp)
            seen_v |= set(f)
            assert int(f["--tensor-parallel-size"]) == tp, (vp, tp)
            if not role:
                assert int(f["--pipeline-parallel-size"]) == int(c["pp"]) and int(f["--data-parallel-size"]) == int(c["dp"]), vp
            assert ("--enable-expert-parallel" in f) == (ep > 1), vp
            assert int(f["--max-num-seqs"]) == int(c["max_num_seqs"]) and int(f["--max-model-len"]) == int(c["max_model_len"]), vp
            if "--quantization" in f: assert f["--quantization"] in VLLM_QUANT, vp
            if "--kv-cache-dtype" in f:
                assert f["--kv-cache-dtype"] in VLLM_KV_DTYPE and c["dtype_kv"] == b"fp8", vp
            if role:
                kt = json.loads(f["--kv-transfer-config"])
                assert set(kt) == {"kv_connector", "kv_role"} and kt["kv_role"] in VLLM_KV_ROLES, kt
            assert ("--speculative-config" in f) == (method is not None), (spec, vp)
            if method:
                j = json.loads(f["--speculative-config"])
                assert set(j) <= VLLM_SPEC_KEYS, j
                assert j["method"] in VLLM_SPEC_METHODS and j["method"] == VLLM_METHOD[method], (j, spec)
                assert j["num_speculative_tokens"] == k, (j, spec)
                assert ("model" in j) == (method in ("eagle", "draft")), j
                if method == "draft":
                    assert j["model"] == spec.split()[-1], (j, spec)
            # SGLang
            t = shlex.split(sp)
            assert t[:3] == ["python", "-m", "sglang.launch_server"], t[:3]
            f = flags(t[3:])
            bad = set(f) - SGLANG
            assert not bad, ("not documented SGLang flags", bad, sp)
            seen_s |= set(f)
            assert f["--model-path"] == c["model"].decode(), sp
            assert int(f["--tp-size"]) == (tp * int(c["dp"]) if ep > 1 else tp), (sp, tp)
            assert int(f["--max-running-requests"]) == int(c["max_num_seqs"]), sp
            assert ("--ep-size" in f) == (ep > 1) and ("--enable-dp-attention" in f) == (ep > 1), sp
            if ep > 1: assert int(f["--ep-size"]) == ep, sp
            if "--quantization" in f: assert f["--quantization"] in SGLANG_QUANT, sp
            if "--kv-cache-dtype" in f: assert f["--kv-cache-dtype"] in SGLANG_KV_DTYPE, sp
            assert f.get("--disaggregation-mode") == role, sp
            if role: assert f["--disaggregation-transfer-backend"] in SGLANG_BACKENDS, sp
            assert f.get("--speculative-algorithm") == (SGLANG_ALGO[method] if method else None), (spec, sp)
            if method:
                assert f["--speculative-algorithm"] in SGLANG_ALGOS, sp
                assert int(f["--speculative-num-draft-tokens"]) == k + 1, sp
                if method != "ngram": assert int(f["--speculative-num-steps"]) == k, sp
                if method == "draft": assert f["--speculative-draft-model-path"] == spec.split()[-1], sp
# every documented flag plan may write was written, and every kind of deployment was seen
assert seen_v == VLLM, ("vLLM flags never written", VLLM - seen_v)
assert seen_s == SGLANG, ("SGLang flags never written", SGLANG - seen_s)
for want in [(True, None, False), (False, "eagle", False), (False, "draft", False), (False, "mtp", True),
             (False, "ngram", False), (False, None, True)]:
    assert any(x[:2] == want[:2] and (x[2] or not want[2]) for x in kinds), ("no line of", want, kinds)
print("launch lines checked:", len(kinds), "kinds")
PY
echo "plan_launch: ok"
