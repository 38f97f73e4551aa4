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

/* Seconds the engine adds to a step of batch b whose GPU time (all stages, transfers) is gpu_s. */
double ls_step_overhead_s(const ls_deploy *d, const ls_batch_agg *b, double gpu_s);

#endif
