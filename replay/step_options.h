/* step_options.h -- how a serving engine's steps follow each other
 * (`scheduler.async_scheduling`, `scheduler.num_scheduler_steps`).
 *
 * vllm-internals.md s3:
 * - V1 async scheduling: the scheduler forms step N+1 while the GPU runs step
 *   N (output placeholders stand for the tokens not yet sampled), so the
 *   host's per-sequence work of a step (the GPU key seq_overhead_us:
 *   scheduling bookkeeping, input preparation, output processing) hides
 *   behind the GPU step while shorter (step_overhead.h); the fixed
 *   iter_overhead_ms, which also stands for GPU-side sampling and launch
 *   gaps, is paid by every step. One setting: the engine profile gives the
 *   default (engine_profile.h: vllm-v1 on, trtllm and sglang off, vllm-v0
 *   has none), `scheduler.async_scheduling` overrides it; true is refused
 *   under an engine without it and under a policy other than vllm-v1, and
 *   the default is off under such a policy. The resolved value is
 *   ls_sched_config.async_scheduling, copied to ls_deploy for the cost
 *   model, and the /configs column step_mode says it.
 * - V0 multi-step scheduling (`--num-scheduler-steps N`, removed in
 *   Aug 2025): the scheduler runs once per window of N steps and the window
 *   reuses its batch, so new requests join only at a window's first step
 *   (a prefill step then opens the window, its decodes follow), and the
 *   CPU overhead is paid once per window. Modelled with policy vllm-v0:
 *   admission only at a window's first step; overhead on that step only.
 *   Not modelled: sequences that finish inside a window leave at once (vLLM
 *   kept computing them to the boundary), and the N-1 lookahead KV slots.
 *   A window ends early when nothing runs (so a request arriving at an idle
 *   replica is not held back).
 */
#ifndef LS_STEP_OPTIONS_H
#define LS_STEP_OPTIONS_H

#include <stdbool.h>

#include "error.h"
#include "yamldoc.h"

struct ls_engine_profile;
struct ls_sched_config;
struct ls_replica;
struct ls_mbatch_info;

#define LS_MAX_SCHEDULER_STEPS 64

/* Resolves async scheduling and reads scheduler.num_scheduler_steps (default
 * 1) of the configuration `root` (after the policy), for engine `eng`:
 * async is the engine's default (off under a policy other than vllm-v1) unless
 * scheduler.async_scheduling says otherwise; true is refused under an engine
 * without async scheduling (vllm-v0) and with a policy other than vllm-v1,
 * multi-step with a policy other than vllm-v0 (so never both, nor multi-step
 * with speculative decoding, which is vllm-v1 only), with file:line. */
ls_status ls_step_options_parse(const ls_yaml *root, const struct ls_engine_profile *eng,
                                struct ls_sched_config *s, ls_error *e);

/* The first stage's occupancy of a step whose GPU time there is gpu_s and
 * whose engine overhead is overhead_s (the cost model's, async scheduling
 * already applied): `in_window` when it runs inside a multi-step window (the
 * scheduler did not run; never without multi-step). */
static inline double ls_step_stage0_s(double gpu_s, double overhead_s, bool in_window)
{
    return in_window ? gpu_s  /* inside a multi-step window: scheduled once, at its start */
                     : gpu_s + overhead_s;
}

/* Scheduler hooks (vllm-v0 multi-step): may the step being formed admit
 * waiting requests (a window's first step; a window ends when nothing runs),
 * and, once a micro-batch is formed, mark it (out->in_window) and count the
 * window down. Without multi-step every step may admit and none is in a window. */
bool ls_step_may_admit(struct ls_replica *r);
void ls_step_window_advance(struct ls_replica *r, struct ls_mbatch_info *out);

/* Short text for the /configs column step_mode: "sync", "async" or "multi-step N". */
void ls_step_mode_name(const struct ls_sched_config *s, char *buf, size_t size);

#endif
