/* budget.h -- `max_num_batched_tokens: auto`.
 *
 * The rule: the largest token budget whose mixed iteration -- one full
 * prefill chunk plus the typical decode batch at a typical context -- stays
 * under a target time between tokens, computed from the cost model. Long
 * iterations stall every running decode (they all wait for the chunk), so
 * the target is the decode latency the user accepts; the budget then spends
 * the rest of that time on prefill. See docs/CONFIG.md for the exact rule.
 */
#ifndef LS_BUDGET_H
#define LS_BUDGET_H

#include <stdint.h>

#include "cost.h"

typedef struct ls_budget_params {
    double target_tbt_s;      /* target time between tokens of a mixed iteration */
    int64_t decode_batch;     /* typical decodes in flight */
    int64_t decode_context;   /* typical context of those decodes, tokens */
    int64_t min_budget;       /* never below this (e.g. one decode batch + 1 chunk granule) */
    int64_t max_budget;       /* never above this */
    int64_t granule;          /* budgets are multiples of this (e.g. 256) */
} ls_budget_params;

/* The time between two tokens of every decode in an iteration of batch b when
 * PP has one micro-batch in flight: the stage times, the p-1 boundary
 * transfers and the engine overhead (shared with sched_budget.c). */
double ls_budget_iteration_s(const ls_cost_model *cm, const ls_batch_agg *b);

/* The chosen budget, within [min_budget, max_budget]. Deterministic. */
int64_t ls_budget_auto(const ls_cost_model *cm, const ls_budget_params *p);

#endif
