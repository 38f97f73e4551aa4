#!/usr/bin/env bash
# run_direct_steps.sh -- the engine's queue-free stepping gives the same results as the event queue.
# Decode and chunk steps of one stage (done_direct) and every step of a pipeline of one replica
# (pp_direct, replay/engine.c) run without the event queue; a timeline (--timeline-out) turns both
# off, so the same configuration is run with and without one: every metric of `run --json` (but
# wall_time_s) and every request's row of `--requests-out FILE.h5` (doubles, to the bit) must be equal.
# PP 1, 2 and 4, every policy, small KV caches (preemption, blocked formations), timeouts without drain.
. "$(dirname "$0")/config_lib.bash"
PY=${LS_PYTHON:-/usr/bin/python3}
"$PY" -c "import h5py" 2>/dev/null || { echo "SKIP: no h5py"; exit 77; }
W='workload: {arrival: {process: poisson, rate: RATE}, prompt_tokens: {dist: lognormal, mean: 1155, stddev: 1000},
           output_tokens: {dist: lognormal, mean: 211, stddev: 180}, max_requests: 800}'
n=0
same() {  # same NAME PARALLELISM SCHEDULER RATE [EXTRA]
    n=$((n + 1))
    printf 'model: llama-3.1-8b\nhardware: h100-sxm\ncluster: dgx-h100\nparallelism: %s\nscheduler: %s\n%s\n%s\n' \
        "$2" "$3" "${W/RATE/$4}" "${5:-}" >"$T/c$n.yaml"
    "$LLMSWEEP" run --config "$T/c$n.yaml" --json --requests-out "$T/a$n.h5" >"$T/a$n.json" 2>"$T/err" ||
        fail "$1: $(cat "$T/err")"
    "$LLMSWEEP" run --config "$T/c$n.yaml" --json --requests-out "$T/b$n.h5" --timeline-out "$T/tl$n.json" \
        --timeline-iterations 1 >"$T/b$n.json" 2>"$T/err" || fail "$1 (timeline): $(cat "$T/err")"
    "$PY" - "$T/a$n.json" "$T/b$n.json" "$T/a$n.h5" "$T/b$n.h5" <<'PY' || fail "$1: the queue-free steps differ"
import json, sys
import h5py, numpy as np
a, b = (json.load(open(p)) for p in sys.argv[1:3])
d = [k for k in a if k != "wall_time_s" and a[k] != b.get(k)]
assert a["n_completed"] > 0, "nothing completed"
if d:
    sys.exit("metrics differ: %s" % d[:5])
x, y = (h5py.File(p, "r")["/requests"][:] for p in sys.argv[3:5])
if x.shape != y.shape or len(x) == 0:
    sys.exit("requests: %d rows against %d" % (len(x), len(y)))
for c in x.dtype.names:
    eq = np.array_equal(x[c], y[c], equal_nan=True) if x[c].dtype.kind == "f" else np.array_equal(x[c], y[c])
    if not eq:
        sys.exit("requests: column %s differs" % c)
PY
    echo "same: $1 ($(grep -o '"n_preemptions": [0-9]*' "$T/a$n.json"))"
}
same "pp1 vllm-v1" tp1 '{policy: vllm-v1}' 20
same "pp1 sarathi" tp1 '{policy: sarathi, max_batched_tokens: 512}' 20
same "pp2 vllm-v1" tp1pp2 '{policy: vllm-v1}' 20
same "pp2 vllm-v1 small KV" tp1pp2 '{policy: vllm-v1, num_kv_blocks: 400}' 20
same "pp4 vllm-v1 chunk 256, few seqs" tp1pp4 '{policy: vllm-v1, prefill_chunk_size: 256, max_num_seqs: 16}' 30
same "pp2 sarathi small KV" tp2pp2 '{policy: sarathi, max_batched_tokens: 512, num_kv_blocks: 400}' 20
same "pp2 vllm-v0" tp1pp2 '{policy: vllm-v0}' 20
same "pp2 timeouts, no drain" tp1pp2 '{policy: vllm-v1, max_num_seqs: 16}' 40 'timeout_s: 5
drain: false'
grep -q '"n_preemptions": [1-9]' "$T"/a4.json || fail "the small cache preempted nothing"
echo "run_direct_steps: all $n configurations the same"
