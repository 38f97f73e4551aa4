#!/usr/bin/env bash
# plan.sh [BUILD_DIR] -- the speed targets of `llmsweep plan` (issue 16; docs/PLAN.md, "Speed"):
#   a) the README example, all phases (candidates, pruning, sweep, sensitivity, answer), with
#      `mpirun -np 2`: qwen3-32b on up to 16 H200, the 2,000-request Azure conversation excerpt;
#      target under 30 s on a 2-core machine;
#   b) a plan over >= 10,000 trace-driven configurations with 10,000 requests each, `mpirun -np 2`:
#      target under 60 s. Llama-3.1-70B on B200 and H200, up to 32 GPUs, 3 dtypes x 3 max_num_seqs
#      x 2 budgets, at 100 req/s: 2,582 deployments kept of 4,320 (192 pruned by memory, 826 by
#      bound, 720 invalid), x 4 loads = 10,328 configurations, every one replayed whole. The trace
#      is synthesized here (10,039 requests over 500 s, prompts LogNormal(7, 0.6) ~1,300 tokens,
#      outputs LogNormal(5.2, 0.5) ~200 tokens, seed 5).
#      Measured (docs/PLAN.md "Speed"): 278.5 s wall / 477.6 s CPU at b684ffe (quiet VM); 174.5 s /
#      313.3 s, ranks balanced 156/154 s, with the rank balance and the capacity floor (target/16,
#      plan's default) on the VM shared with one other session (2026-12-07); on the quiet VM 135.2 s /
#      264.4 s at 7980605, 121.7 s / 237.0 s at 826d408, 88.5 s / 174.1 s at 1c206d3;
#      76.6 s / 150.9 s at 3751d4a; 50.7 s / 99.3 s with the capacity floor at the plan's lowest load
#      (target/2, the default since 2026-12-07 15:40): target met; 46.4 s / 88.6 s at 16:51 with the
#      built-in catalog copied from its build-time image.
# Prints, for each: wall time and CPU time (user+sys of every rank, from /usr/bin/time on mpirun,
# which waits for its ranks), the CPU time of each rank (the sweep's own getrusage line), and what
# was simulated: listed configurations replayed, capacity searches and their probes (simulated,
# stopped early once the SLO was certainly missed, taken from listed runs). On a shared machine the
# CPU time per rank is the figure to compare: with 2 ranks on 2 free cores the wall time is about
# the larger of the two. Run by hand, never in tests (bench/README.md).
# As root: OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 (or MPIRUN_FLAGS=--allow-run-as-root).
# Only one part: PARTS=a or PARTS=b.
set -euo pipefail
B=${1:-build}
L=$B/llmsweep
D=${LS_BENCH_DIR:-/tmp/llmsweep-bench-plan}
PARTS=${PARTS:-ab}
mkdir -p "$D"
MPI="mpirun ${MPIRUN_FLAGS:-} -np 2"
T="/usr/bin/time -f %e_s_wall_%U_s_user_%S_s_sys"
show() { grep -E "^plan:|^llmsweep: (simulated|CPU)|wall" "$1"; }
if [[ $PARTS == *a* ]]; then
    echo "== a) README example: qwen3-32b, up to 16 H200, azure-conv-excerpt (2,000 requests)"
    $T $MPI "$L" plan --model qwen3-32b --hardware h200 --gpus 16 --trace traces/azure-conv-excerpt.csv.gz \
        --slo ttft_p99=2s,tpot_p99=50ms -o "$D/readme.h5" --force >"$D/readme.txt" 2>"$D/readme.err" ||
        { cat "$D/readme.err"; exit 1; }
    show "$D/readme.err"
fi
if [[ $PARTS == *b* ]]; then
    [ -s "$D/t10k.csv.gz" ] || "$L" trace synth -o "$D/t10k.csv.gz" --rate 20 --duration 500 \
        --prompt lognormal:mu=7,sigma=0.6 --output lognormal:mu=5.2,sigma=0.5 --seed 5 >/dev/null
    echo "== b) llama-3.1-70b, B200 and H200, up to 32 GPUs, 3 dtypes x 3 max_num_seqs x 2 budgets, 10,039 requests at 100 req/s"
    $T $MPI "$L" plan --model llama-3.1-70b --hardware b200 --hardware h200 --gpus 32 --trace "$D/t10k.csv.gz" \
        --rate 100 --dtype bf16,fp8,fp4 --max-num-seqs 128,256,512 --max-batched-tokens auto,8192 \
        --slo ttft_p99=2s,tpot_p99=50ms -o "$D/big.h5" --force >"$D/big.txt" 2>"$D/big.err" ||
        { [ $? -eq 3 ] || { cat "$D/big.err"; exit 1; }; }
    show "$D/big.err"
    head -4 "$D/big.txt"
fi
