/* bound.h -- cheap analytic bounds on what a configuration can achieve, without
 * simulating it: a floor under its TPOT and a ceiling over its capacity. For
 * `llmsweep plan`, which prunes candidates that cannot meet the SLO at any of
 * its loads before anything is simulated (docs/PLAN.md, "Pruning by bound").
 *
 * Both come from the configuration's own cost model (the roofline: the same
 * iteration times the engine charges), evaluated on the cheapest iterations
 * there are, so that every simulated run is at least as slow:
 *   - TPOT floor: one decode of one sequence at context 1, through every
 *     pipeline stage plus the engine overhead. Every inter-token gap of every
 *     request spans at least one such iteration, so tpot_p99 >= the floor.
 *   - capacity ceiling, the lower of two: (a) the prompts of the requests that
 *     must get their first token within the TTFT limit (98%: 99% complete,
 *     less the 1% the p99 may leave over the limit) need their prefill at the
 *     best per-token cost (a full budget of tokens at context 0) on each
 *     pipeline stage, spread over dp replicas, done by the last arrival plus
 *     the TTFT limit; (b) every token of the 99% with the fewest (and their
 *     decodes in iterations of at most max_num_seqs at the one-decode cost),
 *     done by the last arrival plus the TTFT limit plus the longest output at
 *     the TPOT limit. The arrival span shrinks as 1/rate (trace times
 *     rescaled), or the request count grows with it (synthetic arrivals in a
 *     fixed window: the same draws rescaled in time), which gives the highest
 *     rate at which the work can fit.
 * The bounds ignore KV reads, attention over context, preemption, queueing and
 * imbalance, so they are loose (the ceiling is typically 1.5-3x the capacity
 * the search finds); tests/e2e/plan.sh checks them against simulated runs.
 * No bound (NaN floor, infinite ceiling) for what the argument does not cover:
 * disaggregated pools, mixed replica groups, speculative decoding, prefix caching (prompts cost less),
 * cost models other than the roofline. */
#ifndef LS_BOUND_H
#define LS_BOUND_H

#include <stdint.h>

#include "replay.h"

/* What the workload asks of every configuration, measured once from its request
 * stream at a reference rate (plan.c). */
typedef struct ls_bound_work {
    double rate;        /* req/s the stream was read at */
    double span_s;      /* last minus first arrival at that rate (scales as 1 / rate) */
    bool fixed_window;  /* synthetic arrivals in a fixed window: the request count grows with the
                           rate instead of the span shrinking */
    double window_s;    /* that window (fixed_window) */
    double tokens_99;   /* prompt + output tokens of the 99% of requests with the fewest */
    double decodes_99;  /* decode steps (output tokens - 1) of the 99% with the fewest */
    double prompts_98;  /* prompt tokens of the ~98% with the fewest: the requests that complete (99%)
                           less those a tail over the TTFT limit may hold (1% + 1) */
    double max_output;  /* the longest output, tokens */
    int64_t n_requests, n_too_long; /* read, and of them with a prompt over max_model_len (rejected) */
    int64_t n_over_context; /* with prompt + output over max_model_len (n_too_long included) */
} ls_bound_work;

typedef struct ls_bounds {
    double tpot_floor_s;   /* NaN: no bound */
    double capacity_rps;   /* ceiling; INFINITY: no bound */
} ls_bounds;

/* The bounds of `c` on workload `w` (outputs already capped at max_model_len by the
 * caller). An infeasible configuration (memory) gets no bound; errors are bugs or
 * bad cost tables. */
ls_status ls_config_bounds(const ls_run_config *c, const ls_bound_work *w, ls_bounds *out, ls_error *e);

#endif
