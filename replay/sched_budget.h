/* sched_budget.h -- the adaptive token budget (`scheduler.adaptive_budget`).
 *
 * Sarathi-Serve's idea (Agrawal et al., OSDI'24: a token budget chosen from
 * the TBT SLO so that prefill chunks never stall the decodes beyond it), made
 * per step: where `max_batched_tokens: auto` (budget.c) picks one budget for
 * an assumed decode batch, this picks each step's from the decode batch that
 * is actually running. The rule, for the step being formed:
 *   D   = the decodes it will run (lazy cohorts and explicit decoders not in
 *         flight), with their KV context;
 *   c   = the context of the prefill that goes first (the oldest running
 *         request still prefilling, else 0: a new prompt);
 *   T(P)= the cost model's time (stage times + PP transfers + overhead, as
 *         budget.c) of D plus one chunk of P tokens on context c;
 *   P*  = the largest multiple of 16 tokens in [0, max_batched_tokens - |D|]
 *         with T(P) <= target_tbt_s (binary search: T grows with P), but at
 *         least LS_SCHED_BUDGET_FLOOR tokens so that prompts still progress
 *         when the decodes alone exceed the target;
 *   budget = |D| + P*.
 * Several smaller chunks cost no more than one chunk of their sum (attention
 * grows with q^2 and q·c), so with PP 1 the step time stays <= target_tbt_s
 * whenever the decodes alone fit it. Steps without prefill work keep the
 * whole budget (no search). Speculative drafts are not in the prediction. */
#ifndef LS_SCHED_BUDGET_H
#define LS_SCHED_BUDGET_H

#include <stdint.h>

struct ls_replica;

#define LS_SCHED_BUDGET_FLOOR 64
#define LS_SCHED_BUDGET_GRANULE 16

/* The token budget of the step being formed on r (r->cfg.adaptive_budget with
 * r->cfg.cost set): between LS_SCHED_BUDGET_FLOOR-ish and max_batched_tokens. */
int64_t ls_sched_budget(const struct ls_replica *r);

#endif
