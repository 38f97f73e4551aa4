/* step_overhead.h -- the serving engine's host time of one step (scheduling, input preparation,
 * sampling and output processing) beside the GPU's forward pass.
 *
 *   host  = iter_overhead + seq_overhead x n_seqs       (GPU keys iter_overhead_ms, seq_overhead_us)
 *   added = host                                        without async scheduling
 *   added = iter_overhead + max(0, seq_overhead x n_seqs - gpu)
 *                                                       with it (d->async_scheduling, step_options.h: the
 *                                                       per-sequence host work of step N+1 runs while
 *                                                       step N is on the GPU; vLLM V1's default)
 *
 * iter_overhead stays whole in both cases: it was fitted as a per-step cost of TensorRT-LLM runs and also
 * stands for the GPU-side sampling and launch gaps no overlap hides. Sources and defaults: docs/FIDELITY.md,
 * "Per-step engine overhead".
 */
#ifndef LS_STEP_OVERHEAD_H
#define LS_STEP_OVERHEAD_H

#include "cost.h"

#include <assert.h>

/* Seconds the engine adds to a step of batch b whose GPU time (all stages, transfers) is gpu_s. */
double ls_step_overhead_s(const ls_deploy *d, const ls_batch_agg *b, double gpu_s);

/* The same from the GPU's iter_overhead_s and seq_overhead_s and d->async_scheduling (inline, for the
 * cost model's hot path). */
static inline double ls_step_overhead_at(double iter_s, double seq_s, bool async, int64_t n_seqs, double gpu_s)
{
    assert(n_seqs >= 0 && gpu_s >= 0);
    double per_seq = seq_s * (double)n_seqs;
    if (async)
        per_seq = per_seq > gpu_s ? per_seq - gpu_s : 0.0;
    return iter_s + per_seq;
}

#endif
