/* step_overhead.c -- the engine's host time per step (step_overhead.h). */
#include <assert.h>

#include "step_overhead.h"

double ls_step_overhead_s(const ls_deploy *d, const ls_batch_agg *b, double gpu_s)
{
    const ls_gpu *g = d->gpu;
    assert(b->n_seqs >= 0 && gpu_s >= 0);
    double per_seq = g->seq_overhead_s * (double)b->n_seqs;
    if (d->async_scheduling)
        per_seq = per_seq > gpu_s ? per_seq - gpu_s : 0.0;
    return g->iter_overhead_s + per_seq;
}
