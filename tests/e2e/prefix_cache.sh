#!/usr/bin/env bash
# prefix_cache.sh -- automatic prefix caching on the Mooncake conversation trace
# (12,031 requests with hash_ids), through the real command line:
#  - with an unbounded cache the simulated prefix_hit_rate equals the ideal hit
#    rate computed here, independently of the engine, from the trace's own
#    hash_ids (to 0.1 percentage point; block sizes 16 and 64);
#  - with a bounded cache the hit rate falls as the KV capacity shrinks;
#  - the native format carries the hash ids (a converted excerpt gives the same rate);
#  - off by default (the metrics are null); bad settings fail with file:line.
# Skips when the shared traces are absent.
. "$(dirname "$0")/config_lib.bash"

# Shared system prompts (workload.shared_prefix): 100 requests of 1000 tokens behind one of 2 system
# prompts of 1024 tokens = two 512-token hash blocks. Every request but the first of each system prompt
# hits those 1024 tokens: (100 - 2) x 1024 / (100 x 2024) = 0.495810 (when both prompts occur).
printf '%s\n' "model: llama-3.1-8b" "hardware: h100-sxm" "scheduler: {enable_prefix_caching: true}" "workload:" \
    "  arrival: {process: poisson, rate: 2}" "  prompt_tokens: {dist: fixed, value: 1000}" \
    "  output_tokens: {dist: fixed, value: 10}" "  shared_prefix: {prompts: 2, tokens: 1024}" \
    "  max_requests: 100" >"$T/sp.yaml"
"$LLMSWEEP" run --config "$T/sp.yaml" --json >"$T/sp.json" 2>"$T/err" || fail "shared_prefix: $(cat "$T/err")"
"$LS_PYTHON" - "$T/sp.json" <<'PY' || fail "shared_prefix content"
import json, sys
d = json.load(open(sys.argv[1]))
want = 98 * 1024 / (100 * 2024)
print("shared_prefix: simulated %.6f, expected %.6f" % (d["prefix_hit_rate"], want))
assert abs(d["prefix_hit_rate"] - want) < 1e-9 and d["n_completed"] == 100
PY
# Multi-turn sessions (workload.sessions): 3 sessions (constant arrivals every 1000 s for 2500 s) of 3
# turns, 600 new tokens and a 100-token answer a turn, think time 100 s (a turn's prompt is registered
# long before the next turn arrives; the sessions do not overlap and end inside the window). Turn k's prompt is the history: 600, 1300, 2000 tokens. Only prompt blocks are registered
# (answers are not hashed), so turn 2 hits turn 1's full block (512 tokens) and turn 3 turn 2's two
# full blocks (1024): (0 + 512 + 1024) / (600 + 1300 + 2000) = 0.393846 in every session.
printf '%s\n' "model: llama-3.1-8b" "hardware: h100-sxm" "scheduler: {enable_prefix_caching: true}" "workload:" \
    "  arrival: {process: constant, rate: 0.001}" "  prompt_tokens: {dist: fixed, value: 600}" \
    "  output_tokens: {dist: fixed, value: 100}" "  sessions: {turns: 3, think_s: 100}" \
    "  duration_s: 2500" "drain: true" >"$T/ses.yaml"
"$LLMSWEEP" run --config "$T/ses.yaml" --json >"$T/ses.json" 2>"$T/err" || fail "sessions: $(cat "$T/err")"
"$LS_PYTHON" - "$T/ses.json" <<'PY' || fail "sessions content"
import json, sys
d = json.load(open(sys.argv[1]))
want = (512 + 1024) / (600 + 1300 + 2000)
print("sessions: simulated %.6f, expected %.6f" % (d["prefix_hit_rate"], want))
assert abs(d["prefix_hit_rate"] - want) < 1e-9 and d["n_completed"] == 9, d
PY
bad sesbad "sesbad.yaml:4: workload.sessions: only for synthetic workloads" \
    "model: llama-3.1-8b" "scheduler: {enable_prefix_caching: true}" "workload:" \
    "  sessions: {turns: 2, think_s: 5}" "  trace: $T/sp.yaml"
