/* step_overhead.c -- the engine's host time per step (step_overhead.h). */
#include "step_overhead.h"

double ls_step_overhead_s(const ls_deploy *d, const ls_batch_agg *b, double gpu_s)
{
    return ls_step_overhead_at(d->gpu->iter_overhead_s, d->gpu->seq_overhead_s, d->async_scheduling, b->n_seqs,
                               gpu_s);
}
