/* sched_capacity.h -- the admission rule of TensorRT-LLM's capacity scheduler.
 *
 * scheduler.capacity_policy (config key; default max_utilization for every engine profile today):
 *   max_utilization      admit while the next chunk's blocks fit and preempt when decode runs out
 *                        (vLLM's rule, and the closest the scheduler has to TensorRT-LLM's
 *                        MAX_UTILIZATION, which pauses requests when KV runs out).
 *   guaranteed_no_evict  TensorRT-LLM's default (batch_manager/capacityScheduler.cpp,
 *                        GuaranteedNoEvictScheduler): a request is admitted only when the blocks of
 *                        its whole life -- prompt + output -- fit beside the blocks promised to the
 *                        requests already running; a running request therefore never runs out of KV
 *                        and is never preempted. The simulator knows each request's output length,
 *                        which stands for TensorRT-LLM's max_new_tokens.
 * Modelled for policy vllm-v1 without prefix caching, speculative decoding, swap or disaggregation
 * (config refuses the rest). */
#ifndef LS_SCHED_CAPACITY_H
#define LS_SCHED_CAPACITY_H

#include <stdbool.h>
#include <stdint.h>

#include "config_internal.h"
#include "error.h"
#include "yamldoc.h"

typedef enum ls_capacity_policy {
    LS_CAPACITY_MAX_UTILIZATION = 0,
    LS_CAPACITY_GUARANTEED_NO_EVICT
} ls_capacity_policy;

/* Parse scheduler.capacity_policy of `sch` (may be NULL) into s->capacity_policy; refuse the
 * combinations the rule is not modelled for. Call after the policy, prefix caching, swap and
 * speculative settings are known. */
ls_status ls_sched_capacity_parse(const ls_yaml *root, const ls_yaml *sch, ls_sched_config *s, ls_error *e);

/* Blocks of a request's whole life under the rule: ceil((prompt + output - 1) / block_size), the
 * KV it can ever hold (the last token is never fed back). */
int64_t ls_sched_capacity_blocks(int64_t prompt, int64_t output, int block_size);

/* Whether a request whose life needs `need` blocks may be admitted now, with `promised` blocks
 * already promised to running requests and `total` in the pool. */
bool ls_sched_capacity_fits(int64_t promised, int64_t need, int64_t total);

#endif