printf '%s\n' "model: llama-3.1-8b" "workload:" "  arrival: {process: poisson, rate: 2}" \
    "  prompt_tokens: {dist: fixed, value: 10}" "  output_tokens: {dist: fixed, value: 10}" \
    "  shared_prefix: {prompts: 0, tokens: 100}" "  max_requests: 5" >"$T/spbad.yaml"
if "$LLMSWEEP" run --config "$T/spbad.yaml" >/dev/null 2>"$T/err"; then fail "shared_prefix prompts 0 accepted"; fi
grep -q "spbad.yaml:6: workload.shared_prefix.prompts: expected an integer >= 1" "$T/err" || fail "spbad: $(cat "$T/err")"

printf 'arrival_s,prompt_tokens,output_tokens,hash_ids\n0,600,5,1 2\n1,600,5,1\n' >"$T/short.csv"
# bad settings: file:line and what is expected
bad pol "pol.yaml:4: scheduler.enable_prefix_caching: needs scheduler.policy vllm-v1" \
    "model: llama-3.1-8b" "scheduler:" "  policy: sarathi" "  enable_prefix_caching: true" \
    "workload: {trace: $T/short.csv}"
bad bsz "bsz.yaml:4: scheduler.enable_prefix_caching: block_size 48 does not map" \
    "model: llama-3.1-8b" "scheduler:" "  block_size: 48" "  enable_prefix_caching: true" \
    "workload: {trace: $T/short.csv}"
bad typ "typ.yaml:3: scheduler.enable_prefix_caching" \
    "model: llama-3.1-8b" "scheduler:" "  enable_prefix_caching: sometimes" "workload: {trace: $T/short.csv}"
# hash ids that do not match the prompt: the trace's file:line
bad short "short.csv:3: column 4 (hash_ids): 1 hash ids for 600 prompt tokens: expected ceil(prompt_tokens/512) = 2" \
    "model: llama-3.1-8b" "scheduler: {enable_prefix_caching: true}" "workload: {trace: $T/short.csv}"

TR="${LS_SHARED_TRACES:-}/mooncake_conversation_trace.jsonl.gz"
[ -f "$TR" ] || { echo "prefix_cache: trace part skipped (no $TR)"; exit 0; }

# One replica (a cache is per replica), everything drained, `blocks` KV blocks.
cfg() { # name block_size blocks [trace]
    cat >"$T/$1.yaml" <<EOF
model: llama-3.1-8b
hardware: h100-sxm
parallelism: tp1
scheduler:
  enable_prefix_caching: true
  block_size: $2
  num_kv_blocks: $3
workload:
  trace: ${4:-$TR}
drain: true
EOF
}
run() { # name
    "$LLMSWEEP" run --config "$T/$1.yaml" --json >"$T/$1.json" 2>"$T/err" || fail "$1: $(cat "$T/err")"
}

cfg unb16 16 1000000000; run unb16
# four replicas, one cache each: routers compared (unbounded caches)
for rt in round-robin prefix-aware; do
    sed -e 's/^parallelism: tp1$/parallelism: tp1dp4/' "$T/unb16.yaml" >"$T/dp4-$rt.yaml"
    echo "router: $rt" >>"$T/dp4-$rt.yaml"
    run dp4-$rt
done
cfg unb64 64 1000000000; run unb64
for b in 300000 100000 25000; do cfg b$b 16 $b; run b$b; done
"$LLMSWEEP" run --model llama-3.1-8b --hardware h100-sxm --trace "$TR" --json >"$T/off.json" 2>"$T/err" \
    || fail "off: $(cat "$T/err")"
