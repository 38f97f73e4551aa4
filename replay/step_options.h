/* step_options.h -- how a serving engine's steps follow each other
 * (`scheduler.async_scheduling`, `scheduler.num_scheduler_steps`).
 *
 * vllm-internals.md §3:
 * - V1 async scheduling: the scheduler forms step N+1 while the GPU runs step
 *   N (output placeholders stand for the tokens not yet sampled), so the
 *   engine's CPU time per step (the cost model's overhead_s: scheduling,
 *   input preparation, output processing) hides behind the GPU. Modelled: a
 *   step formed as the previous one leaves the first stage (back to back)
 *   occupies it max(GPU time, overhead) instead of GPU time + overhead; a
 *   step after an idle gap pays both (nothing to hide behind). Requests that
 *   finish are not given the extra step (vLLM checks for it), so the tokens
 *   are those of synchronous scheduling. Not modelled: an arrival during
 *   step N joins at N+2 rather than N+1.
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

struct ls_sched_config;
struct ls_replica;
struct ls_mbatch_info;

#define LS_MAX_SCHEDULER_STEPS 64

/* Reads scheduler.async_scheduling and scheduler.num_scheduler_steps of the
 * `scheduler` map (after the policy; defaults: false, 1); refuses async with
 * a policy other than vllm-v1 and multi-step with one other than vllm-v0
 * (so never both, nor multi-step with speculative decoding, which is
 * vllm-v1 only), with file:line. */
ls_status ls_step_options_parse(const ls_yaml *sch, struct ls_sched_config *s, ls_error *e);

/* The first stage's occupancy of a step whose GPU time there is gpu_s and
 * whose engine overhead is overhead_s: `back_to_back` when the previous step
 * left the stage just now, `in_window` when it runs inside a multi-step
 * window (the scheduler did not run; never without multi-step). */
double ls_step_stage0_s(const struct ls_sched_config *s, double gpu_s, double overhead_s, bool back_to_back,
                        bool in_window);

/* Scheduler hooks (vllm-v0 multi-step): may the step being formed admit
 * waiting requests (a window's first step; a window ends when nothing runs),
 * and, once a micro-batch is formed, mark it (out->in_window) and count the
 * window down. Without multi-step every step may admit and none is in a window. */
bool ls_step_may_admit(struct ls_replica *r);
void ls_step_window_advance(struct ls_replica *r, struct ls_mbatch_info *out);

/* Short text for the /configs column step_mode: "sync", "async" or "multi-step N". */
void ls_step_mode_name(const struct ls_sched_config *s, char *buf, size_t size);

#endif