# the native format keeps the hash ids
"$LLMSWEEP" trace convert "$TR" "$T/ex.csv" --max-requests 2000 >/dev/null 2>"$T/err" || fail "convert: $(cat "$T/err")"
cfg nat 16 1000000000 "$T/ex.csv"; run nat
zcat "$TR" | head -n 2000 >"$T/ex.jsonl"
cfg moon 16 1000000000 "$T/ex.jsonl"; run moon

"$LS_PYTHON" - "$T" "$TR" <<'PY' || fail "content"
import gzip, json, sys
T, TR = sys.argv[1], sys.argv[2]
def load(n):
    return json.load(open(f"{T}/{n}.json"))

def ideal(path, bs, limit=None):
    """vLLM V1's rules on the trace's own hash ids: a request hits the longest chain of
    512-token hash blocks that an earlier request had, in whole engine blocks, never its
    last token; an unbounded cache keeps everything."""
    chain, q, h = {}, 0, 0                 # (parent block, hash id) -> block number
    op = gzip.open if path.endswith(".gz") else open
    for n, line in enumerate(op(path, "rt")):
        if limit is not None and n >= limit:
            break
        o = json.loads(line)
        L, ids = o["input_length"], o["hash_ids"]
        assert len(ids) == (L + 511) // 512
        parent, k = -1, 0
        for x in ids:                      # the chain: a block is named by its whole prefix
            if (parent, x) not in chain:
                break
            parent = chain[(parent, x)]
            k += 1
        parent = -1
        for x in ids:
            parent = chain.setdefault((parent, x), len(chain))
        hit = min(k * 512, L) // bs * bs   # full engine blocks only
        h += min(hit, (L - 1) // bs * bs)  # the last token is always recomputed
        q += L
    return h / q

for name, bs in (("unb16", 16), ("unb64", 64)):
    d = load(name)
    want = ideal(TR, bs)
    got = d["prefix_hit_rate"]
    print(f"block {bs}: simulated {got:.6f}, ideal from hash_ids {want:.6f}")
    assert d["status"] == "ok" and d["n_completed"] == 12031, d
    assert abs(got - want) < 0.001, (name, got, want)
    assert d["prefix_evicted_blocks"] == 0
    assert abs(d["prefix_cached_tokens_mean"] - got * 144793823 / 12031) < 1.0

# prefix-aware routing keeps conversations on the replica that holds them
rr, pa = (load(f"dp4-{r}") for r in ("round-robin", "prefix-aware"))
print("dp4 hit rates: round-robin %.4f, prefix-aware %.4f" % (rr["prefix_hit_rate"], pa["prefix_hit_rate"]))
assert pa["prefix_hit_rate"] > rr["prefix_hit_rate"] + 0.1
assert pa["prefix_hit_rate"] <= load("unb16")["prefix_hit_rate"] + 1e-9  # one shared cache is the bound
assert pa["ttft_mean_s"] < rr["ttft_mean_s"] and pa["n_completed"] == 12031

rates = [load(f"b{b}")["prefix_hit_rate"] for b in (300000, 100000, 25000)]
ev = [load(f"b{b}")["prefix_evicted_blocks"] for b in (300000, 100000, 25000)]
print("bounded:", rates, ev)
assert load("unb16")["prefix_hit_rate"] > rates[0]
assert all(a > b for a, b in zip(rates, rates[1:])), rates
assert all(a < b for a, b in zip(ev, ev[1:])), ev

off = load("off")
assert off["prefix_hit_rate"] is None and off["prefix_evicted_blocks"] is None

nat, moon = load("nat"), load("moon")
assert nat["prefix_hit_rate"] == moon["prefix_hit_rate"], (nat["prefix_hit_rate"], moon["prefix_hit_rate"])
assert abs(moon["prefix_hit_rate"] - ideal(f"{T}/ex.jsonl", 16)) < 0.001
PY

echo "prefix_cache: ok"
